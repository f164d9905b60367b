"""The one Redis client of a process, built from `REDIS_URL` by `connect` (docs/operations.md).

Every user in a worker shares it (one connection pool): the image cache (resolvers/images/cache.py),
the rate limiter (resolvers/limits/per_second.py) and the key cache's subscription and announcements
(resolvers/accounts/keycache.py). The whole URL is honoured: `redis://`, `rediss://` (TLS), `unix://`,
a username and password, the database number, and redis-py's query options such as
`?ssl_cert_reqs=none`, `ssl_ca_certs=/path` or `socket_timeout=0.5`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from redis.asyncio import Redis

SCHEMES = ("redis", "rediss", "unix")
# Seconds to connect or to wait for an answer. Short: the rate limiter fails open and the cache
# misses when Redis is away, and neither may hold a request up for long. A URL may override it.
TIMEOUT = 1.0


def check_url(url: str) -> str:
    """`url` when it is a Redis URL; ValueError naming what is wrong otherwise."""
    scheme = urlsplit(url).scheme
    if scheme not in SCHEMES:
        raise ValueError(f"REDIS_URL must start with redis://, rediss:// or unix://, got {url!r}")
    return url


def connect(url: str) -> Redis:
    """A client (lazy: it connects on first use) for `url`. One retry on a fresh connection, so
    that the first command after a Redis restart does not fail on a dead pooled connection."""
    from redis.asyncio import Redis
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    return Redis.from_url(
        check_url(url),
        socket_timeout=TIMEOUT,
        socket_connect_timeout=TIMEOUT,
        retry=Retry(NoBackoff(), 1),
    )


def where(client: Redis) -> tuple:
    """Which server and database a client talks to (to announce a change once per Redis)."""
    kw = client.connection_pool.connection_kwargs
    return (kw.get("host"), kw.get("port"), kw.get("path"), kw.get("db", 0))
