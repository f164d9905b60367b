"""How times go on the wire: ISO 8601 in UTC with a `Z` (REST, CSV and GraphQL alike)."""

from __future__ import annotations

from datetime import UTC, datetime


def iso_utc(value: datetime) -> str:
    """`2026-12-01T00:00:00Z`, or `2026-11-22T04:05:46.824862Z` when it has microseconds."""
    # isoformat() of a UTC time ends in "+00:00" and drops zero microseconds, like the two
    # strftime patterns this replaces, at half the cost (a page of 100 rows formats 100 times).
    return value.astimezone(UTC).isoformat()[:-6] + "Z"


def month_key(now: datetime) -> str:
    """The calendar month (UTC) of `now`, `2026-12`: the key of a month's quota and spend."""
    return now.astimezone(UTC).strftime("%Y-%m")
