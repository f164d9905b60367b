"""DNS pinning for the image fetcher (resolvers/fetch/fetcher.py): aiohttp connects to exactly
the addresses the fetcher vetted for a hop and never looks a host up itself, so DNS rebinding
between the check and the connect is impossible."""

from __future__ import annotations

import contextvars
import socket

from aiohttp.abc import AbstractResolver, ResolveResult

# (host, vetted addresses) for the hop the current task is requesting.
PINNED: contextvars.ContextVar[tuple[str, list[ResolveResult]] | None] = contextvars.ContextVar(
    "ogapi_fetch_pinned", default=None
)


class PinnedResolver(AbstractResolver):
    """Hands aiohttp the addresses the fetcher vetted for this hop; never looks anything up."""

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        pinned = PINNED.get()
        if pinned is None or pinned[0].rstrip(".") != host.rstrip("."):
            raise OSError(f"{host} was not vetted by the image fetcher")
        return [{**result, "port": port} for result in pinned[1]]

    async def close(self) -> None:
        return None
