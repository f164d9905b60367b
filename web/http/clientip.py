"""The client's address, also behind a load balancer or reverse proxy.

Only proxies named in OGAPI_TRUSTED_PROXIES are believed: when the socket peer is one of them,
the client is the right-most address in X-Forwarded-For that is not itself a trusted proxy.
Without that setting the socket peer is the client (X-Forwarded-For is ignored, since anyone
can send it).
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable

from aiohttp import web

from web.appkeys import settings_key
from web.settings import Network


def _trusted(address: str, networks: Iterable[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def client_ip(request: web.Request) -> str:
    peer = request.remote or "unknown"
    settings = request.app[settings_key]
    networks = settings.trusted_proxies
    if not networks and not _WARNED and "X-Forwarded-For" in request.headers:
        _warn_untrusted_proxy(peer, settings.production)
    if not networks or not _trusted(peer, networks):
        return peer
    hops = [h.strip() for h in ",".join(request.headers.getall("X-Forwarded-For", [])).split(",")]
    for hop in reversed([h for h in hops if h]):
        if not _trusted(hop, networks):
            return hop
    return peer


_WARNED: list[bool] = []
log = logging.getLogger("ogapi.clientip")
PROXY_WARNING = (
    "requests reach this server from {peer} with X-Forwarded-For, but OGAPI_TRUSTED_PROXIES "
    "is unset: the header is ignored, so every client looks like {peer} (one login throttle "
    "for everyone, /metrics open to all). Set OGAPI_TRUSTED_PROXIES={peer} if it is your "
    "reverse proxy (docs/operations.md#several-hosts-behind-a-load-balancer)."
)


def _warn_untrusted_proxy(peer: str, production: bool) -> None:
    """Once per process, in production: a loopback peer forwarding for others is a reverse
    proxy on this host that was not declared."""
    try:
        loopback = ipaddress.ip_address(peer).is_loopback
    except ValueError:
        return
    if loopback and production:
        _WARNED.append(True)
        log.warning(PROXY_WARNING.format(peer=peer))


def startup_warnings(settings) -> None:
    """At start-up, in production: listening on loopback only means clients come through a
    proxy on this host, whose X-Forwarded-For is ignored without OGAPI_TRUSTED_PROXIES."""
    if not settings.production or settings.trusted_proxies:
        return
    try:
        loopback = ipaddress.ip_address(settings.host).is_loopback
    except ValueError:
        loopback = settings.host == "localhost"
    if loopback:
        log.warning(
            "listening on %s (loopback) in production with OGAPI_TRUSTED_PROXIES unset: behind "
            "a reverse proxy on this host, set OGAPI_TRUSTED_PROXIES=127.0.0.1 so that client "
            "addresses are read from X-Forwarded-For "
            "(docs/operations.md#several-hosts-behind-a-load-balancer)",
            settings.host,
        )


def is_loopback_client(request: web.Request) -> bool:
    try:
        return ipaddress.ip_address(client_ip(request)).is_loopback
    except ValueError:
        return False
