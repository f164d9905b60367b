"""POST /api/stripe/webhook against the fake Stripe: signatures, once per event, order,
subscriptions, invoices, asynchronous payments and refunds (docs/billing.md)."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import replace
from decimal import Decimal

import pytest

from models import (
    Account,
    CreditPurchase,
    Invoice,
    LedgerEntry,
    PlanId,
    StripeEvent,
    StripeSubscription,
)
from resolvers.accounts.keys import active_key, reveal
from resolvers.ledger import entries as ledger
from tests.schema.conftest import GQL
from tests.web.routes.test_billing_checkout import checkout, session_of, signup
from web.app import create_app
from web.appkeys import secret_box_key

HOOK = "/api/stripe/webhook"


async def deliver(client, fake, event: dict, *, secret=None, timestamp=None, header=None):
    payload = json.dumps(event)
    if header is None:
        header = fake.sign(payload, secret=secret, timestamp=timestamp)
    headers = {"Content-Type": "application/json"}
    if header:
        headers["Stripe-Signature"] = header
    return await client.post(HOOK, data=payload, headers=headers)


async def ok(client, fake, event: dict) -> str:
    resp = await deliver(client, fake, event)
    assert resp.status == 200, await resp.text()
    return (await resp.json())["outcome"]


async def deliver_all(client, fake, events: list[dict]) -> list[str]:
    return [await ok(client, fake, e) for e in events]


@pytest.fixture
def ticking(stripe_fake):
    """Stripe's clock moves one second per object or event: `created` orders them."""
    ticks = itertools.count(int(time.time()))
    stripe_fake.clock = lambda: next(ticks)
    return stripe_fake


async def buy(client, fake, plan=None, credits=None) -> dict:
    variables = {"plan": plan} if plan else {"credits": credits}
    return session_of(fake, await checkout(GQL(client), **variables))


async def ledger_total(account_id: int) -> Decimal:
    total = Decimal(0)
    for e in await LedgerEntry.filter(account_id=account_id):
        total += e.amount if e.type in ("purchase", "refund") else -e.amount
    return total


async def balance(account_id: int) -> Decimal:
    value = (await Account.get(id=account_id)).balance
    assert value == await ledger_total(account_id) and value >= 0
    return value


# Signatures ---------------------------------------------------------------------------------


async def test_signatures_tolerance_and_rotation(
    aiohttp_client, billing_settings, billing_client, clock, stripe_fake
):
    event = stripe_fake.event("customer.created", {"id": "cus_x", "object": "customer"})
    now = int(time.time())
    for kwargs in (
        {"secret": "whsec_wrong"},
        {"header": ""},
        {"header": "t=abc,v1=zzz"},
        {"timestamp": now - 3600},
        {"timestamp": now - 305},
    ):
        resp = await deliver(billing_client, stripe_fake, event, **kwargs)
        assert resp.status == 400, kwargs
        assert (await resp.json())["code"] == "INVALID_SIGNATURE"
    # A body changed after signing fails too.
    header = stripe_fake.sign(json.dumps(event))
    resp = await billing_client.post(
        HOOK, data=json.dumps(event | {"type": "x"}), headers={"Stripe-Signature": header}
    )
    assert resp.status == 400
    resp = await deliver(billing_client, stripe_fake, event, timestamp=now - 240)
    assert resp.status == 200 and (await resp.json())["outcome"] == "ignored"

    # Rotation: the new and the old secret are both accepted while both are configured.
    rotated = replace(billing_settings, stripe_webhook_secret=" whsec_new , whsec_old ")
    client = await aiohttp_client(create_app(rotated, clock=clock))
    for secret in ("whsec_new", "whsec_old"):
        assert (await deliver(client, stripe_fake, event, secret=secret)).status == 200
    resp = await deliver(client, stripe_fake, event)  # the fake's own secret is not configured
    assert resp.status == 400

    metrics = await (await billing_client.get("/metrics")).text()
    # One series per outcome, summed over workers (web/http/metrics.py).
    assert 'ogapi_stripe_webhooks_total{outcome="invalid_signature"} 6.0' in metrics
    assert 'ogapi_stripe_webhooks_total{outcome="ignored"} 1.0' in metrics


