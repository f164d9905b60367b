"""Shared fixtures: a real app on a real SQLite file (migrated once, copied per test)."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from models.db import migrate
from tests import services
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


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashes() -> Iterator[None]:
    """argon2id at its lowest cost for in-process tests: the production parameters (64 MiB,
    three passes, ~0.15 s of both cores per hash or check) made sign-ups and logins a large
    share of the suite's time. Same algorithm and code paths; `ogapi` processes the tests
    start (tests/web/cli, tests/e2e's demo data, tests/clients) still hash at full cost."""
    from argon2 import PasswordHasher

    from resolvers.accounts import passwords

    real = passwords._hasher, passwords._DUMMY_HASH
    passwords._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    passwords._DUMMY_HASH = passwords._hasher.hash("not-a-real-password-just-for-timing")
    yield
    passwords._hasher, passwords._DUMMY_HASH = real


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


STACKS = ("sqlite+memory", "postgres+redis")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Modules marked `both_stacks` run each test twice: on the embedded default (SQLite, the
    in-process cache and limiter) and on PostgreSQL + Redis, the production stack."""
    if metafunc.definition.get_closest_marker("both_stacks") and "stack" in metafunc.fixturenames:
        metafunc.parametrize("stack", STACKS, indirect=True)


@pytest.fixture
def stack(request: pytest.FixtureRequest) -> str:
    return getattr(request, "param", STACKS[0])


@pytest.fixture
def settings(
    request: pytest.FixtureRequest, stack: str, tmp_path: Path, migrated_db: Path
) -> Iterator[Settings]:
    # Tests sign up many accounts from one address: the sign-up throttle is off unless a test
    # turns it on (tests/web/routes/test_signup_throttle.py).
    store = f"file://{tmp_path / 'images'}"  # the default kind of image store
    base = Settings(secret_key=TEST_SECRET, base_url="http://testserver", render_workers=0,
                    allow_private_fetch=True, signups_per_hour=0, image_store=store)  # fmt: skip
    if stack == "sqlite+memory":
        db = tmp_path / "test.sqlite3"
        shutil.copy(migrated_db, db)
        yield replace(base, database_url=f"sqlite://{db}")
        return
    from tortoise.backends.base.executor import EXECUTOR_CACHE

    pg, redis_url = request.getfixturevalue("postgres_url"), request.getfixturevalue("redis_url")
    services.run_in_thread(services.reset_postgres, pg)
    services.flush_redis(redis_url)
    EXECUTOR_CACHE.clear()  # Tortoise caches SQL text per connection name, whatever the dialect
    yield replace(base, database_url=pg, redis_url=redis_url)
    EXECUTOR_CACHE.clear()


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


async def set_account(user_id: int, **values):
    """Change account columns and announce it, as the resolvers that change accounts do (the
    key caches forget the account; see resolvers/accounts/keycache.py)."""
    from models import Account
    from resolvers.accounts import keycache

    account = await Account.get(id=user_id)
    for name, value in values.items():
        setattr(account, name, value)
    await account.save(update_fields=list(values))
    await keycache.account_changed(user_id)
    return account


async def new_user(
    client, email: str, password: str = PASSWORD, plan: str | None = None, **account
) -> User:
    """The one user factory: sign `email` up through the real endpoint (its session stays in
    `client`), set `plan` and other account columns (`set_account`), return it with its key."""
    from models import Account, PlanId
    from resolvers.accounts.keys import active_key, reveal
    from web.appkeys import secret_box_key

    resp = await client.post("/api/auth/signup", json={"email": email, "password": password})
    assert resp.status == 201, await resp.text()
    acct = await Account.get(email=email)
    values = {**({"plan": PlanId(plan)} if plan else {}), **account}
    if values:
        acct = await set_account(acct.id, **values)
    key = await active_key(acct)
    return User(acct.id, email, password, reveal(key, client.app[secret_box_key]))


@pytest.fixture
def signup(client):
    """Sign up through the real endpoint; returns the user with its API key (session in client)."""
    counter = iter(range(10_000))

    async def make(
        email: str | None = None, password: str = PASSWORD, plan: str | None = None
    ) -> User:
        return await new_user(client, email or f"user{next(counter)}@example.com", password, plan)

    return make


class Inbox:
    """Messages received by the loopback SMTP server."""

    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        from email import message_from_bytes, policy

        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"

    async def wait_for(self, count: int = 1, seconds: float = 5.0) -> list:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        # aiosmtpd delivers on its own thread and loop: poll rather than share an Event.
        while len(self.messages) < count and loop.time() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
        return self.messages


@pytest.fixture
def smtp_server():
    """A real SMTP server (aiosmtpd) on 127.0.0.1; yields (port, inbox)."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


@pytest.fixture
def smtp_settings(settings, smtp_server):
    """Settings whose mail goes to the loopback SMTP server."""
    port, _ = smtp_server
    return replace(
        settings, smtp_host="127.0.0.1", smtp_port=port, smtp_from="OG Image API <noreply@og.test>"
    )


@pytest.fixture
async def stripe_fake():
    """A fake Stripe API on 127.0.0.1 (tests/stripe_fake.py), in the test's event loop."""
    from tests.stripe_fake import running

    async with running() as fake:
        yield fake


@pytest.fixture
def billing_settings(settings, stripe_fake):
    """Settings with billing on, against the fake Stripe (no retries: failures show at once)."""
    return replace(
        settings,
        stripe_secret_key=stripe_fake.key,
        stripe_api_base=stripe_fake.url,
        stripe_webhook_secret=stripe_fake.webhook_secret,
        stripe_max_network_retries=0,
    )


@pytest.fixture
async def billing_client(aiohttp_client, billing_settings, clock):
    """A client of the real app with billing on, against `stripe_fake`."""
    return await aiohttp_client(create_app(billing_settings, clock=clock))


@pytest.fixture
async def stripe_prices(stripe_fake):
    """The paid plans' products and prices, made by `ogapi stripe sync`'s resolver."""
    from resolvers.billing.stripe_api import StripeGateway
    from resolvers.billing.stripe_sync import sync

    gateway = StripeGateway(stripe_fake.key, stripe_fake.url, max_network_retries=0)
    try:
        await sync(gateway)
    finally:
        await gateway.close()
    return {p["lookup_key"]: p for p in stripe_fake.all("price")}


# Private PostgreSQL and Redis servers (tests/services.py), one each per test session.
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


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[services.MotoS3]:
    """An S3-compatible server (moto's server mode) on 127.0.0.1 for the image-store tests."""
    server = services.MotoS3()
    try:
        yield server
    finally:
        server.stop()
