"""GET /metrics: Prometheus text, counted from real requests."""

from __future__ import annotations

import os
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


GC_UNDER_MULTIPROCESS = """
import asyncio, gc, os, sys
from aiohttp import web
from web.cli import gcpause
from web.appkeys import metrics_key
from web.http.metrics import Metrics

async def main():
    app = web.Application()
    app[metrics_key] = m = Metrics()
    ctx = gcpause.gc_pauses_ctx(app)
    await ctx.__anext__()
    gc.set_threshold(20)  # collections often, inside prometheus_client's own code too
    keep = []
    for i in range(2000):  # each new route: a new labelled child, made under the values' lock
        m.observe_request("GET", f"/route/{i}", 200, 0.001)
        keep.append([[] for _ in range(i % 7)])
    text = m.exposition().decode()
    print("pauses", sum(float(line.split()[-1]) for line in text.splitlines()
                        if line.startswith("ogapi_gc_pause_seconds_count")))

asyncio.run(main())
"""


def test_timing_collections_never_deadlocks_the_multiprocess_metrics(tmp_path):
    # Under gunicorn every value shares one non-reentrant lock; a collection that starts while
    # it is held must not reach prometheus_client from the gc callback (web/cli/gcpause.py).
    import subprocess
    import sys
    from pathlib import Path

    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", GC_UNDER_MULTIPROCESS], env=env, timeout=60,
                         cwd=Path(__file__).resolve().parents[3], capture_output=True,
                         text=True)  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    assert float(out.stdout.split()[-1]) > 100, out.stdout
