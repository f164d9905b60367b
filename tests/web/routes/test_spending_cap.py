"""The spending cap over HTTP (docs/metering.md#spending-cap): set with GraphQL; the image past it
is a 429 naming the cap for REST and batch items, the fallback card for signed URLs; the
month's spend and the alert show in GraphQL."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from resolvers.ledger import entries as ledger
from tests.web.conftest import T0

pytestmark = [pytest.mark.timeout(90), pytest.mark.both_stacks]
CAP = "Monthly spending cap reached. Cap: $0.02 of overage."


async def gql(api, query: str, variables: dict | None = None) -> dict:
    resp = await api.post("/graphql", json={"query": query, "variables": variables or {}})
    assert resp.status == 200
    return await resp.json()


async def test_past_the_cap_rest_and_batch_refuse_and_signed_urls_fall_back(
    api, user_factory, pool
):
    user = await user_factory(custom_quota=1, overage_enabled=True)  # publishing: $0.01/image
    await ledger.grant(user.id, "1.00", T0)
    body = await gql(api, "mutation($c: Decimal) { updateAccount(overageCap: $c) { overageCap } }",
                     {"c": "0.02"})  # fmt: skip
    assert body == {"data": {"updateAccount": {"overageCap": "0.020000"}}}
    key = {"X-API-Key": user.api_key}
    for i in range(3):  # one in the quota, two paid from credits up to the cap
        resp = await api.post("/api/generate", json={"title": f"Paid {i}"}, headers=key)
        assert resp.status == 200, await resp.text()
    resp = await api.post("/api/generate", json={"title": "One too many"}, headers=key)
    assert resp.status == 429
    assert {k: v for k, v in (await resp.json()).items() if k != "request_id"} == {
        "error": True, "code": "QUOTA_EXCEEDED", "message": CAP
    }  # fmt: skip

    minted = await api.get("/api/signed/generate", params={"title": "Crawled"}, headers=key)
    url = urlsplit((await minted.json())["url"])
    card = await api.get(f"{url.path}?{url.query}")
    assert (card.status, card.headers["X-OG-Degraded"]) == (200, "quota")
    assert pool.fallbacks == 1

    items = [{"title": "Batch A"}, {"title": "Paid 0"}]  # a new render, and a cache hit
    resp = await api.post("/api/batch", json={"items": items},
                          headers={**key, "Accept": "application/json"})  # fmt: skip
    results = (await resp.json())["results"]
    assert [(r["status"], r["code"], r["message"]) for r in results] == [
        ("error", "QUOTA_EXCEEDED", CAP), ("ok", None, None)
    ]  # fmt: skip

    data = (await gql(api, "{ usage { used overageSpend } balance { current } "
                           "notifications { kind message } }"))["data"]  # fmt: skip
    assert data["usage"] == {"used": 3, "overageSpend": "0.020000"}
    assert data["balance"]["current"] == "0.980000"
    capped = [n for n in data["notifications"] if n["kind"] == "SPENDING_CAP_100"]
    assert len(capped) == 1 and "spending cap of $0.02" in capped[0]["message"]

    # Cleared: overage runs on the balance again.
    await gql(api, "mutation { updateAccount(overageCap: null) { overageCap } }")
    resp = await api.post("/api/generate", json={"title": "One too many"}, headers=key)
    assert resp.status == 200
