"""One paid subscription per account, and the return page only for the account that opened the
Checkout (docs/billing.md "Checkout"), against the fake Stripe."""

from __future__ import annotations

import asyncio
from urllib.parse import unquote

from models import Account, CheckoutSession, PlanId, StripeEvent, StripeSubscription
from tests.schema.conftest import GQL
from tests.web.routes.test_billing_checkout import checkout, return_to, session_of, signup
from tests.web.routes.test_stripe_webhooks import buy, deliver, deliver_all, ok, ticking

__all__ = ["ticking"]  # the fixture, imported for these tests


async def test_a_new_upgrade_checkout_expires_the_older_open_one(
    billing_client, ticking, stripe_prices
):
    fake = ticking
    account = await signup(billing_client)
    gql = GQL(billing_client)
    first = session_of(fake, await checkout(gql, plan="AGENCY"))
    credits = session_of(fake, await checkout(gql, credits=10))
    second = session_of(fake, await checkout(gql, plan="STARTER"))
    assert fake.get("checkout_session", first["id"])["status"] == "expired"
    assert fake.get("checkout_session", second["id"])["status"] == "open"
    assert fake.get("checkout_session", credits["id"])["status"] == "open"  # not a plan
    expire = [r for r in fake.posts() if r["path"].endswith("/expire")]
    assert [r["path"] for r in expire] == [f"/v1/checkout/sessions/{first['id']}/expire"]
    assert expire[0]["idempotency_key"]
    rows = await CheckoutSession.filter(account_id=account.id).order_by("id")
    assert [(r.stripe_id, r.mode, r.status) for r in rows] == [
        (first["id"], "subscription", "expired"),
        (credits["id"], "payment", "open"),
        (second["id"], "subscription", "open"),
    ]
    # The customer's old tab: Stripe no longer takes the payment.
    async with billing_client.session.post(f"{first['url']}/pay") as page:
        assert "Payment failed" in await page.text()
    # A third upgrade expires the second; the expired first costs no Stripe call.
    before = len(fake.requests)
    third = session_of(fake, await checkout(gql, plan="PRO"))
    assert fake.get("checkout_session", second["id"])["status"] == "expired"
    calls = [r["path"] for r in fake.requests[before:]]
    assert calls.count(f"/v1/checkout/sessions/{second['id']}/expire") == 1
    assert not any(first["id"] in c for c in calls)
    await deliver_all(billing_client, fake, fake.complete_checkout(third["id"]))
    assert (await Account.get(id=account.id)).plan == PlanId.PRO


async def test_upgrades_opened_at_once_leave_only_the_last_one_open(
    billing_client, ticking, stripe_prices
):
    fake = ticking
    await signup(billing_client)
    gql = GQL(billing_client)
    urls = await asyncio.gather(*(checkout(gql, plan="PRO") for _ in range(4)))
    sessions = [fake.get("checkout_session", session_of(fake, u)["id"]) for u in urls]
    assert sorted(s["status"] for s in sessions) == ["expired"] * 3 + ["open"]
    newest = await CheckoutSession.filter(mode="subscription").order_by("-id").first()
    assert newest is not None and newest.status == "open"
    assert fake.get("checkout_session", newest.stripe_id)["status"] == "open"


async def test_two_paid_anyway_the_later_stays_and_the_older_is_canceled_with_proration(
    billing_client, ticking, stripe_prices
):
    fake = ticking
    account = await signup(billing_client)
    first = await buy(billing_client, fake, plan="AGENCY")
    paid_first = fake.complete_checkout(first["id"])  # paid; its webhooks not delivered yet
    second = await buy(billing_client, fake, plan="STARTER")  # too late to expire the first
    assert fake.get("checkout_session", first["id"])["status"] == "complete"
    # Not applied here yet: the row stays open until the webhook or return page applies it.
    assert (await CheckoutSession.get(stripe_id=first["id"])).status == "open"
    paid_second = fake.complete_checkout(second["id"])
    old_sub = fake.get("checkout_session", first["id"])["subscription"]
    new_sub = fake.get("checkout_session", second["id"])["subscription"]
    # Stripe delivers the later purchase first, then the older one: the later still wins.
    await deliver_all(billing_client, fake, paid_second)
    assert (await Account.get(id=account.id)).plan == PlanId.STARTER
    await deliver_all(billing_client, fake, paid_first)
    account = await Account.get(id=account.id)
    assert (account.plan, account.stripe_subscription_id) == (PlanId.STARTER, new_sub)
    assert fake.get("subscription", old_sub)["status"] == "canceled"
    assert fake.get("subscription", new_sub)["status"] == "active"
    assert (await StripeSubscription.get(id=old_sub)).status == "canceled"
    cancels = [r for r in fake.requests if r["method"] == "DELETE"]
    assert [r["path"] for r in cancels] == [f"/v1/subscriptions/{old_sub}"]
    assert cancels[0]["params"] == {"prorate": "true", "invoice_now": "true"}
    # The unused part of the older plan's month went back to the customer as Stripe credit.
    agency = stripe_prices["ogapi_agency_monthly"]["unit_amount"]
    credit = fake.get("customer", account.stripe_customer_id)["balance"]
    assert -agency <= credit < -agency * 0.99
    # Replays, and the return pages of both sessions, cancel nothing more.
    await deliver_all(billing_client, fake, paid_first + paid_second)
    for s in (first, second):
        assert await return_to(billing_client, s["id"]) == "/dashboard?checkout=complete"
    assert len([r for r in fake.requests if r["method"] == "DELETE"]) == 1
    assert (await Account.get(id=account.id)).plan == PlanId.STARTER