async def test_webhooks_without_secret_or_key_answer_not_configured(
    aiohttp_client, billing_settings, clock, stripe_fake
):
    event = stripe_fake.event("invoice.paid", {"id": "in_1", "object": "invoice"})
    for settings in (
        replace(billing_settings, stripe_webhook_secret=None),
        replace(billing_settings, stripe_secret_key=None),
    ):
        client = await aiohttp_client(create_app(settings, clock=clock))
        resp = await deliver(client, stripe_fake, event)
        assert resp.status == 503 and (await resp.json())["code"] == "BILLING_NOT_CONFIGURED"


# Subscriptions ------------------------------------------------------------------------------


async def test_upgrade_through_the_webhook_alone_and_its_invoice(
    billing_client, ticking, stripe_prices
):
    fake = ticking
    account = await signup(billing_client)
    s = await buy(billing_client, fake, plan="PRO")
    outcomes = await deliver_all(billing_client, fake, fake.complete_checkout(s["id"]))
    assert outcomes == ["processed"] * 3
    account = await Account.get(id=account.id)
    assert account.plan == PlanId.PRO and account.subscription_status == "active"
    invoice = await Invoice.get(account_id=account.id)
    stripe_invoice = fake.all("invoice")[0]
    assert invoice.stripe_id == stripe_invoice["id"] and invoice.number == "FAKE-0001"
    assert (invoice.amount, invoice.currency, invoice.status) == (Decimal("19"), "usd", "paid")
    assert invoice.pdf_url == stripe_invoice["invoice_pdf"]
    assert invoice.hosted_url == stripe_invoice["hosted_invoice_url"]
    data = await GQL(billing_client).data(
        "{ invoices { edges { node { number amount currency status pdfUrl hostedUrl } } } }"
    )
    node = data["invoices"]["edges"][0]["node"]
    assert node["amount"] == "19.00" and node["status"] == "paid"


async def test_out_of_order_subscription_events(billing_client, ticking, stripe_prices):
    fake = ticking
    account = await signup(billing_client)
    s = await buy(billing_client, fake, plan="PRO")
    created, _invoice_paid, completed = fake.complete_checkout(s["id"])
    sub_id = created["data"]["object"]["id"]
    upgraded = fake.set_subscription(sub_id, price=stripe_prices["ogapi_agency_monthly"]["id"])
    # `updated` (agency) before `created` (pro): the plan is agency, and stays agency.
    assert await ok(billing_client, fake, upgraded) == "processed"
    assert (await Account.get(id=account.id)).plan == PlanId.AGENCY
    assert await ok(billing_client, fake, created) == "processed"
    assert await ok(billing_client, fake, completed) == "processed"  # its fetch: agency too
    assert (await Account.get(id=account.id)).plan == PlanId.AGENCY
    # An older `updated` arriving late changes nothing.
    stale = json.loads(json.dumps(upgraded))
    stale["id"], stale["created"] = "evt_stale", upgraded["created"] - 1
    stale["data"]["object"]["items"]["data"][0]["price"] = stripe_prices["ogapi_pro_monthly"]
    await ok(billing_client, fake, stale)
    assert (await Account.get(id=account.id)).plan == PlanId.AGENCY
    # `deleted` before an `updated` sent earlier: the account is on free, and stays there.
    cancelling = fake.set_subscription(sub_id, cancel_at_period_end=True)
    deleted = fake.end_subscription(sub_id)
    await ok(billing_client, fake, deleted)
    await ok(billing_client, fake, cancelling)
    account = await Account.get(id=account.id)
    assert account.plan == PlanId.FREE and account.subscription_status == "canceled"
    assert account.stripe_subscription_id is None
    assert (await StripeSubscription.get(id=sub_id)).status == "canceled"


