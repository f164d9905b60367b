"""Fixtures for the metering tests: a database per test (SQLite copy, or a private PostgreSQL
emptied between tests) and a private Redis. See tests/services.py."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import asynccontextmanager

import pytest
from tortoise.backends.base.executor import EXECUTOR_CACHE

from models.db import database, migrate
from tests import services


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    if services.postgres_bin() is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    with services.postgres_server() as url:
        services.run_in_thread(migrate, url)
        yield url


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    if shutil.which("redis-server") is None:
        pytest.skip("Redis is not installed (apt-get install redis-server)")
    with services.redis_server() as url:
        yield url


@pytest.fixture
async def pg(postgres_url: str) -> str:
    """An empty migrated PostgreSQL database for this test; returns its URL."""
    await services.reset_postgres(postgres_url)
    return postgres_url


@pytest.fixture(params=["sqlite", "postgres"])
async def db(request, settings):
    """The ORM opened on SQLite, then on PostgreSQL: the same test runs on both."""
    if request.param == "sqlite":
        url = settings.database_url
    else:
        url = request.getfixturevalue("postgres_url")
        await services.reset_postgres(url)
    async with on_database(url):
        yield request.param


@asynccontextmanager
async def on_database(url: str):
    """Open the ORM on `url`. Tortoise caches SQL text per connection name, whatever the
    dialect, so switching between SQLite and PostgreSQL in one process must clear that cache."""
    EXECUTOR_CACHE.clear()
    try:
        async with database(url):
            yield
    finally:
        EXECUTOR_CACHE.clear()
