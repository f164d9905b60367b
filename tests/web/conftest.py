"""Fixtures shared by the image-API tests: a client whose renders are counted, and a factory of
signed-up accounts with their API keys. A module may override `api` (e.g. without a clock)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from models import Account, PlanId
from resolvers.keys import active_key, reveal
from tests.conftest import PASSWORD, User
from tests.web.imaging import CountingPool, client_with_pool, set_account
from web.appkeys import secret_box_key

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
        email = f"user{next(counter)}@example.com"
        resp = await api.post("/api/auth/signup", json={"email": email, "password": PASSWORD})
        assert resp.status == 201
        acct = await Account.get(email=email)
        await set_account(acct.id, plan=PlanId(plan), **account)
        key = reveal(await active_key(acct), api.app[secret_box_key])
        return User(acct.id, email, PASSWORD, key)

    return make