async def test_cancel_at_period_end_keeps_the_plan_until_the_end(
    billing_client, ticking, stripe_prices
):
    fake = ticking
    account = await signup(billing_client)
    s = await buy(billing_client, fake, plan="STARTER")
    await deliver_all(billing_client, fake, fake.complete_checkout(s["id"]))
    sub_id = fake.get("checkout_session", s["id"])["subscription"]
    await ok(billing_client, fake, fake.set_subscription(sub_id, cancel_at_period_end=True))
    account = await Account.get(id=account.id)
    assert account.plan == PlanId.STARTER and account.subscription_status == "active"
    row = await StripeSubscription.get(id=sub_id)
    assert row.cancel_at_period_end and row.current_period_end is not None
    await ok(billing_client, fake, fake.end_subscription(sub_id))  # the period ended
    account = await Account.get(id=account.id)
    assert account.plan == PlanId.FREE and account.subscription_status == "canceled"
    # A new checkout after the end is allowed again.
    assert (await buy(billing_client, fake, plan="PRO"))["mode"] == "subscription"


async def test_past_due_blocks_the_image_api_and_recovery_lifts_it_at_once(
    billing_client, ticking, stripe_prices
):
    fake = ticking
    account = await signup(billing_client)
    key = reveal(await active_key(account), billing_client.app[secret_box_key])
    s = await buy(billing_client, fake, plan="PRO")
    await deliver_all(billing_client, fake, fake.complete_checkout(s["id"]))
    sub_id = fake.get("checkout_session", s["id"])["subscription"]

    async def generate() -> tuple[int, str | None]:
        resp = await billing_client.post(
            "/api/generate", json={"title": "Hi"}, headers={"X-API-Key": key}
        )
        body = None if resp.status == 200 else (await resp.json())["code"]
        return resp.status, body

    assert (await generate())[0] == 200  # the key is in the key cache now
    failed, past_due = fake.fail_renewal(sub_id)
    await ok(billing_client, fake, past_due)
    await ok(billing_client, fake, failed)
    assert await generate() == (403, "PAYMENT_PAST_DUE")
    open_invoice = await Invoice.get(stripe_id=failed["data"]["object"]["id"])
    assert open_invoice.status == "open" and open_invoice.amount == Decimal("19")
    await ok(billing_client, fake, fake.set_subscription(sub_id, status="active"))
    assert (await generate())[0] == 200
    # `unpaid` blocks too.
    await ok(billing_client, fake, fake.set_subscription(sub_id, status="unpaid"))
    assert await generate() == (403, "PAYMENT_PAST_DUE")
    assert (await Account.get(id=account.id)).plan == PlanId.PRO


async def test_an_older_invoice_event_does_not_undo_a_newer_one(
    billing_client, ticking, stripe_prices
):
    fake = ticking
    await signup(billing_client)
    s = await buy(billing_client, fake, plan="PRO")
    await deliver_all(billing_client, fake, fake.complete_checkout(s["id"]))
    sub_id = fake.get("checkout_session", s["id"])["subscription"]
    failed, _ = fake.fail_renewal(sub_id)
    inv = fake.get("invoice", failed["data"]["object"]["id"])
    inv.update(status="paid", amount_paid=inv["amount_due"], amount_remaining=0)
    paid = fake.event("invoice.paid", inv)
    await ok(billing_client, fake, paid)
    await ok(billing_client, fake, failed)  # older: ignored by state
    assert (await Invoice.get(stripe_id=inv["id"])).status == "paid"


# Once per event -----------------------------------------------------------------------------


