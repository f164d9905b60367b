"""One account cannot make the server call Stripe without limit (docs/billing.md "Limits"):
a settled Checkout's return page answers from the database, and return-page lookups and
checkouts share a per-account budget (resolvers/billing/stripe_budget.py)."""

from __future__ import annotations

from resolvers.billing.stripe_budget import PER_MINUTE
from tests.schema.conftest import GQL, codes
from tests.web.routes.test_billing_checkout import CHECKOUT, checkout, return_to, session_of, signup


def stripe_reads(fake, session_id: str) -> int:
    path = f"/v1/checkout/sessions/{session_id}"
    return sum(1 for r in fake.requests if r["method"] == "GET" and r["path"] == path)


async def test_a_settled_checkout_returns_without_calling_stripe(
    billing_client, stripe_fake, stripe_prices
):
    await signup(billing_client)
    gql = GQL(billing_client)
    paid = session_of(stripe_fake, await checkout(gql, credits=5))
    stripe_fake.complete_checkout(paid["id"])
    assert await return_to(billing_client, paid["id"]) == "/dashboard?checkout=complete"
    assert stripe_reads(stripe_fake, paid["id"]) == 1
    before = len(stripe_fake.requests)
    for _ in range(3 * PER_MINUTE):  # far past the budget: never refused, never sent on
        assert await return_to(billing_client, paid["id"]) == "/dashboard?checkout=complete"
    assert len(stripe_fake.requests) == before


async def test_return_lookups_and_checkouts_share_a_per_account_budget(
    billing_client, stripe_fake, stripe_prices
):
    await signup(billing_client)
    gql = GQL(billing_client)
    open_ = session_of(stripe_fake, await checkout(gql, plan="PRO"))  # 1 of the budget
    for _ in range(PER_MINUTE - 1):
        assert await return_to(billing_client, open_["id"]) == "/dashboard?checkout=open"
    before = len(stripe_fake.requests)
    resp = await billing_client.get(
        f"/billing/return?session_id={open_['id']}", allow_redirects=False
    )
    assert resp.status == 429 and 1 <= int(resp.headers["Retry-After"]) <= 60
    assert (await resp.json())["code"] == "RATE_LIMITED"
    body = await gql(CHECKOUT, {"plan": "PRO"})
    assert codes(body) == ["RATE_LIMITED"]
    assert len(stripe_fake.requests) == before  # refused before Stripe was called
    # Another account has a budget of its own.
    await billing_client.post("/api/auth/logout")
    await signup(billing_client, "other@example.com")
    assert (await gql.data(CHECKOUT, {"credits": 5}))["createCheckoutSession"]["url"]
