"""Mutations from the dashboard's session: account settings, key regeneration, billing."""

from __future__ import annotations

from models import Account
from tests.schema.conftest import codes

UPDATE = """mutation($domain: String, $overage: Boolean) {
  updateAccount(domain: $domain, overageEnabled: $overage) { domain overageEnabled } }"""


async def test_update_account_changes_only_what_is_given(gql, signup, now):
    user = await signup()
    data = await gql.data('mutation { updateAccount(domain: "HTTPS://Example.COM/") { domain } }')
    assert data["updateAccount"]["domain"] == "example.com"
    data = await gql.data(
        "mutation { updateAccount(overageEnabled: true) { domain overageEnabled } }"
    )
    assert data["updateAccount"] == {"domain": "example.com", "overageEnabled": True}
    data = await gql.data(UPDATE, {"domain": None})  # explicit null clears the domain
    assert data["updateAccount"] == {"domain": None, "overageEnabled": True}
    account = await Account.get(id=user.id)
    assert account.domain is None and account.overage_enabled is True


async def test_update_account_validation(gql, signup, now):
    user = await signup()
    body = await gql('mutation { updateAccount(domain: "not a domain") { domain } }')
    assert codes(body) == ["INVALID_PARAMETER"]
    assert "domain" in body["errors"][0]["message"]
    assert codes(await gql(UPDATE, {"overage": None})) == ["INVALID_PARAMETER"]
    assert codes(await gql(UPDATE, {"overage": "yes"})) == ["GRAPHQL_VALIDATION_FAILED"]
    assert (await Account.get(id=user.id)).domain is None


CHECKOUT = """mutation($plan: PlanId, $credits: Int) {
  createCheckoutSession(plan: $plan, credits: $credits) { url } }"""


async def test_checkout_validates_then_says_billing_is_not_configured(gql, signup, now):
    await signup()
    for variables, code in [
        ({}, "INVALID_PARAMETER"),
        ({"plan": "PRO", "credits": 5}, "INVALID_PARAMETER"),
        ({"plan": "FREE"}, "INVALID_PARAMETER"),
        ({"credits": 7}, "INVALID_PARAMETER"),
        ({"credits": 0}, "INVALID_PARAMETER"),
        ({"plan": "PRO"}, "BILLING_NOT_CONFIGURED"),
        ({"credits": 25}, "BILLING_NOT_CONFIGURED"),
    ]:
        body = await gql(CHECKOUT, variables)
        assert codes(body) == [code], variables
        assert body["data"] is None
    body = await gql(CHECKOUT, {"plan": "PRO"})
    assert body["errors"][0]["message"] == "Billing is not configured on this server."
    body = await gql("mutation { createBillingPortalSession { url } }")
    assert codes(body) == ["BILLING_NOT_CONFIGURED"] and body["data"] is None
