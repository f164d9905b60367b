"""Per-tier image metrics (docs/caching.md#metrics): the tiers count in plain integers
(resolvers/images/tierstats.py); `TierCounters.sync` moves what changed into Prometheus counters, at
each process sample and scrape (web/http/metrics.py), so gunicorn's workers add up in /metrics."""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge

from resolvers.images.tierstats import TierStats

TIERS = ("memory", "redis", "store")
FIELDS = {  # TierStats field -> (metric name, help)
    "hits": ("ogapi_image_tier_hits", "Images served from each tier (memory, redis, store)."),
    "misses": ("ogapi_image_tier_misses", "Lookups a tier could not answer (the next was asked)."),
    "errors": (
        "ogapi_image_tier_errors",
        "Failed lookups or writes per tier (served as a miss; "
        "for the store, also those skipped while it is down).",
    ),
    "bytes_read": ("ogapi_image_tier_read_bytes", "Image bytes served from each tier."),
    "bytes_written": ("ogapi_image_tier_written_bytes", "Image bytes written to each tier."),
}


class TierCounters:
    def __init__(self, registry: CollectorRegistry, multiprocess: bool) -> None:
        self.counters = {
            field: Counter(name, help_, ["tier"], registry=registry)
            for field, (name, help_) in FIELDS.items()
        }
        for counter in self.counters.values():  # every series present from the start
            for tier in TIERS:
                counter.labels(tier)
        help_ = "Bytes of images this worker keeps in memory (IMAGE_CACHE_MB bounds it)."
        self.memory_bytes = (
            Gauge("ogapi_image_memory_bytes", help_, registry=None, multiprocess_mode="liveall")
            if multiprocess
            else Gauge("ogapi_image_memory_bytes", help_, registry=registry)
        )
        self.source: Mapping[str, TierStats] = {}
        self.memory_size = lambda: 0
        self._seen: dict[tuple[str, str], int] = {}

    def watch(self, stats: Mapping[str, TierStats], memory_size) -> None:
        """Count from these tiers (the app's image cache: resolvers/images/cache.py
        `ImageCache`)."""
        self.source, self.memory_size = stats, memory_size

    def sync(self) -> None:
        for tier, stats in self.source.items():
            for field, counter in self.counters.items():
                value = getattr(stats, field)
                delta = value - self._seen.get((tier, field), 0)
                if delta > 0:
                    counter.labels(tier).inc(delta)
                    self._seen[(tier, field)] = value
        self.memory_bytes.set(self.memory_size())
