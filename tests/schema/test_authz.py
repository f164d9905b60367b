"""Authentication and isolation: nobody sees another account's data, by any id or cursor."""

from __future__ import annotations

import base64
from datetime import timedelta

from models import Account, AccountStatus, Invoice
from tests.schema.conftest import NOW, codes, seed_ledger

TXNS = """query($after: String) { transactions(first: 100, after: $after) {
  totalCount edges { node { id description } } pageInfo { endCursor } } }"""
PRIVATE = [
    "me { id }",
    "usage { used }",
    "balance { current }",
    "transactions { totalCount }",
    "invoices { totalCount }",
    "notifications { id }",
]
MUTATIONS = [
    "regenerateApiKey { id }",
    'updateAccount(domain: "x.example") { id }',
    "createCheckoutSession(credits: 5) { url }",
    "createBillingPortalSession { url }",
]


async def test_anonymous_gets_unauthenticated_but_public_fields_work(gql):
    for field in PRIVATE:
        body = await gql("{ " + field + " }", cookies=False)
        assert codes(body) == ["UNAUTHENTICATED"], field
        assert body["data"] is None
    for m in MUTATIONS:
        assert codes(await gql("mutation { " + m + " }", cookies=False)) == ["UNAUTHENTICATED"]
    assert "errors" not in await gql("{ plans { id } templates { name } }", cookies=False)


async def test_bad_keys_say_why(gql, signup, now, client):
    user = await signup()
    body = await gql.key("og_" + "a" * 32, "{ me { id } }")
    assert codes(body) == ["INVALID_API_KEY"]
    assert codes(await gql.key("not-a-key", "{ me { id } }")) == ["INVALID_API_KEY"]
    assert codes(await gql.key("", "{ me { id } }")) == ["MISSING_API_KEY"]
    await Account.filter(id=user.id).update(status=AccountStatus.SUSPENDED)
    assert codes(await gql.key(user.api_key, "{ me { id } }")) == ["SUBSCRIPTION_CANCELED"]


async def test_api_keys_cannot_mutate(gql, signup, now):
    user = await signup()
    for m in MUTATIONS:
        body = await gql.key(user.api_key, "mutation { " + m + " }")
        assert codes(body) == ["FORBIDDEN"], m
    account = await Account.get(id=user.id)
    assert account.domain is None
    assert (await gql.key(user.api_key, "{ me { apiKey } }"))["data"]["me"][
        "apiKey"
    ] == user.api_key


async def test_accounts_are_isolated_by_ids_and_cursors(gql, signup, now, client):
    alice = await signup("alice@example.com")
    await seed_ledger(alice.id, 3, NOW - timedelta(days=1), description="alice")
    await Invoice.create(
        account_id=alice.id,
        stripe_id="in_a",
        date=NOW.date(),
        amount=1,
        currency="usd",
        status="paid",
    )
    alice_page = (await gql.key(alice.api_key, TXNS))["data"]["transactions"]
    alice_cursor = alice_page["pageInfo"]["endCursor"]
    bob = await signup("bob@example.com")  # the client's cookie is now bob's
    await seed_ledger(bob.id, 2, NOW - timedelta(days=2), description="bob")

    page = (await gql.data(TXNS))["transactions"]
    assert page["totalCount"] == 2 and {e["node"]["description"] for e in page["edges"]} == {"bob"}
    assert (await gql.data("{ invoices { totalCount } }"))["invoices"]["totalCount"] == 0
    assert (await gql.data("{ me { email } }"))["me"]["email"] == "bob@example.com"

    # Alice's cursor is refused for Bob, by cookie and by key.
    assert codes(await gql(TXNS, {"after": alice_cursor})) == ["INVALID_PARAMETER"]
    assert codes(await gql.key(bob.api_key, TXNS, {"after": alice_cursor})) == ["INVALID_PARAMETER"]
    # A forged cursor naming Bob but pointing past Alice's rows still only lists Bob's rows.
    alice_max = max(int(e["node"]["id"]) for e in alice_page["edges"])
    forged = base64.urlsafe_b64encode(
        f"txn|{bob.id}|{alice_max + 1}|2999-01-01T00:00:00+00:00".encode()
    ).decode()
    forged_page = (await gql.data(TXNS, {"after": forged}))["transactions"]
    assert {e["node"]["description"] for e in forged_page["edges"]} == {"bob"}
    # Alice's key sees Alice only, whatever cookie rides along.
    mixed = await gql(TXNS, headers={"X-API-Key": alice.api_key})
    assert mixed["data"]["transactions"]["totalCount"] == 3


async def test_a_regenerated_key_stops_at_once(gql, signup, now):
    user = await signup()
    new = (await gql.data("mutation { regenerateApiKey { apiKey } }"))["regenerateApiKey"]
    assert new["apiKey"] != user.api_key and new["apiKey"].startswith("og_")
    assert codes(await gql.key(user.api_key, "{ me { id } }")) == ["INVALID_API_KEY"]
    assert "errors" not in await gql.key(new["apiKey"], "{ me { id } }")
    assert (await gql.data("{ me { apiKey } }"))["me"]["apiKey"] == new["apiKey"]