async def test_replays_times_ten_concurrently_have_one_effect(
    billing_client, stripe_fake, stripe_prices
):
    account = await signup(billing_client)
    s = await buy(billing_client, stripe_fake, credits=25)
    completed = stripe_fake.complete_checkout(s["id"])[0]
    assert completed["type"] == "checkout.session.completed"
    results = await asyncio.gather(
        *(deliver(billing_client, stripe_fake, completed) for _ in range(10)),
        billing_client.get(f"/billing/return?session_id={s['id']}", allow_redirects=False),
    )
    assert [r.status for r in results] == [200] * 10 + [303]
    outcomes = sorted([(await r.json())["outcome"] for r in results[:10]])
    assert outcomes == ["duplicate"] * 9 + ["processed"] or outcomes == ["duplicate"] * 10
    assert await StripeEvent.filter(id=completed["id"]).count() == 1
    assert await balance(account.id) == Decimal("25")
    assert await LedgerEntry.filter(account_id=account.id).count() == 1
    # And sequentially afterwards.
    for _ in range(10):
        assert await ok(billing_client, stripe_fake, completed) == "duplicate"
    assert await balance(account.id) == Decimal("25")


async def test_unpaid_then_async_paid_in_either_order(billing_client, stripe_fake, stripe_prices):
    account = await signup(billing_client)
    s = await buy(billing_client, stripe_fake, credits=10)
    (completed,) = stripe_fake.complete_checkout(s["id"], paid=False)
    await ok(billing_client, stripe_fake, completed)
    assert await balance(account.id) == 0
    succeeded = stripe_fake.settle_payment(s["id"])[0]
    assert succeeded["type"] == "checkout.session.async_payment_succeeded"
    await ok(billing_client, stripe_fake, succeeded)
    assert await balance(account.id) == Decimal("10")
    # The other order, for a second purchase: paid first, the unpaid `completed` late.
    s2 = await buy(billing_client, stripe_fake, credits=5)
    (completed2,) = stripe_fake.complete_checkout(s2["id"], paid=False)
    await ok(billing_client, stripe_fake, stripe_fake.settle_payment(s2["id"])[0])
    await ok(billing_client, stripe_fake, completed2)
    assert await balance(account.id) == Decimal("15")


# Failures -----------------------------------------------------------------------------------


async def test_unknown_types_are_acknowledged_failing_handlers_are_retried(
    billing_client, stripe_fake, stripe_prices
):
    account = await signup(billing_client)
    assert await ok(billing_client, stripe_fake, stripe_fake.event(
        "payment_method.attached", {"id": "pm_1", "object": "payment_method"}
    )) == "ignored"  # fmt: skip
    s = await buy(billing_client, stripe_fake, plan="PRO")
    events = stripe_fake.complete_checkout(s["id"])
    completed = events[-1]
    # Stripe fails while the handler fetches the subscription: 503, not marked done.
    stripe_fake.fail_next(1, status=500, path="/v1/subscriptions")
    resp = await deliver(billing_client, stripe_fake, completed)
    assert resp.status == 503 and (await resp.json())["code"] == "BILLING_UNAVAILABLE"
    assert not await StripeEvent.exists(id=completed["id"])
    assert (await Account.get(id=account.id)).plan == PlanId.FREE
    # A handler failing inside its transaction leaves nothing behind either: a credit session
    # whose metadata does not match its amount.
    s2 = await buy(billing_client, stripe_fake, credits=5)
    bad = stripe_fake.complete_checkout(s2["id"])[0]
    bad["data"]["object"]["metadata"]["credits"] = "50"
    resp = await deliver(billing_client, stripe_fake, bad)
    assert resp.status == 500 and (await resp.json())["code"] == "BILLING_MISMATCH"
    assert not await StripeEvent.exists(id=bad["id"])
    assert await balance(account.id) == 0 and not await CreditPurchase.exists()
    # Stripe's retry of the first one succeeds.
    assert await ok(billing_client, stripe_fake, completed) == "processed"
    assert (await Account.get(id=account.id)).plan == PlanId.PRO
    metrics = await (await billing_client.get("/metrics")).text()
    assert 'outcome="failed"} 2' in metrics and 'outcome="processed"} 1' in metrics


async def test_malformed_but_signed_events_are_refused(billing_client, stripe_fake):
    for event in ({"id": "evt_1"}, {"id": "evt_2", "type": "invoice.paid", "data": {}}, []):
        resp = await deliver(billing_client, stripe_fake, event)  # type: ignore[arg-type]
        assert resp.status == 400 and (await resp.json())["code"] == "INVALID_PARAMETER"


