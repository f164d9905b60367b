"""Prometheus metrics (`/metrics`, docs/operations.md), counted from finished responses.

Counting from responses (X-Cache, X-Render-Ms, the error code) keeps the service layer free of
metrics calls. Counters are per process: with several workers, scrape each one (the `pid`
label tells them apart) or sum them in Prometheus.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable

from aiohttp import web

from resolvers.crypto import bearer_matches
from web.clientip import is_loopback_client
from web.keys import error_code_key, settings_key

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    def __init__(self) -> None:
        self.requests: Counter[tuple[str, str, str]] = Counter()  # (method, route, status)
        self.counters: Counter[str] = Counter()
        self.webhooks: Counter[str] = Counter()  # Stripe webhook deliveries by outcome
        self.render_buckets = [0] * len(BUCKETS)
        self.render_sum = 0.0
        self.render_count = 0

    def observe_render(self, seconds: float) -> None:
        self.render_count += 1
        self.render_sum += seconds
        for i, bound in enumerate(BUCKETS):
            if seconds <= bound:
                self.render_buckets[i] += 1

    def exposition(self) -> str:
        pid = os.getpid()
        lines: list[str] = []

        def family(name: str, kind: str, help_: str, samples: Iterable[str]) -> None:
            lines.extend([f"# HELP {name} {help_}", f"# TYPE {name} {kind}", *samples])

        family(
            "ogapi_requests_total", "counter", "HTTP requests by method, route and status.",
            (f'ogapi_requests_total{{pid="{pid}",method="{m}",route="{r}",status="{s}"}} {n}'
             for (m, r, s), n in sorted(self.requests.items())),
        )  # fmt: skip
        for name, help_ in COUNTERS.items():
            family(name, "counter", help_, [f'{name}{{pid="{pid}"}} {self.counters[name]}'])
        family(
            "ogapi_stripe_webhooks_total", "counter",
            "Stripe webhook deliveries by outcome (processed, duplicate, ignored, failed, "
            "invalid_signature, not_configured).",
            (f'ogapi_stripe_webhooks_total{{pid="{pid}",outcome="{o}"}} {n}'
             for o, n in sorted(self.webhooks.items())),
        )  # fmt: skip
        samples = [
            f'ogapi_render_seconds_bucket{{pid="{pid}",le="{b}"}} {n}'
            for b, n in zip(BUCKETS, self.render_buckets, strict=True)
        ]
        samples += [
            f'ogapi_render_seconds_bucket{{pid="{pid}",le="+Inf"}} {self.render_count}',
            f'ogapi_render_seconds_sum{{pid="{pid}"}} {self.render_sum:.6f}',
            f'ogapi_render_seconds_count{{pid="{pid}"}} {self.render_count}',
        ]
        family("ogapi_render_seconds", "histogram", "Time spent rendering an image.", samples)
        return "\n".join(lines) + "\n"


COUNTERS = {
    "ogapi_renders_total": "Images rendered (cache misses that succeeded).",
    "ogapi_cache_hits_total": "Images served from the cache.",
    "ogapi_quota_rejections_total": "Requests refused with QUOTA_EXCEEDED.",
    "ogapi_rate_limited_total": "Requests refused with RATE_LIMITED.",
    "ogapi_degraded_total": "Signed images answered with the fallback card.",
    "ogapi_server_errors_total": "Responses with a 5xx status.",
}
metrics_key = web.AppKey("metrics", Metrics)


def _route(request: web.Request) -> str:
    route = request.match_info.route
    resource = route.resource if route is not None else None
    return resource.canonical if resource is not None else "unmatched"


def record(request: web.Request, status: int, headers) -> None:
    """Count one finished response (called by web.errors' middleware for every request)."""
    m = request.app.get(metrics_key)
    if m is None:
        return
    m.requests[(request.method, _route(request), str(status))] += 1
    cache = headers.get("X-Cache") if headers is not None else None
    if status in (200, 304) and cache == "HIT":
        m.counters["ogapi_cache_hits_total"] += 1
    elif status in (200, 304) and cache == "MISS":
        m.counters["ogapi_renders_total"] += 1
        m.observe_render(float(headers.get("X-Render-Ms", "0")) / 1000)
    if headers is not None and headers.get("X-OG-Degraded"):
        m.counters["ogapi_degraded_total"] += 1
    code = request.get(error_code_key)
    if code == "QUOTA_EXCEEDED":
        m.counters["ogapi_quota_rejections_total"] += 1
    elif code == "RATE_LIMITED":
        m.counters["ogapi_rate_limited_total"] += 1
    if status >= 500:
        m.counters["ogapi_server_errors_total"] += 1


def count_webhook(request: web.Request, outcome: str) -> None:
    """Count one Stripe webhook delivery's outcome (web/billing.py)."""
    m = request.app.get(metrics_key)
    if m is not None:
        m.webhooks[outcome] += 1


def _allowed(request: web.Request) -> bool:
    token = request.app[settings_key].admin_token
    if token:
        return bearer_matches(request.headers.get("Authorization"), token)
    return is_loopback_client(request)


async def metrics(request: web.Request) -> web.Response:
    if not _allowed(request):
        raise web.HTTPForbidden(reason="Metrics need Authorization: Bearer ADMIN_TOKEN")
    body = request.app[metrics_key].exposition()
    return web.Response(text=body, content_type="text/plain", charset="utf-8",
                        headers={"Cache-Control": "no-store"})  # fmt: skip


def setup(app: web.Application) -> None:
    app[metrics_key] = Metrics()
    app.router.add_get("/metrics", metrics)
