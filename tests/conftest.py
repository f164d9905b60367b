"""Shared fixtures: a real app on a real SQLite file (migrated once, copied per test)."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from models.db import migrate
from web.app import create_app
from web.settings import Settings

TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"
PASSWORD = "correct horse battery"


@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite database per test session; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    asyncio.run(migrate(f"sqlite://{path}"))
    return path


class Clock:
    """A controllable clock for the app (tests only): `clock.set(datetime(...))`."""

    def __init__(self) -> None:
        self.fixed: datetime | None = None

    def __call__(self) -> datetime:
        return self.fixed or datetime.now(UTC)

    def set(self, value: datetime) -> None:
        self.fixed = value


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings(tmp_path: Path, migrated_db: Path) -> Settings:
    db = tmp_path / "test.sqlite3"
    shutil.copy(migrated_db, db)
    return Settings(
        secret_key=TEST_SECRET,
        database_url=f"sqlite://{db}",
        base_url="http://testserver",
        render_workers=0,
        allow_private_fetch=True,
    )


@dataclass
class AppFactory:
    settings: Settings
    clock: Clock

    def __call__(self, **overrides):
        return create_app(replace(self.settings, **overrides), clock=self.clock)


@pytest.fixture
def make_app(settings: Settings, clock: Clock) -> Callable:
    return AppFactory(settings, clock)


@pytest.fixture
async def client(aiohttp_client, make_app):
    return await aiohttp_client(make_app())


@dataclass
class User:
    id: int
    email: str
    password: str
    api_key: str


@pytest.fixture
def signup(client):
    """Sign up through the real endpoint; returns the user with its API key (session in client)."""
    counter = iter(range(10_000))

    async def make(email: str | None = None, password: str = PASSWORD, plan: str | None = None) -> User:
        from models import Account, PlanId
        from resolvers.keys import active_key, reveal

        email = email or f"user{next(counter)}@example.com"
        resp = await client.post("/api/auth/signup", json={"email": email, "password": password})
        assert resp.status == 201, await resp.text()
        account = await Account.get(email=email)
        if plan:
            account.plan = PlanId(plan)
            await account.save(update_fields=["plan"])
        key = await active_key(account)
        return User(account.id, email, password, reveal(key, client.app[_box_key()]))

    return make


def _box_key():
    from web.keys import secret_box_key

    return secret_box_key
