"""The fake Stripe itself (tests/stripe_fake.py): Stripe's error shapes, Idempotency-Key replay,
lookup-key search, and stripe-python reading all of it as it reads Stripe."""

from __future__ import annotations

import pytest
import stripe


async def test_error_shapes_and_request_ids(stripe_fake):
    from aiohttp import ClientSession

    auth = {"Authorization": f"Bearer {stripe_fake.key}"}
    async with ClientSession() as http:
        async with http.get(f"{stripe_fake.url}/v1/customers/cus_nope", headers=auth) as r:
            assert r.status == 404 and r.headers["Request-Id"].startswith("req_")
            assert await r.json() == {"error": {
                "type": "invalid_request_error", "message": "No such customer: 'cus_nope'",
                "code": "resource_missing", "param": "id"}}  # fmt: skip
        other = {"Authorization": "Bearer sk_test_other"}
        async with http.get(f"{stripe_fake.url}/v1/customers/x", headers=other) as r:
            assert r.status == 401 and (await r.json())["error"]["type"] == "invalid_request_error"
        async with http.get(f"{stripe_fake.url}/v1/nothing", headers=auth) as r:
            assert (
                r.status == 404
                and "Unrecognized request URL" in (await r.json())["error"]["message"]
            )


async def test_idempotency_keys_replay_or_refuse(stripe_fake):
    client = stripe.StripeClient(
        stripe_fake.key,
        base_addresses={"api": stripe_fake.url},
        http_client=stripe.AIOHTTPClient(),
        max_network_retries=0,
    )
    try:
        opts = {"idempotency_key": "k1"}
        first = await client.v1.customers.create_async({"email": "a@example.com"}, opts)
        again = await client.v1.customers.create_async({"email": "a@example.com"}, opts)
        assert again.id == first.id and len(stripe_fake.all("customer")) == 1
        assert again.last_response.headers["Idempotent-Replayed"] == "true"
        with pytest.raises(stripe.IdempotencyError):
            await client.v1.customers.create_async({"email": "b@example.com"}, opts)
        with pytest.raises(stripe.InvalidRequestError) as missing:
            await client.v1.subscriptions.retrieve_async("sub_nope")
        assert missing.value.code == "resource_missing" and missing.value.http_status == 404
        assert missing.value.request_id.startswith("req_")
        stripe_fake.fail_next(1, status=500)
        with pytest.raises(stripe.APIError):
            await client.v1.customers.retrieve_async(first.id)
        assert (await client.v1.customers.retrieve_async(first.id)).email == "a@example.com"
    finally:
        await client._requestor._client.close_async()


async def test_prices_by_lookup_key_list_and_search(stripe_fake, stripe_prices):
    client = stripe.StripeClient(
        stripe_fake.key, base_addresses={"api": stripe_fake.url},
        http_client=stripe.AIOHTTPClient(), max_network_retries=0,
    )  # fmt: skip
    try:
        page = await client.v1.prices.list_async(
            {"lookup_keys": ["ogapi_pro_monthly"], "expand": ["data.product"]}
        )
        assert [p.unit_amount for p in page.data] == [1900]
        assert page.data[0].product.id == "ogapi_pro"
        found = await client.v1.prices.search_async(
            {"query": "lookup_key:'ogapi_agency_monthly' AND active:'true'"}
        )
        assert [p.unit_amount for p in found.data] == [4900]
        with pytest.raises(stripe.InvalidRequestError, match="already uses that lookup key"):
            await client.v1.prices.create_async({
                "product": "ogapi_pro", "unit_amount": 1, "currency": "usd",
                "lookup_key": "ogapi_pro_monthly"})  # fmt: skip
    finally:
        await client._requestor._client.close_async()
