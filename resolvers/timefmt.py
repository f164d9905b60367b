"""How times go on the wire: ISO 8601 in UTC with a `Z` (REST, CSV and GraphQL alike)."""

from __future__ import annotations

from datetime import UTC, datetime


def iso_utc(value: datetime) -> str:
    """`2026-12-01T00:00:00Z`, or `2026-11-22T04:05:46.824862Z` when it has microseconds."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if value.microsecond else "%Y-%m-%dT%H:%M:%SZ")
