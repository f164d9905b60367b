"""Renders that take longer than OGAPI_RESERVATION_TIMEOUT on a live worker keep their quota
reservation and overage charge: the sweepers (this worker's and another's) give back only what a
dead worker left behind (resolvers/metering/meter.py, docs/operations.md "Faults and recovery")."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from models import Account, LedgerEntry, PlanId, QuotaReservation
from resolvers.accounts.keys import active_key, reveal
from resolvers.ledger import entries as ledger
from tests.conftest import set_account
from tests.web.conftest import T0, sign_up
from tests.web.imaging import CountingPool, client_with_pool, used
from web.appkeys import secret_box_key


async def test_renders_slower_than_the_timeout_are_not_given_back(aiohttp_client, make_app, clock):
    clock.set(T0)
    # Two workers on one database, each sweeping every 0.5 s for reservations older than 2 s.
    a = await client_with_pool(aiohttp_client, make_app, CountingPool(delay=4.0),
                               reservation_timeout=2)  # fmt: skip
    await client_with_pool(aiohttp_client, make_app, CountingPool(), reservation_timeout=2)
    await sign_up(a, "slow@example.com")
    account = await Account.get(email="slow@example.com")
    await set_account(account.id, plan=PlanId.STARTER, custom_quota=1, overage_enabled=True)
    await ledger.grant(account.id, Decimal("1.00"), T0)
    key = reveal(await active_key(account), a.app[secret_box_key])

    async def render(title: str) -> int:
        resp = await a.get("/api/generate", params={"title": title}, headers={"X-API-Key": key})
        await resp.read()
        return resp.status

    # One image in the quota, one paid overage; each render takes 4 s.
    first = asyncio.ensure_future(render("Slow one"))
    await asyncio.sleep(0.3)
    assert await render("Slow two") == 200
    assert await first == 200
    assert await used(account.id, T0) == 2
    assert await QuotaReservation.all().count() == 0
    assert not await LedgerEntry.filter(account_id=account.id, type="refund").exists()
    assert await ledger.balance_of(account.id) == Decimal("0.98")  # one overage image, $0.02