# Refunds ------------------------------------------------------------------------------------


async def paid_credits(client, fake, credits: int) -> str:
    s = await buy(client, fake, credits=credits)
    await deliver_all(client, fake, fake.complete_checkout(s["id"]))
    return fake.get("checkout_session", s["id"])["payment_intent"]


def refunded(events: list[dict]) -> dict:
    return next(e for e in events if e["type"] == "charge.refunded")


async def test_partial_and_full_refunds_take_credits_back_once_each(
    billing_client, ticking, stripe_prices
):
    fake = ticking
    account = await signup(billing_client)
    pi = await paid_credits(billing_client, fake, 25)
    assert await balance(account.id) == Decimal("25")
    first = refunded(fake.refund(pi, 1000))
    second = refunded(fake.refund(pi, 500))
    # The later refund arrives first: it takes back both ($15); the earlier one then nothing.
    await ok(billing_client, fake, second)
    assert await balance(account.id) == Decimal("10")
    await ok(billing_client, fake, first)
    await ok(billing_client, fake, second)  # a replay
    assert await balance(account.id) == Decimal("10")
    full = refunded(fake.refund(pi))  # the rest: $10
    await asyncio.gather(*(deliver(billing_client, fake, full) for _ in range(5)))
    assert await balance(account.id) == 0
    taken = await LedgerEntry.filter(account_id=account.id, service="purchase_refund")
    assert sorted(e.amount for e in taken) == [Decimal("10"), Decimal("15")]
    assert all(e.type == "usage" for e in taken)
    assert (await CreditPurchase.get(id=pi)).refunded_cents == 2500
    # In order, for a second purchase: each partial refund takes back its own part.
    pi2 = await paid_credits(billing_client, fake, 50)
    for cents, left in ((1000, "40"), (500, "35"), (2000, "15")):
        await ok(billing_client, fake, refunded(fake.refund(pi2, cents)))
        assert await balance(account.id) == Decimal(left)


async def test_a_refund_after_the_credits_were_spent_never_goes_below_zero(
    billing_client, ticking, stripe_prices, now
):
    fake = ticking
    account = await signup(billing_client)
    pi = await paid_credits(billing_client, fake, 25)
    await ledger.charge(account.id, Decimal("20"), "ai_images", now)
    await ok(billing_client, fake, refunded(fake.refund(pi, 2000)))  # $20 refunded, $5 left
    assert await balance(account.id) == 0
    # Later credits are not taken for the rest of that refund.
    await paid_credits(billing_client, fake, 10)
    await ok(billing_client, fake, refunded(fake.refund(pi)))  # the last $5 of the first
    assert await balance(account.id) == Decimal("5")


async def test_a_refund_before_the_purchase_is_known(billing_client, ticking, stripe_prices):
    fake = ticking
    account = await signup(billing_client)
    s = await buy(billing_client, fake, credits=50)
    events = fake.complete_checkout(s["id"])
    pi = fake.get("checkout_session", s["id"])["payment_intent"]
    # The refund's webhook comes first: the session is looked up from the payment, credited,
    # and the refund applied; the late `completed` then credits nothing more.
    await ok(billing_client, fake, refunded(fake.refund(pi, 2000)))
    assert await balance(account.id) == Decimal("30")
    await deliver_all(billing_client, fake, events)
    assert await balance(account.id) == Decimal("30")
    # A refund of a charge that bought no credits (a subscription's) changes nothing.
    charge = {"id": "ch_other", "object": "charge", "payment_intent": "pi_other",
              "amount": 1900, "amount_refunded": 1900, "currency": "usd"}  # fmt: skip
    assert await ok(billing_client, fake, fake.event("charge.refunded", charge)) == "processed"
    assert await balance(account.id) == Decimal("30")


@pytest.fixture
def now():
    from datetime import UTC, datetime

    return datetime.now(UTC)
