"""Prometheus metrics (`/metrics`, docs/operations.md#probes-and-metrics), counted from
finished responses.

Counting from responses (X-Cache, X-Render-Ms, the error code) keeps the service layer free of
metrics calls. Under gunicorn (`ogapi serve`, the Procfile) every worker writes its values to
prometheus_client's multiprocess files in PROMETHEUS_MULTIPROC_DIR (web/cli/gunicorn_conf.py
prepares it), so a scrape answered by any worker reports the sum over all of them; process
metrics carry one `pid` label per live worker. A single process (tests, an embedded app)
keeps its values in memory.
"""

from __future__ import annotations

import gc
import os
from collections import deque
from collections.abc import AsyncIterator, Iterable

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.process_collector import ProcessCollector

from resolvers.crypto import bearer_matches
from web.appkeys import error_code_key, metrics_key, settings_key
from web.http.clientip import is_loopback_client
from web.http.tiermetrics import TierCounters

RENDER_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
GC_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25)
REQUEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
PROCESS_EVERY = 5.0  # seconds between samples of each worker's process metrics
# The refusals counted by their error code: code -> (metric, help).
REFUSALS = {
    "QUOTA_EXCEEDED": ("ogapi_quota_rejections", "Requests refused with QUOTA_EXCEEDED."),
    "RATE_LIMITED": ("ogapi_rate_limited", "Requests refused with RATE_LIMITED."),
    "METERING_UNAVAILABLE": (
        "ogapi_metering_unavailable",
        "Requests refused with METERING_UNAVAILABLE (database unreachable).",
    ),
}


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class Metrics:
    def __init__(self) -> None:
        # Each app its own registry (tests build many apps in one process); under gunicorn the
        # values themselves live in the multiprocess files, whatever the registry.
        self.registry = r = CollectorRegistry()
        self.multiprocess = multiprocess_dir() is not None
        self.requests = Counter(
            "ogapi_requests",
            "HTTP requests by method, route and status.",
            ["method", "route", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "ogapi_request_seconds",
            "Time to answer a request, by route.",
            ["method", "route"],
            buckets=REQUEST_BUCKETS,
            registry=r,
        )
        self.renders = Counter(
            "ogapi_renders", "Images rendered (cache misses that succeeded).", registry=r
        )
        self.render_seconds = Histogram(
            "ogapi_render_seconds",
            "Time spent rendering an image.",
            buckets=RENDER_BUCKETS,
            registry=r,
        )
        self.cache_hits = Counter("ogapi_cache_hits", "Images served from the cache.", registry=r)
        self.refusals = {code: Counter(*about, registry=r) for code, about in REFUSALS.items()}
        self.degraded = Counter(
            "ogapi_degraded", "Signed images answered with the fallback card.", registry=r
        )
        self.server_errors = Counter(
            "ogapi_server_errors", "Responses with a 5xx status.", registry=r
        )
        self.webhooks = Counter(
            "ogapi_stripe_webhooks",
            "Stripe webhook deliveries by outcome (processed, duplicate, ignored, failed, "
            "invalid_signature, not_configured).",
            ["outcome"],
            registry=r,
        )
        self.gc_pause = Histogram(
            "ogapi_gc_pause_seconds",
            "Garbage-collector pauses, by "
            "generation (the event loop waits meanwhile: web/cli/gcpause.py).",
            ["generation"],
            buckets=GC_BUCKETS,
            registry=r,
        )
        frozen = "Objects the worker froze out of the garbage collector's sight at start-up."
        self.gc_frozen = (
            Gauge("ogapi_gc_frozen_objects", frozen, registry=None, multiprocess_mode="liveall")
            if self.multiprocess
            else Gauge("ogapi_gc_frozen_objects", frozen, registry=r)
        )
        # (generation, seconds) of each collection, queued by web/cli/gcpause.py's gc callback and
        # moved into gc_pause here, on the event loop: in multiprocess mode every value shares
        # one non-reentrant lock, and a collection can start while this thread holds it, so
        # observing from the callback could wait on its own thread forever.
        self.gc_pauses: deque[tuple[int, float]] = deque(maxlen=10_000)
        for generation in range(3):  # every series present from the start
            self.gc_pause.labels(str(generation))
        self.tiers = TierCounters(r, self.multiprocess)  # the image tiers (web/http/tiermetrics.py)
        self._requests: dict[tuple[str, str, int], Counter] = {}  # labelled children, by key
        self._latency: dict[tuple[str, str], Histogram] = {}
        self._process: dict[str, Gauge] = {}
        if self.multiprocess:  # one series per live worker (pid label), sampled by each worker
            for name, help_ in PROCESS_GAUGES.items():
                self._process[name] = Gauge(name, help_, registry=None, multiprocess_mode="liveall")
        else:
            ProcessCollector(registry=r)

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        if method not in METHODS:
            method = "OTHER"  # bounded label values, whatever a client sends
        child = self._requests.get((method, route, status))
        if child is None:
            child = self._requests[(method, route, status)] = self.requests.labels(
                method, route, str(status)
            )
        child.inc()
        timer = self._latency.get((method, route))
        if timer is None:
            timer = self._latency[(method, route)] = self.latency.labels(method, route)
        timer.observe(seconds)

    def sample_process(self) -> None:
        """This worker's process metrics, into its multiprocess gauges."""
        while self.gc_pauses:
            generation, seconds = self.gc_pauses.popleft()
            self.gc_pause.labels(str(generation)).observe(seconds)
        self.gc_frozen.set(gc.get_freeze_count())
        self.tiers.sync()
        if not self._process:
            return
        for family in ProcessCollector(registry=None).collect():
            for sample in family.samples:
                gauge = self._process.get(sample.name)
                if gauge is not None:
                    gauge.set(sample.value)

    def exposition(self) -> bytes:
        self.sample_process()
        if self.multiprocess:
            from prometheus_client import multiprocess

            source = CollectorRegistry()
            multiprocess.MultiProcessCollector(source)
        else:
            source = self.registry
        families = list(source.collect())
        families.append(_hit_ratio(families))
        return generate_latest(_Fixed(families))  # a stand-in with collect()


# The standard process metrics, per worker under gunicorn.
PROCESS_GAUGES = {
    "process_resident_memory_bytes": "Resident memory size in bytes.",
    "process_virtual_memory_bytes": "Virtual memory size in bytes.",
    "process_cpu_seconds_total": "Total user and system CPU time spent in seconds.",
    "process_open_fds": "Number of open file descriptors.",
    "process_start_time_seconds": "Start time of the process since unix epoch in seconds.",
}


class _Fixed:
    """A registry stand-in that yields families collected once (for generate_latest)."""

    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterable[Metric]:
        return iter(self.families)


def _total(families: list[Metric], name: str) -> float:
    return sum(
        s.value for f in families if f.name == name for s in f.samples if s.name == f"{name}_total"
    )


def _hit_ratio(families: list[Metric]) -> GaugeMetricFamily:
    hits = _total(families, "ogapi_cache_hits")
    misses = _total(families, "ogapi_renders")
    ratio = hits / (hits + misses) if hits + misses else 0.0
    return GaugeMetricFamily(
        "ogapi_cache_hit_ratio",
        "Cache hits / (hits + renders) since start, over all workers.",
        value=ratio,
    )


def route_of(request: web.Request) -> str:
    """The route template a request matched (bounded: never the raw path), or `unmatched`."""
    route = request.match_info.route
    resource = route.resource if route is not None else None
    return resource.canonical if resource is not None else "unmatched"


def record(request: web.Request, status: int, headers, seconds: float = 0.0) -> None:
    """Count one finished response (called by web.http.middleware for every request)."""
    m = request.app.get(metrics_key)
    if m is None:
        return
    m.observe_request(request.method, route_of(request), status, seconds)
    cache = headers.get("X-Cache") if headers is not None else None
    if status in (200, 304) and cache == "HIT":
        m.cache_hits.inc()
    elif status in (200, 304) and cache == "MISS":
        m.renders.inc()
        m.render_seconds.observe(float(headers.get("X-Render-Ms", "0")) / 1000)
    if headers is not None and headers.get("X-OG-Degraded"):
        m.degraded.inc()
    if status < 400:  # every coded refusal is a 4xx or 5xx; most answers are neither
        return
    refused = m.refusals.get(request.get(error_code_key, ""))
    if refused is not None:
        refused.inc()
    if status >= 500:
        m.server_errors.inc()


def count_webhook(request: web.Request, outcome: str) -> None:
    """Count one Stripe webhook delivery's outcome (the webhook handler calls it)."""
    m = request.app.get(metrics_key)
    if m is not None:
        m.webhooks.labels(outcome).inc()


def _allowed(request: web.Request) -> bool:
    token = request.app[settings_key].admin_token
    if token:
        return bearer_matches(request.headers.get("Authorization"), token)
    return is_loopback_client(request)


async def metrics(request: web.Request) -> web.Response:
    if not _allowed(request):
        raise web.HTTPForbidden(reason="Metrics need Authorization: Bearer ADMIN_TOKEN")
    body = request.app[metrics_key].exposition()
    return web.Response(
        body=body, content_type="text/plain", charset="utf-8", headers={"Cache-Control": "no-store"}
    )


async def process_ctx(app: web.Application) -> AsyncIterator[None]:
    """Under gunicorn, sample this worker's process metrics every few seconds."""
    import asyncio
    import contextlib

    m = app[metrics_key]

    async def sample() -> None:
        while True:
            m.sample_process()
            await asyncio.sleep(PROCESS_EVERY)

    task = asyncio.create_task(sample()) if m.multiprocess else None
    yield
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def add_routes(app: web.Application) -> None:
    app.router.add_get("/metrics", metrics)
