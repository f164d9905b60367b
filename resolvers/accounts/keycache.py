"""API keys in process memory: the image hot path authenticates without a database round trip.

A `KeyCache` maps a key's SHA-256 (X-API-Key) and its `kid` (signed URLs) to a `KeyOwner`
(resolvers.accounts.key_owner) of the owner: account id, plan, custom quota, statuses, key id, kid.
Never a negative answer: an unknown or revoked key is looked up every time
(`keys.looks_like_key` turns garbage away before that). Invalidation, so that a regenerated key
fails at once on every worker (docs/caching.md):

- this process: `account_changed(account_id)`, called by the resolvers that revoke keys or change
  an account's status or plan, evicts the account from every KeyCache in the process before it
  returns, then publishes the account id on the Redis channel `CHANNEL` (when REDIS_URL is set;
  the `ogapi admin` commands publish too).
- other workers: each KeyCache with Redis subscribes to `CHANNEL` in a background task (`run`),
  on the worker's one Redis client (resolvers/redisconn.py).
  While it is not subscribed (startup, lost connection) it is bypassed: every lookup reads the
  database and nothing is kept. It starts empty again each time it (re)subscribes.
- the embedded default (SQLite, no Redis): an `ogapi admin` run, or SQL by hand, is another
  process. Every lookup first asks SQLite whether any other connection committed since the last
  look (the wal-index header every commit rewrites, resolvers.accounts.sqlite_changes: a few
  microseconds, no lock, no I/O wait) and forgets everything when one did, so such changes
  apply to the very next request.
- changes no one announced otherwise (PostgreSQL without Redis, SQL by hand): entries older
  than `TTL` seconds are read again, so they show within 5 s.

A lookup that raced an invalidation does not keep what it read (`_generation`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from resolvers.accounts.key_owner import KeyOwner
from resolvers.accounts.key_owner import read_owner as _load  # tests replace `_load` to count reads
from resolvers.accounts.sqlite_changes import SqliteChanges
from resolvers.memo import BoundedMap, SingleFlight
from resolvers.redisconn import connect, where

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger("ogapi.keycache")
CHANNEL = "ogapi:keys:changed"
TTL = 5.0  # seconds an entry is trusted without a database read
MAX_ENTRIES = 100_000
PING_EVERY = 5.0  # seconds between pings on the subscription; three missed = disconnected


class KeyCache:
    def __init__(
        self, redis: Redis | None = None, ttl: float = TTL, sqlite_path: str | None = None
    ) -> None:
        self.redis = redis  # the worker's client (closed by its owner, not here)
        self.ttl = ttl
        # Without Redis, on SQLite: other processes' commits are seen per lookup (module doc).
        self._changes = SqliteChanges(sqlite_path) if sqlite_path and redis is None else None
        # Without Redis there is no other worker to hear from: usable at once. With Redis, only
        # once subscribed (see `run`).
        self.connected = redis is None
        self._by_hash: BoundedMap[str, KeyOwner] = BoundedMap(MAX_ENTRIES)
        self._by_kid: BoundedMap[str, KeyOwner] = BoundedMap(MAX_ENTRIES)
        self._generation = 0
        # (column, value, generation): a read started before an invalidation is not shared.
        self._reads: SingleFlight[tuple[str, str, int], KeyOwner | None] = SingleFlight()
        self._publisher: _Publisher | None = _Publisher(redis) if redis is not None else None
        self.started = False  # between run() and close(): the app is serving
        _CACHES.add(self)

    async def by_hash(self, key_hash: str) -> KeyOwner | None:
        """The owner of the live key with this SHA-256 hex, or None."""
        snap = self._fresh(self._by_hash, key_hash)
        return snap if snap is not None else await self._fetch("key_hash", key_hash)

    async def by_kid(self, kid: str) -> KeyOwner | None:
        """The owner of the live key `kid` (signed URLs), or None."""
        snap = self._fresh(self._by_kid, kid)
        return snap if snap is not None else await self._fetch("kid", kid)

    def _fresh(self, index: BoundedMap[str, KeyOwner], value: str) -> KeyOwner | None:
        """The entry of `value` in `index` if it may be used without a database read."""
        if self._changes is not None and self._changes.changed():
            self.clear()
        snap = index.get(value)
        if snap is not None and self.connected and time.monotonic() - snap.loaded < self.ttl:
            return snap
        return None

    async def _fetch(self, column: str, value: str) -> KeyOwner | None:
        """Read from the database; concurrent lookups of one key share the read when it starts
        after the last invalidation (so an entry's expiry is not a burst of queries)."""
        generation = self._generation

        async def read() -> KeyOwner | None:
            snap = await _load(column, value)
            if snap is None:
                self._forget(column, value)
            elif self.connected and generation == self._generation:
                (self._by_hash if column == "key_hash" else self._by_kid).put(value, snap)
            return snap

        return await self._reads.run((column, value, generation), read)

    def _forget(self, column: str, value: str) -> None:
        (self._by_hash if column == "key_hash" else self._by_kid).pop(value, None)

    def evict_account(self, account_id: int) -> None:
        self._generation += 1
        for index in (self._by_hash, self._by_kid):
            for k in [k for k, s in index.items() if s.id == account_id]:
                del index[k]

    def clear(self) -> None:
        self._generation += 1
        self._by_hash.clear()
        self._by_kid.clear()

    async def publish(self, account_id: int) -> None:
        if self._publisher is not None:
            await self._publisher.publish(account_id)

    async def run(self) -> None:
        """Listen for other workers' changes until cancelled; reconnect after failures. From
        now until `close()` this cache also announces this process's changes."""
        self.started = True
        if self.redis is None:
            return
        delay = 0.2
        while True:
            try:
                async with self.redis.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    await self._listen(pubsub)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning(
                    "key cache subscription lost (%s: %s): reading keys from the "
                    "database until it is back",
                    type(exc).__name__,
                    exc,
                )
            finally:
                self.connected = False
                self.clear()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

    async def _listen(self, pubsub) -> None:
        seen = time.monotonic()
        pinged = seen
        while True:
            msg = await pubsub.get_message(timeout=1.0)
            now = time.monotonic()
            if msg is not None:
                seen = now
                kind = msg["type"]
                if kind == "subscribe":
                    self.clear()
                    self.connected = True
                    log.info("key cache subscribed to %s", CHANNEL)
                elif kind == "message":
                    self._on_message(msg["data"])
            if now - pinged >= PING_EVERY:
                await pubsub.ping()
                pinged = now
            if now - seen > 3 * PING_EVERY:
                raise ConnectionError("no answer to pings on the subscription")

    def _on_message(self, data: bytes | str) -> None:
        text = data.decode() if isinstance(data, bytes) else str(data)
        if text.isdigit():
            self.evict_account(int(text))
        else:  # "*" or anything unexpected: drop everything
            self.clear()

    async def close(self) -> None:
        self.started = False
        _CACHES.discard(self)
        self.connected = self.redis is None
        self.clear()
        if self._changes is not None:
            self._changes.close()


class _Publisher:
    def __init__(self, client: Redis) -> None:
        self.client = client
        self.where = where(client)

    async def publish(self, account_id: int) -> None:
        try:
            await self.client.publish(CHANNEL, str(account_id))
        except Exception as exc:  # other workers' entries then live at most TTL seconds
            log.error("could not announce a key change for account %s: %s", account_id, exc)


_CACHES: weakref.WeakSet[KeyCache] = weakref.WeakSet()
_PUBLISHERS: list[_Publisher] = []  # processes without a KeyCache (the CLI), see `publishing`


async def account_changed(account_id: int) -> None:
    """An account's keys, status or plan changed (committed): forget it in this process now,
    and tell the other workers through Redis (once per Redis URL)."""
    caches = list(_CACHES)
    for cache in caches:
        cache.evict_account(account_id)
    servers: set[tuple] = set()
    for p in [c._publisher for c in caches if c._publisher and c.started] + _PUBLISHERS:
        if p.where not in servers:
            servers.add(p.where)
            await p.publish(account_id)


@contextlib.asynccontextmanager
async def publishing(redis_url: str | None) -> AsyncIterator[None]:
    """Announce account changes on `redis_url` while open (for processes with no server app,
    such as `ogapi admin`); a no-op without Redis."""
    if not redis_url:
        yield
        return
    client = connect(redis_url)
    publisher = _Publisher(client)
    _PUBLISHERS.append(publisher)
    try:
        yield
    finally:
        _PUBLISHERS.remove(publisher)
        await client.aclose()
