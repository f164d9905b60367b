"""Liveness and readiness probes."""

from __future__ import annotations

import asyncio

from aiohttp import web
from tortoise import connections

from web.appkeys import image_service_key, meter_key

routes = web.RouteTableDef()
CHECK_TIMEOUT = 2.0


@routes.get("/health")
async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def _database() -> bool:
    await connections.get("default").execute_query("SELECT 1")
    return True


async def _check(probe) -> str:
    try:
        ok = await asyncio.wait_for(probe(), CHECK_TIMEOUT)
    except Exception as exc:  # any failure means "not ready"
        return f"error: {type(exc).__name__}"
    return "ok" if ok else "error: unreachable"


@routes.get("/ready")
async def ready(request: web.Request) -> web.Response:
    """Ready when the database, the cache and the render pool answer (and Redis, when the
    rate limiter uses it). The image store is checked and reported too, but its outage only
    degrades (misses render and count: docs/caching.md), so it answers 200 with status
    `degraded` rather than take every host sharing the store out of rotation at once."""
    app = request.app
    images = app[image_service_key]
    probes = {"database": _database, "cache": images.cache.ping}
    if (store := images.cache.store) is not None:
        probes["image_store"] = store.ping
    pool_ping = getattr(images.pool, "ping", None)
    if pool_ping is not None:  # a render pool whose workers died is rebuilt by its ping
        probes["render_pool"] = pool_ping
    limiter_ping = getattr(app[meter_key].limiter, "ping", None)
    if limiter_ping is not None:
        probes["rate_limiter"] = limiter_ping
    results = await asyncio.gather(*(_check(p) for p in probes.values()))
    checks = dict(zip(probes, results, strict=True))
    ok = all(v == "ok" for k, v in checks.items() if k != "image_store")
    status = (
        "unavailable" if not ok else "ok" if checks.get("image_store", "ok") == "ok" else "degraded"
    )
    return web.json_response({"status": status, "checks": checks}, status=200 if ok else 503)
