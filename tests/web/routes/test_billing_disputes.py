"""Disputes of credit purchases through signed webhooks (docs/billing.md "Webhooks"): the
disputed credits are taken back (never below zero, once per dispute) and given back once when
the dispute is won."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

from models import CreditDispute, LedgerEntry
from resolvers.ledger import entries as ledger
from tests.schema.conftest import GQL
from tests.web.routes.test_billing_checkout import signup
from tests.web.routes.test_stripe_webhooks import balance, buy, deliver, deliver_all, ok, ticking

__all__ = ["ticking"]  # the fixture, imported for these tests


async def paid_credits(client, fake, credits: int) -> str:
    s = await buy(client, fake, credits=credits)
    await deliver_all(client, fake, fake.complete_checkout(s["id"]))
    return fake.get("checkout_session", s["id"])["payment_intent"]


def created_of(events: list[dict]) -> dict:
    return next(e for e in events if e["type"] == "charge.dispute.created")


def closed_of(events: list[dict]) -> dict:
    return next(e for e in events if e["type"] == "charge.dispute.closed")


async def entries(account_id: int) -> list[tuple[str, str, Decimal, str | None]]:
    rows = await LedgerEntry.filter(account_id=account_id, service="purchase_dispute")
    return [(e.type, e.service, e.amount, e.external_ref) for e in rows]


async def test_a_dispute_takes_the_credits_back_and_a_won_one_gives_them_back_once(
    billing_client, ticking, stripe_prices
):
    fake = ticking
    account = await signup(billing_client)
    pi = await paid_credits(billing_client, fake, 25)
    await paid_credits(billing_client, fake, 10)
    assert await balance(account.id) == Decimal("35")
    opened = fake.dispute(pi)
    created = created_of(opened)
    dp = created["data"]["object"]["id"]
    # Delivered five times at once, and the other dispute events Stripe sends: taken once.
    await asyncio.gather(*(deliver(billing_client, fake, created) for _ in range(5)))
    assert await deliver_all(billing_client, fake, opened) == ["duplicate", "ignored"]
    assert await balance(account.id) == Decimal("10")
    row = await CreditDispute.get(id=dp)
    assert (row.status, row.amount_cents, row.taken) == ("open", 2500, Decimal("25"))
    closed = fake.close_dispute(dp, "won")
    await asyncio.gather(*(deliver(billing_client, fake, e) for e in closed * 3))
    assert await balance(account.id) == Decimal("35")
    assert await entries(account.id) == [
        ("usage", "purchase_dispute", Decimal("25"), f"{dp}:taken"),
        ("refund", "purchase_dispute", Decimal("25"), f"{dp}:returned"),
    ]
    assert (await CreditDispute.get(id=dp)).status == "won"
    # A late replay of `created` after the close takes nothing again.
    assert await ok(billing_client, fake, created) == "duplicate"
    late = created | {"id": "evt_late_copy"}  # the same dispute under another event id
    assert await ok(billing_client, fake, late) == "processed"
    assert await balance(account.id) == Decimal("35")
    # The dashboard's statistics: the dispute is not spend.
    data = await GQL(billing_client).data("{ balance { totalSpent creditsUsed totalRefunded } }")
    stats = {k: Decimal(v) for k, v in data["balance"].items()}
    assert stats == {"totalSpent": 25, "creditsUsed": 0, "totalRefunded": 25}


async def test_never_below_zero_and_only_what_was_taken_comes_back(
    billing_client, ticking, stripe_prices
):
    fake = ticking
    account = await signup(billing_client)
    pi = await paid_credits(billing_client, fake, 25)
    await ledger.charge(account.id, Decimal("20"), "ai_images", datetime.now(UTC))
    opened = fake.dispute(pi)
    await deliver_all(billing_client, fake, opened)
    assert await balance(account.id) == 0  # $5 left to take of the $25 disputed
    dp = created_of(opened)["data"]["object"]["id"]
    assert (await CreditDispute.get(id=dp)).taken == Decimal("5")
    await paid_credits(billing_client, fake, 10)  # later credits are not taken for the rest
    assert await balance(account.id) == Decimal("10")
    await deliver_all(billing_client, fake, fake.close_dispute(dp, "won"))
    assert await balance(account.id) == Decimal("15")


async def test_a_lost_dispute_keeps_them_and_events_in_any_order(
    billing_client, ticking, stripe_prices
):
    fake = ticking
    account = await signup(billing_client)
    pi_lost = await paid_credits(billing_client, fake, 50)
    pi_won = await paid_credits(billing_client, fake, 10)
    pi_kept = await paid_credits(billing_client, fake, 5)
    assert await balance(account.id) == Decimal("65")
    # Lost, delivered in order: taken, and stays taken.
    opened = fake.dispute(pi_lost)
    await deliver_all(billing_client, fake, opened)
    dp = created_of(opened)["data"]["object"]["id"]
    await deliver_all(billing_client, fake, fake.close_dispute(dp, "lost"))
    assert await balance(account.id) == Decimal("15")
    # Won, but `closed` arrives first: nothing taken, and the late `created` takes nothing.
    opened = fake.dispute(pi_won)
    dp = created_of(opened)["data"]["object"]["id"]
    closed = fake.close_dispute(dp, "won")
    await deliver_all(billing_client, fake, closed + opened)
    assert await balance(account.id) == Decimal("15")
    assert (await CreditDispute.get(id=dp)).status == "won"
    # Lost, `closed` first: the credits are taken then, once.
    opened = fake.dispute(pi_kept)
    dp = created_of(opened)["data"]["object"]["id"]
    await ok(billing_client, fake, closed_of(fake.close_dispute(dp, "lost")))
    await deliver_all(billing_client, fake, opened)
    assert await balance(account.id) == Decimal("10")


async def test_an_inquiry_closed_gives_back_and_a_refunded_part_is_not_taken_twice(
    billing_client, ticking, stripe_prices
):
    fake = ticking
    account = await signup(billing_client)
    pi = await paid_credits(billing_client, fake, 50)
    refunded = fake.refund(pi, 2000)  # $20 refunded before the dispute
    await deliver_all(billing_client, fake, refunded)
    assert await balance(account.id) == Decimal("30")
    opened = fake.dispute(pi, 5000, inquiry=True)  # claims all $50: only $30 is left to take
    dp = created_of(opened)["data"]["object"]["id"]
    await deliver_all(billing_client, fake, opened)
    assert await balance(account.id) == 0
    assert (await CreditDispute.get(id=dp)).amount_cents == 3000
    await deliver_all(billing_client, fake, fake.close_dispute(dp, "warning_closed"))
    assert await balance(account.id) == Decimal("30")


async def test_disputes_of_other_charges_change_nothing(billing_client, ticking, stripe_prices):
    fake = ticking
    account = await signup(billing_client)
    await paid_credits(billing_client, fake, 10)
    s = await buy(billing_client, fake, plan="PRO")
    await deliver_all(billing_client, fake, fake.complete_checkout(s["id"]))
    foreign = {"id": "dp_other", "object": "dispute", "amount": 1900, "charge": "ch_sub",
               "payment_intent": "pi_subscription", "currency": "usd",
               "status": "needs_response"}  # fmt: skip
    assert await ok(billing_client, fake, fake.event("charge.dispute.created", foreign)) == (
        "processed"
    )
    assert await balance(account.id) == Decimal("10")
    assert not await CreditDispute.exists(id="dp_other")
