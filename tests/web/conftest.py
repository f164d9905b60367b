"""Fixtures shared by the image-API tests: a client whose renders are counted, and a factory of
signed-up accounts with their API keys. A module may override `api` (e.g. without a clock).
For the password-reset tests: a client that sends mail over SMTP, and the token of a mail.
For the previews: the rate limiters on a clock the test moves (`ticker`, `limit_on`)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from resolvers.limits.per_second import MemoryRateLimiter, RedisRateLimiter
from resolvers.limits.per_window import MemoryWindowLimiter, RedisWindowLimiter
from tests.conftest import User, new_user
from tests.web.imaging import CountingPool, client_with_pool
from web.appkeys import meter_key, redis_key, window_limiter_key

T0 = datetime(2026, 5, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
async def pool():
    return CountingPool()


@pytest.fixture
async def api(aiohttp_client, make_app, pool, clock):
    clock.set(T0)
    return await client_with_pool(aiohttp_client, make_app, pool)


@pytest.fixture
def user_factory(api):
    """Sign up on the `api` client (the `signup` fixture is bound to the default client)."""
    counter = iter(range(1000))

    async def make(plan: str = "publishing", **account) -> User:
        return await new_user(api, f"user{next(counter)}@example.com", plan=plan, **account)

    return make


@pytest.fixture
async def mail_client(aiohttp_client, smtp_settings, clock):
    """A client of an app whose mail goes to the `smtp_server` fixture."""
    from web.app import create_app

    return await aiohttp_client(create_app(smtp_settings, clock=clock))


def reset_token(message, link: str) -> str:
    """The token of the password-reset `message`: the group of the regex `link` in its body."""
    body = message.get_body(("plain",)).get_content()
    match = re.search(link, body)
    assert match, body
    return match.group(1)


async def sign_up(client, email: str) -> None:
    """Sign up `email` (with PASSWORD) on `client`; its session stays in the client."""
    await new_user(client, email)


class Ticker:
    """The rate limiters' clock, held still unless a test moves it."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ticker() -> Ticker:
    return Ticker()


def limit_on(app, ticker: Ticker) -> None:
    """Put `app`'s rate limit and its preview budget (the window limiter) on `ticker`: in the
    app's Redis on the production stack (shared by its workers), else in memory."""
    if (redis := app[redis_key]) is not None:
        app[meter_key].limiter = RedisRateLimiter(redis, owns_client=False, clock=ticker)
        app[window_limiter_key] = RedisWindowLimiter(redis, clock=ticker)
    else:
        app[meter_key].limiter = MemoryRateLimiter(clock=ticker)
        app[window_limiter_key] = MemoryWindowLimiter(clock=ticker)
