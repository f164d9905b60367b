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


CAP = "mutation($c: Decimal) { updateAccount(overageCap: $c) { overageCap overageEnabled } }"


async def test_overage_cap_is_set_cleared_and_validated(gql, signup, now):
    user = await signup(plan="starter")
    assert await gql.data("{ me { overageCap } usage { overageSpend } }") == {
        "me": {"overageCap": None}, "usage": {"overageSpend": "0.000000"}
    }  # fmt: skip
    data = await gql.data(CAP, {"c": "25.5"})
    assert data["updateAccount"] == {"overageCap": "25.500000", "overageEnabled": False}
    literal = await gql.data("mutation { updateAccount(overageCap: 0) { overageCap } }")
    assert literal["updateAccount"]["overageCap"] == "0.000000"  # no overage at all
    for bad, says in [("-0.01", "zero or more"), ("1e30", "at most 1000000"),
                      ("NaN", "zero or more"), ("0.0000001", "6 decimal places")]:  # fmt: skip
        body = await gql(CAP, {"c": bad})
        assert codes(body) == ["INVALID_PARAMETER"], body
        assert says in body["errors"][0]["message"] and "overageCap" in body["errors"][0]["message"]
    for wrong in ["abc", True, [1]]:  # not a decimal at all: refused before the resolver
        assert codes(await gql(CAP, {"c": wrong})) == ["GRAPHQL_VALIDATION_FAILED"]
    assert (await Account.get(id=user.id)).overage_cap == 0
    assert (await gql.data(CAP, {"c": None}))["updateAccount"]["overageCap"] is None
    assert (await Account.get(id=user.id)).overage_cap is None
    # A script's key reads the cap but cannot change it.
    assert (await gql.key(user.api_key, "{ me { overageCap } }"))["data"]["me"] == {
        "overageCap": None
    }
    assert codes(await gql.key(user.api_key, CAP, {"c": "5"})) == ["FORBIDDEN"]


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
