"""GET /metrics: Prometheus text, counted from real requests."""

from __future__ import annotations

import re

import pytest

from models import Account

pytestmark = pytest.mark.both_stacks


def _value(text: str, name: str) -> float:
    match = re.search(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.M)
    assert match, f"{name} missing"
    return float(match.group(1))


async def test_counts_renders_hits_and_quota_rejections(client, signup):
    user = await signup(plan="pro")  # 10 requests/s: the third request meets the quota first
    await Account.filter(id=user.id).update(custom_quota=1)
    headers = {"X-API-Key": user.api_key}
    first = await client.post("/api/generate", json={"title": "Metrics"}, headers=headers)
    assert first.headers["X-Cache"] == "MISS"
    hit = await client.post("/api/generate", json={"title": "Metrics"}, headers=headers)
    assert hit.headers["X-Cache"] == "HIT"
    over = await client.post("/api/generate", json={"title": "Another"}, headers=headers)
    assert (await over.json())["code"] == "QUOTA_EXCEEDED"

    resp = await client.get("/metrics")
    assert resp.status == 200 and resp.content_type == "text/plain"
    text = await resp.text()
    assert _value(text, "ogapi_renders_total") == 1
    assert _value(text, "ogapi_cache_hits_total") == 1
    assert _value(text, "ogapi_quota_rejections_total") == 1
    assert _value(text, "ogapi_render_seconds_count") == 1
    assert re.search(r'route="/api/generate",status="429"} 1.0$', text, re.M)
    assert _value(text, "ogapi_cache_hit_ratio") == 0.5
    assert re.search(r'^ogapi_request_seconds_count{method="POST",route="/api/generate"} 3.0$',
                     text, re.M)  # fmt: skip
    assert _value(text, "process_resident_memory_bytes") > 10_000_000
    assert "# TYPE ogapi_render_seconds histogram" in text


async def test_admin_token_guards_metrics(aiohttp_client, make_app):
    client = await aiohttp_client(make_app(admin_token="t0ken-for-metrics"))
    assert (await client.get("/metrics")).status == 403
    wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status == 403
    ok = await client.get("/metrics", headers={"Authorization": "Bearer t0ken-for-metrics"})
    assert ok.status == 200 and "ogapi_requests_total" in await ok.text()


async def test_garbage_collector_pauses_are_timed_by_generation(client):
    import gc

    before = _value(await (await client.get("/metrics")).text(), "ogapi_gc_pause_seconds_count")
    gc.collect()  # a full collection (generation 2), timed by the app's gc callback
    text = await (await client.get("/metrics")).text()
    full = r'ogapi_gc_pause_seconds_count{generation="2"}'
    assert re.search(rf"^{re.escape(full)} ([1-9][0-9.]*)$", text, re.M), "a full collection"
    assert _value(text, "ogapi_gc_pause_seconds_count") >= before
    assert _value(text, "ogapi_gc_frozen_objects") == gc.get_freeze_count()
