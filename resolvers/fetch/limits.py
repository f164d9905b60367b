"""The image fetcher's bounded resources (resolvers/fetch/fetcher.py): DNS lookups on threads of
their own under a hard timeout, each account's share of the download slots, and the short-lived
cache of fetched images, and what a fetch answers (`Head`, `Fetched`) or raises (`Rejected`,
`Blocked`). No I/O of its own beyond `getaddrinfo`; no aiohttp.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Hashable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from resolvers.memo import LruMap

DNS_THREADS = 8
DNS_TIMEOUT = 3.0  # seconds; the whole fetch (5 s by default) is bounded too
_dns_pool: ThreadPoolExecutor | None = None


def _dns_executor() -> ThreadPoolExecutor:
    global _dns_pool
    if _dns_pool is None:
        _dns_pool = ThreadPoolExecutor(DNS_THREADS, thread_name_prefix="ogapi-dns")
    return _dns_pool


async def lookup_addresses(host: str, port: int) -> list[str]:
    """The one DNS lookup per hop (tests replace this to point names at 127.0.0.1), on the
    fetcher's own threads: a lookup that hangs holds one of those, never a default-executor
    thread, and its caller gives up after DNS_TIMEOUT seconds."""
    loop = asyncio.get_running_loop()
    lookup = loop.run_in_executor(
        _dns_executor(), socket.getaddrinfo, host, port, 0, socket.SOCK_STREAM, socket.IPPROTO_TCP
    )
    try:
        async with asyncio.timeout(DNS_TIMEOUT):
            infos = await lookup
    except TimeoutError:
        raise Rejected(f"DNS lookup of {host} timed out after {DNS_TIMEOUT}s") from None
    return [str(info[4][0]) for info in infos]


class Rejected(Exception):
    """The fetch failed for a reason worth one log line; the caller sees `None`."""


class Blocked(Rejected):
    """The URL or a redirect names a non-public address (the SSRF rule refused it)."""


@dataclass(frozen=True)
class Head:
    """A response's status line and the headers that decide whether to read its body."""

    url: str  # after redirects
    status: int
    content_type: str
    content_encoding: str  # lower case; "identity" when absent
    content_length: int | None
    charset: str | None = None  # the Content-Type's charset parameter


@dataclass(frozen=True)
class Fetched:
    head: Head
    body: bytes  # at most the caller's max_bytes
    truncated: bool  # the body went on past max_bytes (only when the caller truncates)


class Shares:
    """At most `per_owner` fetches in flight per owner; waiters queue behind their own owner."""

    def __init__(self, per_owner: int) -> None:
        self.per_owner = per_owner
        self._owners: dict[Hashable, tuple[asyncio.Semaphore, list[int]]] = {}

    @contextlib.asynccontextmanager
    async def slot(self, owner: Hashable) -> AsyncIterator[None]:
        entry = self._owners.get(owner)
        if entry is None:
            entry = self._owners[owner] = (asyncio.Semaphore(self.per_owner), [0])
        entry[1][0] += 1  # users (holding or waiting): the entry goes when the last one leaves
        try:
            async with entry[0]:
                yield
        finally:
            entry[1][0] -= 1
            if entry[1][0] == 0:
                del self._owners[owner]


def fetched_images(max_entries: int = 256, max_bytes: int = 64_000_000) -> LruMap[str, bytes]:
    """The short-lived cache of fetched images: url -> bytes, or b"" for a failure (no image is
    empty), each entry with its own expiry, within `max_entries` and `max_bytes` of bodies."""
    return LruMap(max_entries, max_bytes, cost=lambda _url, body: len(body))
