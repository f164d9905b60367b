"""Billing under concurrency on SQLite and on PostgreSQL (real row locks, a connection pool):
webhook replays racing the return route, refunds racing each other, subscription events racing,
checkouts racing for the customer."""

from __future__ import annotations

import asyncio
import itertools
import time
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from models import (
    Account,
    CheckoutSession,
    CreditDispute,
    LedgerEntry,
    PlanId,
    StripeEvent,
    StripeSubscription,
)
from resolvers.billing import checkout_flow as billing
from resolvers.billing import webhooks
from resolvers.billing.stripe_api import StripeGateway
from resolvers.ledger import entries as ledger
from resolvers.limits.per_window import MemoryWindowLimiter

NOW = datetime(2026, 6, 1, tzinfo=UTC)
_emails = itertools.count()


@pytest.fixture
async def gateway(stripe_fake):
    ticks = itertools.count(int(time.time()))
    stripe_fake.clock = lambda: next(ticks)
    gw = StripeGateway(stripe_fake.key, stripe_fake.url, max_network_retries=0)
    yield gw
    await gw.close()


def window() -> MemoryWindowLimiter:
    """A fresh limiter each call: the per-account Stripe budget is not what is tested here."""
    return MemoryWindowLimiter()


async def account() -> Account:
    return await Account.create(email=f"db{next(_emails)}@example.com", password_hash="x")


async def open_session(acct: Account, gateway, **kwargs) -> str:
    link = await billing.start_checkout(
        acct, gateway, base_url="http://t", now=NOW, window=window(), **kwargs
    )
    return link.url.rsplit("/", 1)[1]


async def test_replays_and_returns_race_and_credit_once(db, stripe_fake, gateway):
    acct = await account()
    sid = await open_session(acct, gateway, credits=25)
    completed = stripe_fake.complete_checkout(sid)[0]
    results = await asyncio.gather(
        *(webhooks.handle_event(completed, gateway, NOW) for _ in range(10)),
        *(billing.complete_return(sid, acct.id, gateway, NOW, window()) for _ in range(5)),
    )
    assert sorted(results[:10]) == ["duplicate"] * 9 + ["processed"]
    assert set(results[10:]) == {"complete"}
    assert await StripeEvent.filter(id=completed["id"]).count() == 1
    assert await LedgerEntry.filter(account_id=acct.id).count() == 1
    assert await ledger.balance_of(acct.id) == Decimal("25")


async def test_refunds_race_and_add_up(db, stripe_fake, gateway):
    acct = await account()
    sid = await open_session(acct, gateway, credits=50)
    for event in stripe_fake.complete_checkout(sid):
        await webhooks.handle_event(event, gateway, NOW)
    pi = stripe_fake.get("checkout_session", sid)["payment_intent"]
    refunds = [
        next(e for e in stripe_fake.refund(pi, cents) if e["type"] == "charge.refunded")
        for cents in (1000, 500, 2000)
    ]
    await asyncio.gather(*(webhooks.handle_event(e, gateway, NOW) for e in refunds * 3))
    assert await ledger.balance_of(acct.id) == Decimal("15")
    taken = await LedgerEntry.filter(account_id=acct.id, service="purchase_refund")
    assert sum(e.amount for e in taken) == Decimal("35")


async def test_subscription_events_race_and_the_newest_wins(db, stripe_fake, gateway):
    from resolvers.billing.stripe_sync import sync

    await sync(gateway)
    acct = await account()
    sid = await open_session(acct, gateway, plan=PlanId.PRO)
    events = stripe_fake.complete_checkout(sid)
    sub_id = stripe_fake.get("checkout_session", sid)["subscription"]
    agency = next(p for p in stripe_fake.all("price") if p["lookup_key"] == "ogapi_agency_monthly")
    events.append(stripe_fake.set_subscription(sub_id, price=agency["id"]))
    events.append(stripe_fake.set_subscription(sub_id, cancel_at_period_end=True))
    await asyncio.gather(*(webhooks.handle_event(e, gateway, NOW) for e in reversed(events * 2)))
    acct = await Account.get(id=acct.id)
    assert acct.plan == PlanId.AGENCY and acct.subscription_status == "active"
    row = await StripeSubscription.get(id=sub_id)
    assert row.cancel_at_period_end and row.plan == PlanId.AGENCY


async def test_checkouts_race_for_one_customer(db, stripe_fake, gateway):
    acct = await account()
    await asyncio.gather(*(open_session(acct, gateway, credits=5) for _ in range(6)))
    assert len(stripe_fake.all("customer")) == 1
    stored = (await Account.get(id=acct.id)).stripe_customer_id
    assert {s["customer"] for s in stripe_fake.all("checkout_session")} == {stored}


async def test_upgrades_opened_at_once_leave_one_open(db, stripe_fake, gateway):
    from resolvers.billing.stripe_sync import sync

    await sync(gateway)
    acct = await account()
    sids = await asyncio.gather(*(open_session(acct, gateway, plan=PlanId.PRO) for _ in range(5)))
    statuses = [stripe_fake.get("checkout_session", s)["status"] for s in sids]
    assert sorted(statuses) == ["expired"] * 4 + ["open"]
    newest = await CheckoutSession.filter(account_id=acct.id).order_by("-id").first()
    assert (
        newest is not None
        and stripe_fake.get("checkout_session", newest.stripe_id)["status"] == "open"
    )


async def test_dispute_events_race_and_move_money_once(db, stripe_fake, gateway):
    acct = await account()
    pis = []
    for credits in (50, 25):
        sid = await open_session(acct, gateway, credits=credits)
        for event in stripe_fake.complete_checkout(sid):
            await webhooks.handle_event(event, gateway, NOW)
        pis.append(stripe_fake.get("checkout_session", sid)["payment_intent"])
    events = []
    for pi, outcome in zip(pis, ("won", "lost"), strict=True):
        opened = stripe_fake.dispute(pi)
        events += opened + stripe_fake.close_dispute(opened[0]["data"]["object"]["id"], outcome)
    await asyncio.gather(*(webhooks.handle_event(e, gateway, NOW) for e in reversed(events * 3)))
    assert await ledger.balance_of(acct.id) == Decimal("50")  # the lost $25 stays taken
    taken = await LedgerEntry.filter(account_id=acct.id, service="purchase_dispute")
    assert sum(e.amount if e.type == "usage" else -e.amount for e in taken) == Decimal("25")
    assert sorted(await CreditDispute.all().values_list("status", flat=True)) == ["lost", "won"]
