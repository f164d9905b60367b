"""Which remote image URLs and addresses the fetcher may use (pure: no I/O).

`validate_image_url` is the request-time syntax check (→ 400 INVALID_PARAMETER naming the
field), shared by `resolvers.images.params` and the fetcher's redirect handling; `is_public_address`
is the per-address SSRF rule the fetcher applies to every resolved address of every hop.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from yarl import URL

from render.spec import MAX_URL_LENGTH
from resolvers.errors import InvalidParameter

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_HOSTNAME = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?<!-)(\.(?!-)[a-z0-9_-]{1,63}(?<!-))*\.?")
# 127.1, 2130706433, 0x7f.1, 0177.0.0.1: legacy inet_aton spellings of an IPv4 address.
_NUMERIC_HOST = re.compile(r"((0x[0-9a-f]*|[0-9]+)\.?){1,4}")
_BLOCKED_NETWORKS = tuple(
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
        "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16",
        "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
        "::/96", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "2001::/23", "2001:db8::/32",
        "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
    )
)  # fmt: skip


def validate_image_url(field: str, url: str, *, allow_http: bool) -> str:
    """Syntax-check a remote image URL; return it normalised or raise `InvalidParameter`."""
    schemes = ("https", "http") if allow_http else ("https",)
    wanted = "an http or https URL" if allow_http else "an https URL"
    if not isinstance(url, str) or not url:
        raise InvalidParameter(f"{field} must be {wanted}")
    if len(url) > MAX_URL_LENGTH:
        raise InvalidParameter(f"{field} must be at most {MAX_URL_LENGTH} characters")
    if any(c.isspace() or not c.isprintable() or c == "\\" for c in url):
        raise InvalidParameter(f"{field} must be a valid URL")
    try:
        parsed = URL(url)
        netloc = urlsplit(url).netloc
    except ValueError:
        raise InvalidParameter(f"{field} must be a valid URL") from None
    if parsed.scheme not in schemes:
        raise InvalidParameter(f"{field} must be {wanted}")
    if "@" in netloc:
        raise InvalidParameter(f"{field} must not contain a user name or password")
    host = parsed.raw_host
    if not host:
        raise InvalidParameter(f"{field} must include a host")
    if not (_HOSTNAME.fullmatch(host) or (":" in host and is_ip(host))) or len(host) > 254:
        raise InvalidParameter(f"{field} must have a valid host name")
    return str(parsed.with_fragment(None))


def is_public_address(ip: IPAddress) -> bool:
    """True only for globally routable unicast addresses (mapped IPv6 judged by its IPv4)."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return is_public_address(ip.ipv4_mapped)
        embedded = [ip.sixtofour, *(ip.teredo or ())]
        if any(v4 is not None and not is_public_address(v4) for v4 in embedded):
            return False
    if any(ip in net for net in _BLOCKED_NETWORKS):
        return False
    return ip.is_global and not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def is_legacy_numeric_host(host: str) -> bool:
    """127.1, 2130706433, 0x7f.1, 0177.0.0.1: an IPv4 address in a non-canonical spelling."""
    return bool(_NUMERIC_HOST.fullmatch(host)) and not is_ip(host)
