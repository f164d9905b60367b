"""Checkout (upgrade and credits), the return route and the portal, against the fake Stripe."""

from __future__ import annotations

import asyncio
import logging
import socket
from dataclasses import replace
from decimal import Decimal
from urllib.parse import urlsplit

import pytest

from models import Account, CreditPurchase, LedgerEntry, PlanId, StripeSubscription
from tests.schema.conftest import GQL, codes
from web.app import create_app

CHECKOUT = """mutation($plan: PlanId, $credits: Int) {
  createCheckoutSession(plan: $plan, credits: $credits) { url } }"""
LOGIN = {"email": "payer@example.com", "password": "correct horse battery"}
PORTAL = "mutation { createBillingPortalSession { url } }"


async def signup(client, email: str = "payer@example.com") -> Account:
    resp = await client.post(
        "/api/auth/signup", json={"email": email, "password": "correct horse battery"}
    )
    assert resp.status == 201, await resp.text()
    return await Account.get(email=email)


async def checkout(gql: GQL, **variables) -> str:
    data = await gql.data(CHECKOUT, variables)
    return data["createCheckoutSession"]["url"]


def session_of(fake, url: str) -> dict:
    path = urlsplit(url).path
    assert path.startswith("/checkout/") and url.startswith(fake.url)
    return fake.get("checkout_session", path.rsplit("/", 1)[1])


async def return_to(client, session_id: str) -> str:
    resp = await client.get(f"/billing/return?session_id={session_id}", allow_redirects=False)
    assert resp.status == 303, await resp.text()
    return resp.headers["Location"]


async def test_upgrade_opens_a_subscription_session_for_the_plans_price(
    billing_client, stripe_fake, stripe_prices
):
    account = await signup(billing_client)
    gql = GQL(billing_client)
    url = await checkout(gql, plan="PRO")
    s = session_of(stripe_fake, url)
    assert s["mode"] == "subscription"
    assert s["line_items"] == [{"price": stripe_prices["ogapi_pro_monthly"]["id"], "quantity": "1"}]
    assert s["client_reference_id"] == str(account.id)
    assert s["metadata"] == {"account_id": str(account.id)}
    assert s["success_url"] == ("http://testserver/billing/return?session_id={CHECKOUT_SESSION_ID}")
    assert urlsplit(s["cancel_url"]).path == "/dashboard"
    account = await Account.get(id=account.id)
    assert account.stripe_customer_id == s["customer"]
    assert stripe_fake.get("customer", s["customer"])["email"] == "payer@example.com"
    # A second checkout reuses the customer; every POST carried an Idempotency-Key.
    s2 = session_of(stripe_fake, await checkout(gql, plan="AGENCY"))
    assert s2["customer"] == s["customer"] and len(stripe_fake.all("customer")) == 1
    assert all(r["idempotency_key"] for r in stripe_fake.posts())


async def test_paying_then_returning_applies_the_plan_once(
    billing_client, stripe_fake, stripe_prices
):
    account = await signup(billing_client)
    gql = GQL(billing_client)
    s = session_of(stripe_fake, await checkout(gql, plan="PRO"))
    # The customer's browser: the hosted page, then Pay, then Stripe's redirect to success_url.
    async with billing_client.session.get(s["url"]) as page:
        assert page.status == 200 and "Pay" in await page.text()
    async with billing_client.session.post(f"{s['url']}/pay", allow_redirects=False) as paid:
        assert paid.status == 303
        location = paid.headers["Location"]
    assert location == f"http://testserver/billing/return?session_id={s['id']}"
    assert await return_to(billing_client, s["id"]) == "/dashboard?checkout=complete"
    account = await Account.get(id=account.id)
    assert account.plan == PlanId.PRO and account.subscription_status == "active"
    assert (
        account.stripe_subscription_id
        == stripe_fake.get("checkout_session", s["id"])["subscription"]
    )
    me = await gql.data("{ me { subscriptionStatus plan { id } } }")
    assert me["me"] == {"subscriptionStatus": "ACTIVE", "plan": {"id": "PRO"}}
    # Again, and concurrently: still one subscription row, same plan.
    await asyncio.gather(*(return_to(billing_client, s["id"]) for _ in range(5)))
    assert await StripeSubscription.filter(account_id=account.id).count() == 1
    # A subscribed account changes plan in the portal, not through a second checkout.
    body = await gql(CHECKOUT, {"plan": "AGENCY"})
    assert codes(body) == ["SUBSCRIPTION_EXISTS"]


