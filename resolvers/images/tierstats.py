"""Counters of one image tier (memory, Redis, the store): plain integers the tiers bump, which
web/http/tiermetrics.py moves into Prometheus at each sample and scrape (the service layer never
imports prometheus_client)."""

from __future__ import annotations

from dataclasses import astuple, dataclass


@dataclass
class TierStats:
    hits: int = 0  # images served from this tier
    misses: int = 0  # lookups this tier could not answer (the next tier was asked)
    errors: int = 0  # failed lookups or writes (the request went on as a miss)
    bytes_read: int = 0  # image bytes served from this tier
    bytes_written: int = 0  # image bytes written to this tier

    def snapshot(self) -> tuple[int, ...]:
        return astuple(self)
