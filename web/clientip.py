"""The client's address, also behind a load balancer or reverse proxy.

Only proxies named in OGAPI_TRUSTED_PROXIES are believed: when the socket peer is one of them,
the client is the right-most address in X-Forwarded-For that is not itself a trusted proxy.
Without that setting the socket peer is the client (X-Forwarded-For is ignored, since anyone
can send it).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from aiohttp import web

from web.keys import settings_key
from web.settings import Network


def _trusted(address: str, networks: Iterable[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def client_ip(request: web.Request) -> str:
    peer = request.remote or "unknown"
    networks = request.app[settings_key].trusted_proxies
    if not networks or not _trusted(peer, networks):
        return peer
    hops = [h.strip() for h in ",".join(request.headers.getall("X-Forwarded-For", [])).split(",")]
    for hop in reversed([h for h in hops if h]):
        if not _trusted(hop, networks):
            return hop
    return peer


def is_loopback_client(request: web.Request) -> bool:
    try:
        return ipaddress.ip_address(client_ip(request)).is_loopback
    except ValueError:
        return False
