"""Idempotent requests (`Idempotency-Key`): the same key replays the first answer; the same key
with different data is refused with 409 `IDEMPOTENCY_CONFLICT`.

Records expire after `TTL` (24 hours, as Stripe's keys do): an older key runs again, and
`purge` (run periodically by every worker) deletes expired records.

Only answers of requests that did their work are stored; errors are not, so a retry after a
fixed cause (a top-up, a typo in the email) runs again. The work itself must be idempotent on
the key too (the ledger's unique external_ref), which covers two concurrent first requests.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError

from models import IdempotencyRecord
from resolvers.errors import Conflict, InvalidParameter

MAX_KEY = 200
TTL = timedelta(hours=24)


def check_key(key: str | None) -> str:
    if key is None or not key.strip():
        raise InvalidParameter(
            "The Idempotency-Key header is required (any unique string, e.g. a UUID).",
            code="MISSING_IDEMPOTENCY_KEY",
        )
    key = key.strip()
    if len(key) > MAX_KEY or not key.isprintable():
        raise InvalidParameter(f"Idempotency-Key must be at most {MAX_KEY} printable characters.")
    return key


def request_hash(payload: Any) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _conflict() -> Conflict:
    return Conflict(
        "This Idempotency-Key was already used with different data.", code="IDEMPOTENCY_CONFLICT"
    )


async def _stored(key: str, digest: str, now: datetime) -> IdempotencyRecord | None:
    record = await IdempotencyRecord.get_or_none(key=key)
    if record is not None and record.created_at <= now - TTL:  # expired: as if never used
        await IdempotencyRecord.filter(key=record.key).delete()
        return None
    if record is not None and record.request_hash != digest:
        raise _conflict()
    return record


async def replay(scope: str, key: str, payload: Any, now: datetime) -> tuple[int, dict] | None:
    """The stored (status, body) of `scope:key` for this `payload`, or None when the key is new
    (or expired); IDEMPOTENCY_CONFLICT when it was used with a different payload."""
    record = await _stored(f"{scope}:{key}", request_hash(payload), now)
    return None if record is None else (record.status, record.body)


async def remember(
    scope: str, key: str, payload: Any, now: datetime, status: int, body: dict
) -> tuple[int, dict, bool]:
    """Store the answer of work done for `scope:key`: (status, body, False); when a concurrent
    first request stored its answer first, that one, with `True`."""
    full_key, digest = f"{scope}:{key}", request_hash(payload)
    try:
        await IdempotencyRecord.create(
            key=full_key, request_hash=digest, status=status, body=body, created_at=now
        )
    except IntegrityError:
        if (record := await _stored(full_key, digest, now)) is not None:
            return record.status, record.body, True
        raise
    return status, body, False


async def once(
    scope: str,
    key: str,
    payload: Any,
    now: datetime,
    work: Callable[[], Awaitable[tuple[int, dict]]],
) -> tuple[int, dict, bool]:
    """(status, body, replayed): the stored answer for `scope:key`, or run `work` and store it."""
    if (stored := await replay(scope, key, payload, now)) is not None:
        return *stored, True
    status, body = await work()
    return await remember(scope, key, payload, now, status, body)


async def purge(now: datetime) -> int:
    """Delete the records older than `TTL`; returns how many."""
    return await IdempotencyRecord.filter(created_at__lte=now - TTL).delete()
