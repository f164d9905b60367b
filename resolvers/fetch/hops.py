"""One hop of a remote fetch (resolvers/fetch/fetcher.py): its host's addresses resolved once
and vetted (the result is pinned: resolvers/fetch/pinning.py), a redirect's target checked as
the first URL was, and a body read up to its limit."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from yarl import URL

from resolvers.errors import InvalidParameter
from resolvers.fetch.limits import Blocked, Rejected
from resolvers.fetch.policy import IPAddress, is_ip, is_legacy_numeric_host, validate_image_url

if TYPE_CHECKING:
    import aiohttp
    from aiohttp.abc import ResolveResult


async def vetted(
    url: URL,
    allowed: Callable[[IPAddress, int], bool],
    lookup: Callable[[str, int], Awaitable[list[str]]],
) -> list[ResolveResult]:
    """The addresses of `url`'s host (`lookup`: the fetcher's, so tests can stand in for DNS),
    each `allowed`, as aiohttp's resolver answers them. Raises `Blocked` for an address not
    allowed, `Rejected` when the host does not resolve."""
    host, port = url.raw_host or "", url.port or 0
    if is_legacy_numeric_host(host):
        raise Blocked(f"blocked: {host} is a non-canonical IP address")
    if is_ip(host):  # aiohttp connects to a literal directly; it is its own resolution
        addresses = [host]
    else:
        addresses = await lookup(host, port)
    if not addresses:
        raise Rejected(f"{host} did not resolve")
    pinned: list[ResolveResult] = []
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if not allowed(ip, port):
            raise Blocked(f"blocked: {host} resolves to non-public address {ip}")
        family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
        flags = socket.AI_NUMERICHOST | socket.AI_NUMERICSERV
        pinned.append(
            {
                "hostname": host,
                "host": address,
                "port": port,
                "family": family,
                "proto": socket.IPPROTO_TCP,
                "flags": flags,
            }
        )
    return pinned


def redirect_target(current: URL, location: str | None, *, allow_http: bool) -> URL:
    """Where a redirect from `current` goes, checked as the first URL was."""
    if not location:
        raise Rejected("redirect without a Location")
    try:
        target = str(current.join(URL(location)))
        return URL(validate_image_url("redirect", target, allow_http=allow_http))
    except (ValueError, InvalidParameter) as exc:
        raise Rejected(f"bad redirect Location {location!r}: {exc}") from None


async def read_body(
    resp: aiohttp.ClientResponse, max_bytes: int, truncate: bool
) -> tuple[bytes, bool]:
    body = bytearray()
    async for chunk in resp.content.iter_chunked(64 * 1024):
        body += chunk
        if len(body) > max_bytes:  # the header may be missing or lying
            if not truncate:
                raise Rejected(f"body exceeds {max_bytes} bytes")
            return bytes(body[:max_bytes]), True
    return bytes(body), False
