"""Crawlers never get a 429 from a signed URL (docs/signed-urls.md): over the owner's
per-second limit a signed render waits for its turn, then degrades to the fallback card."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest

from models import Account, PlanId
from resolvers.accounts.keys import active_key, reveal
from tests.conftest import PASSWORD, set_account
from tests.web.imaging import decode, used
from web.appkeys import secret_box_key

pytestmark = pytest.mark.timeout(60)
T0 = datetime(2026, 5, 10, 12, 0, tzinfo=UTC)


async def free_owner(api) -> tuple[int, str]:
    email = "crawled@example.com"
    resp = await api.post("/api/auth/signup", json={"email": email, "password": PASSWORD})
    assert resp.status == 201
    acct = await Account.get(email=email)
    await set_account(acct.id, plan=PlanId.FREE)  # 1 request per second
    return acct.id, reveal(await active_key(acct), api.app[secret_box_key])


async def signed_path(api, key: str, **params) -> str:
    resp = await api.get("/api/signed/generate", params=params, headers={"X-API-Key": key})
    assert resp.status == 200, await resp.text()
    parts = urlsplit((await resp.json())["url"])
    return f"{parts.path}?{parts.query}"


async def test_a_signed_render_over_the_rate_limit_waits_then_degrades(api, pool):
    uid, key = await free_owner(api)
    paths = [await signed_path(api, key, title=f"Post {i}", width="400", height="210")
             for i in range(5)]  # fmt: skip
    answers = await asyncio.gather(*(api.get(p) for p in paths))
    statuses = [r.status for r in answers]
    assert statuses == [200] * 5  # never a 429
    rendered = [r for r in answers if "X-OG-Degraded" not in r.headers]
    degraded = [r for r in answers if "X-OG-Degraded" in r.headers]
    # 1/s with a burst of 1: one at once, one or two more after waiting up to ~2 s for a turn
    assert 2 <= len(rendered) <= 3 and len(degraded) == 5 - len(rendered)
    for resp in rendered:
        assert resp.headers["X-Cache"] == "MISS"
    for resp in degraded:
        assert resp.headers["X-OG-Degraded"] == "rate"
        assert resp.headers["Cache-Control"] == "public, max-age=60"
        assert "X-Cache" not in resp.headers
        assert decode(await resp.read()).size == (400, 210)
    assert pool.renders == len(rendered)
    assert await used(uid, T0) == len(rendered)  # the fallback cards count nothing

    # the key-authenticated API keeps answering 429 RATE_LIMITED at once
    headers = {"X-API-Key": key}
    first = await api.get("/api/generate", params={"title": "a"}, headers=headers)
    second = await api.get("/api/generate", params={"title": "b"}, headers=headers)
    assert first.status in (200, 429) and second.status == 429
    assert (await second.json())["code"] == "RATE_LIMITED" and "Retry-After" in second.headers
