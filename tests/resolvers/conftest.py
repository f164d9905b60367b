"""Fixtures for the metering tests: a database per test (SQLite copy, or a private PostgreSQL
emptied between tests; `postgres_url`, `pg` and `redis_url` live in tests/conftest.py)."""

from __future__ import annotations

from contextlib import asynccontextmanager

import pytest
from tortoise.backends.base.executor import EXECUTOR_CACHE

from models.db import database
from tests import services


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