async def test_the_return_pages_alone_cancel_the_older(billing_client, ticking, stripe_prices):
    fake = ticking
    account = await signup(billing_client)
    first = await buy(billing_client, fake, plan="PRO")
    fake.complete_checkout(first["id"])
    second = await buy(billing_client, fake, plan="AGENCY")
    fake.complete_checkout(second["id"])
    for s in (first, second):
        assert await return_to(billing_client, s["id"]) == "/dashboard?checkout=complete"
    account = await Account.get(id=account.id)
    new_sub = fake.get("checkout_session", second["id"])["subscription"]
    old_sub = fake.get("checkout_session", first["id"])["subscription"]
    assert (account.plan, account.stripe_subscription_id) == (PlanId.AGENCY, new_sub)
    assert fake.get("subscription", old_sub)["status"] == "canceled"


async def test_a_failed_cancellation_is_retried_by_stripes_next_delivery(
    billing_client, ticking, stripe_prices
):
    fake = ticking
    account = await signup(billing_client)
    first = await buy(billing_client, fake, plan="PRO")
    paid_first = fake.complete_checkout(first["id"])
    second = await buy(billing_client, fake, plan="STARTER")
    paid_second = fake.complete_checkout(second["id"])
    await deliver_all(billing_client, fake, paid_first)
    created = paid_second[0]
    assert created["type"] == "customer.subscription.created"
    fake.fail_next(1, status=500, path="/v1/subscriptions/")
    resp = await deliver(billing_client, fake, created)
    assert resp.status == 503  # applied and marked, but the cancellation failed: Stripe retries
    assert await StripeEvent.exists(id=created["id"])
    old_sub = fake.get("checkout_session", first["id"])["subscription"]
    assert fake.get("subscription", old_sub)["status"] == "active"
    assert await ok(billing_client, fake, created) == "duplicate"
    assert fake.get("subscription", old_sub)["status"] == "canceled"
    assert (await Account.get(id=account.id)).plan == PlanId.STARTER
    # Canceled elsewhere first (Stripe answers 404): its state is taken, nothing breaks.
    await deliver_all(billing_client, fake, paid_second)
    assert (await StripeSubscription.get(id=old_sub)).status == "canceled"


# The return page: only the account that opened the Checkout -----------------------------------


async def test_anonymous_return_goes_to_login_without_calling_stripe(
    aiohttp_client, billing_client, stripe_fake, stripe_prices
):
    await signup(billing_client)
    s = session_of(stripe_fake, await checkout(GQL(billing_client), credits=10))
    stripe_fake.complete_checkout(s["id"])
    anonymous = await aiohttp_client(billing_client.server)  # no cookie
    before = len(stripe_fake.requests)
    for sid in (s["id"], "cs_test_someone_elses", "cs_" + "x" * 60):
        resp = await anonymous.get(f"/billing/return?session_id={sid}", allow_redirects=False)
        assert resp.status in (302, 303)
        location = unquote(resp.headers["Location"])
        assert location == f"/login?next=/billing/return?session_id={sid}"
    assert len(stripe_fake.requests) == before
    # Signed in as another account: to /login, and no Stripe call either.
    other = await aiohttp_client(billing_client.server)
    await signup(other, "other@example.com")
    resp = await other.get(f"/billing/return?session_id={s['id']}", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/login"
    assert len(stripe_fake.requests) == before
    assert (await Account.get(email="payer@example.com")).balance == 0
    # The owner, signed in: applied.
    assert await return_to(billing_client, s["id"]) == "/dashboard?checkout=complete"
    assert (await Account.get(email="payer@example.com")).balance == 10


async def test_signing_in_from_the_return_page_comes_back_to_it(
    aiohttp_client, billing_client, stripe_fake, stripe_prices
):
    await signup(billing_client)
    s = session_of(stripe_fake, await checkout(GQL(billing_client), credits=5))
    stripe_fake.complete_checkout(s["id"])
    browser = await aiohttp_client(billing_client.server)  # the session cookie was lost
    resp = await browser.get(f"/billing/return?session_id={s['id']}", allow_redirects=False)
    login = resp.headers["Location"]
    page = await browser.get(login)
    assert page.status == 200
    resp = await browser.post(
        "/api/auth/login", json={"email": "payer@example.com", "password": "correct horse battery"}
    )
    assert resp.status == 200
    resp = await browser.get(login, allow_redirects=False)  # signed in: on to `next`
    assert unquote(resp.headers["Location"]) == f"/billing/return?session_id={s['id']}"
    assert await return_to(browser, s["id"]) == "/dashboard?checkout=complete"