async def test_credits_are_credited_once_only_when_paid(billing_client, stripe_fake, stripe_prices):
    account = await signup(billing_client)
    gql = GQL(billing_client)
    s = session_of(stripe_fake, await checkout(gql, credits=25))
    assert s["mode"] == "payment" and s["amount_total"] == 2500
    assert s["line_items"][0]["price_data"]["unit_amount"] == "2500"
    assert s["invoice_creation"] == {"enabled": "true"}
    assert s["metadata"] == {"account_id": str(account.id), "credits": "25"}
    assert s["client_reference_id"] == str(account.id)
    # Started, not paid (an asynchronous payment method): nothing credited yet.
    stripe_fake.complete_checkout(s["id"], paid=False)
    assert await return_to(billing_client, s["id"]) == "/dashboard?checkout=pending"
    assert await Account.get(id=account.id).values_list("balance", flat=True) == 0
    stripe_fake.settle_payment(s["id"])
    results = await asyncio.gather(*(return_to(billing_client, s["id"]) for _ in range(6)))
    assert set(results) == {"/dashboard?checkout=complete"}
    entries = await LedgerEntry.filter(account_id=account.id)
    pi = stripe_fake.get("checkout_session", s["id"])["payment_intent"]
    assert [(e.type, e.amount, e.external_ref) for e in entries] == [
        ("purchase", Decimal("25"), pi)
    ]
    assert (await Account.get(id=account.id)).balance == Decimal("25")
    purchase = await CreditPurchase.get(id=pi)
    assert purchase.amount_cents == 2500 and purchase.session_id == s["id"]


async def test_invalid_checkouts_never_reach_stripe(billing_client, stripe_fake, stripe_prices):
    await signup(billing_client)
    gql = GQL(billing_client)
    before = len(stripe_fake.requests)
    for variables in (
        {"credits": 7},
        {"credits": 0},
        {"plan": "FREE"},
        {},
        {"plan": "PRO", "credits": 5},
    ):
        body = await gql(CHECKOUT, variables)
        assert codes(body) == ["INVALID_PARAMETER"], variables
    assert len(stripe_fake.requests) == before


async def test_portal_needs_a_customer_then_opens_on_the_fake(
    billing_client, stripe_fake, stripe_prices
):
    await signup(billing_client)
    gql = GQL(billing_client)
    body = await gql(PORTAL)
    assert (
        codes(body) == ["NO_BILLING_ACCOUNT"]
        and "upgrade or buy credits" in (body["errors"][0]["message"])
    )
    s = session_of(stripe_fake, await checkout(gql, credits=5))
    url = (await gql.data(PORTAL))["createBillingPortalSession"]["url"]
    assert url.startswith(f"{stripe_fake.url}/portal/bps_")
    portal = stripe_fake.all("portal_session")[0]
    assert portal["customer"] == s["customer"]
    assert portal["return_url"] == "http://testserver/dashboard"
    async with billing_client.session.get(url) as page:
        assert page.status == 200 and "/dashboard" in await page.text()


async def test_concurrent_checkouts_make_one_customer(billing_client, stripe_fake, stripe_prices):
    account = await signup(billing_client)
    gql = GQL(billing_client)
    urls = await asyncio.gather(
        *(checkout(gql, credits=5) for _ in range(4)),
        *(checkout(gql, plan="PRO") for _ in range(4)),
    )
    customers = {session_of(stripe_fake, u)["customer"] for u in urls}
    assert len(stripe_fake.all("customer")) == 1
    assert customers == {(await Account.get(id=account.id)).stripe_customer_id}


async def test_two_app_instances_share_the_customer_through_the_idempotency_key(
    aiohttp_client, billing_settings, clock, stripe_fake, stripe_prices
):
    """Two workers (two apps, one database) checking out at once: one customer in Stripe."""
    a = await aiohttp_client(create_app(billing_settings, clock=clock))
    b = await aiohttp_client(create_app(billing_settings, clock=clock))
    await signup(a)
    resp = await b.post("/api/auth/login", json=LOGIN)
    assert resp.status == 200
    await asyncio.gather(checkout(GQL(a), credits=10), checkout(GQL(b), credits=10))
    assert len(stripe_fake.all("customer")) == 1


async def test_stripe_failing_or_unreachable_answers_billing_unavailable_and_stores_nothing(
    aiohttp_client, billing_settings, billing_client, clock, stripe_fake, stripe_prices
):
    account = await signup(billing_client)
    gql = GQL(billing_client)
    stripe_fake.fail_next(1, status=500)  # the customer creation
    body = await gql(CHECKOUT, {"credits": 10})
    assert codes(body) == ["BILLING_UNAVAILABLE"] and body["data"] is None
    assert (await Account.get(id=account.id)).stripe_customer_id is None
    assert stripe_fake.all("customer") == []
    # Unreachable: a port nothing listens on.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    down = await aiohttp_client(
        create_app(replace(billing_settings, stripe_api_base=dead), clock=clock)
    )
    resp = await down.post("/api/auth/login", json=LOGIN)
    assert resp.status == 200
    for query, variables in ((CHECKOUT, {"plan": "PRO"}), (CHECKOUT, {"credits": 5})):
        body = await GQL(down)(query, variables)
        assert codes(body) == ["BILLING_UNAVAILABLE"]
        assert "cannot be reached" in body["errors"][0]["message"]
    assert (await Account.get(id=account.id)).stripe_customer_id is None
    # Back up; the session fails once after the customer was made: the id kept is a real one.
    stripe_fake.fail_next(1, status=502, path="/v1/checkout/sessions")
    body = await gql(CHECKOUT, {"credits": 10})
    assert codes(body) == ["BILLING_UNAVAILABLE"] and stripe_fake.all("checkout_session") == []
    stored = (await Account.get(id=account.id)).stripe_customer_id
    assert [c["id"] for c in stripe_fake.all("customer")] == [stored]
    url = await checkout(gql, credits=10)
    assert session_of(stripe_fake, url)["customer"] == stored
    assert len(stripe_fake.all("customer")) == 1
    # The return page of that session, with Stripe unreachable.
    sid = session_of(stripe_fake, url)["id"]
    resp = await down.get(f"/billing/return?session_id={sid}", allow_redirects=False)
    assert resp.status == 503 and (await resp.json())["code"] == "BILLING_UNAVAILABLE"


async def test_return_route_rejects_bad_session_ids(billing_client, stripe_fake):
    await signup(billing_client)
    for query in ("", "?session_id=", "?session_id=pi_123", "?session_id=cs_" + "x" * 300):
        resp = await billing_client.get(f"/billing/return{query}", allow_redirects=False)
        assert resp.status == 400 and (await resp.json())["code"] == "INVALID_PARAMETER"
    assert stripe_fake.requests == []


async def test_not_configured_return_route(client):
    await signup(client)
    resp = await client.get("/billing/return?session_id=cs_test_1", allow_redirects=False)
    assert resp.status == 503 and (await resp.json())["code"] == "BILLING_NOT_CONFIGURED"


async def test_every_stripe_call_is_logged_with_its_request_id_never_the_key(
    billing_client, stripe_fake, stripe_prices, caplog
):
    await signup(billing_client)
    with caplog.at_level(logging.DEBUG):
        await checkout(GQL(billing_client), credits=5)
        stripe_fake.fail_next(1)
        await GQL(billing_client)(CHECKOUT, {"credits": 5})
    lines = [r.getMessage() for r in caplog.records if r.name == "ogapi.stripe"]
    assert any(
        m.startswith("stripe customers.create -> cus_") and "request_id=req_" in m for m in lines
    )
    assert any(m.startswith("stripe checkout.sessions.create -> cs_") for m in lines)
    assert any("failed: APIError status=500" in m and "request_id=req_" in m for m in lines)
    everything = "\n".join(r.getMessage() for r in caplog.records)
    assert stripe_fake.key not in everything and "request_id=None" not in everything


def test_a_live_key_is_refused_against_another_api_base():
    from resolvers.billing.stripe_api import StripeConfigError, StripeGateway
    from web.settings import ConfigError, Settings

    env = {"SECRET_KEY": "x" * 40, "STRIPE_SECRET_KEY": "sk_live_abc",
           "STRIPE_API_BASE": "http://127.0.0.1:12111"}  # fmt: skip
    with pytest.raises(ConfigError, match="live key"):
        Settings.from_env(env)
    with pytest.raises(StripeConfigError):
        StripeGateway("rk_live_abc", "https://stripe.example.com")
    ok = Settings.from_env(env | {"STRIPE_API_BASE": "https://api.stripe.com/"})
    assert ok.stripe_secret_key == "sk_live_abc"
    assert Settings.from_env(env | {"STRIPE_SECRET_KEY": "sk_test_abc"}).stripe_api_base


async def test_a_plan_without_its_stripe_price_says_run_stripe_sync(billing_client, stripe_fake):
    """Keys set but `ogapi stripe sync` never ran: upgrades say so; credits still work."""
    await signup(billing_client)
    gql = GQL(billing_client)
    body = await gql(CHECKOUT, {"plan": "PRO"})
    assert codes(body) == ["BILLING_NOT_CONFIGURED"]
    assert "ogapi_pro_monthly" in body["errors"][0]["message"]
    assert "ogapi stripe sync" in body["errors"][0]["message"]
    assert stripe_fake.all("customer") == []  # nothing made before the price was found
    assert session_of(stripe_fake, await checkout(gql, credits=50))["amount_total"] == 5000
