"""The SSRF-safe fetcher for remote images (`author_avatar_url`, `logo_url`, `image_url`).

The only code in the service that opens outbound HTTP, and so the one module in resolvers/
allowed to import aiohttp's client (resolvers/ otherwise never imports aiohttp). Which URLs and
addresses are acceptable is `resolvers.fetch.policy` (pure; `validate_image_url` and
`is_public_address` are re-exported here); `RemoteImageFetcher` downloads at render time and
turns every failure into `None` so the card gets a placeholder. `get` reads any resource under
the same rules (the share check's pages and images, resolvers/insight/share_check.py).

Each hop (the first URL and every redirect) resolves its host once, rejects the whole host if
any address is not public, and pins the connection to exactly the vetted addresses through
`PinnedResolver` (resolvers/fetch/pinning.py) - aiohttp never performs a lookup of its own, so
DNS rebinding between the check and the connect is impossible, while the Host header and TLS
SNI still carry the name.

Fairness: each account (the `owner` of a fetch) has its own share of the download slots,
`per_owner` of the connector's `max_connections`, so one account's slow image URLs queue behind
each other and never starve other accounts' fetches (docs/remote-images.md). DNS lookups run
on a small pool of their own under a hard timeout: a hung resolver never pins threads of the
loop's shared default executor (both in resolvers/fetch/limits.py).

Memory: images are checked by resolvers/fetch/image_check.py (pixels from the header before
decoding; at most `max_decodes` decode at once).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Hashable

import aiohttp
from aiohttp.abc import ResolveResult
from yarl import URL

from resolvers.errors import InvalidParameter
from resolvers.fetch.hops import read_body, redirect_target, vetted
from resolvers.fetch.image_check import CONTENT_TYPES, check_image, check_image_head
from resolvers.fetch.limits import (
    Blocked,
    Fetched,
    Head,
    Rejected,
    Shares,
    fetched_images,
    lookup_addresses,
)
from resolvers.fetch.pinning import PINNED, PinnedResolver
from resolvers.fetch.policy import (
    IPAddress,
    is_public_address,
    validate_image_url,
)
from resolvers.memo import SingleFlight

__all__ = [
    "Blocked",
    "Fetched",
    "Rejected",
    "RemoteImageFetcher",
    "is_public_address",
    "lookup_addresses",
    "validate_image_url",
]

log = logging.getLogger(__name__)

USER_AGENT = "OGImageAPI/1.0 (+image fetcher)"
MAX_REASONS = 1024
REDIRECTS = frozenset({301, 302, 303, 307, 308})
FAILURE_TTL = 5.0  # seconds a failed URL is not retried (a card with its placeholder is kept as


# briefly: resolvers.images.cache.PARTIAL_TTL)
class RemoteImageFetcher:
    """Downloads remote images safely; one per app (`async with` or `start()`/`close()`)."""

    def __init__(
        self,
        *,
        allow_private: bool,
        allow_http: bool,
        timeout: float = 5.0,
        max_bytes: int = 5_000_000,
        max_pixels: int = 16_000_000,
        max_decodes: int = 2,
        max_redirects: int = 3,
        success_ttl: float = 600.0,
        failure_ttl: float | None = None,
        max_connections: int = 32,
        per_owner: int = 8,
    ) -> None:
        self.allow_private, self.allow_http = allow_private, allow_http
        self.timeout, self.max_bytes, self.max_pixels = timeout, max_bytes, max_pixels
        self.max_redirects, self.success_ttl = max_redirects, success_ttl
        self.failure_ttl = FAILURE_TTL if failure_ttl is None else failure_ttl
        self.max_connections = max_connections
        self._shares = Shares(min(per_owner, max_connections))
        self._cache = fetched_images()
        # Decoding is the memory peak (width x height x 4 bytes): bound it, not the downloads.
        self._decodes = asyncio.Semaphore(max_decodes)
        self._image_head = functools.partial(check_image_head, max_bytes=max_bytes)
        self._flights: SingleFlight[str, bytes | None] = SingleFlight()
        self._why: dict[str, str] = {}  # url -> why its last fetch failed (newest MAX_REASONS)
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(
            resolver=PinnedResolver(),
            use_dns_cache=False,
            limit=self.max_connections,
            limit_per_host=4,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=self.timeout, sock_connect=min(self.timeout, 3.0)),
            headers={
                "User-Agent": USER_AGENT,
                "Accept": ", ".join(sorted(CONTENT_TYPES - {"image/jpg"})),
                "Accept-Encoding": "identity",
            },
            auto_decompress=False,
            trust_env=False,  # a proxy would do its own DNS and defeat the pinning
            cookie_jar=aiohttp.DummyCookieJar(),
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> RemoteImageFetcher:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def fetch_many(
        self, urls: dict[str, str], owner: Hashable = None
    ) -> dict[str, bytes | None]:
        """Fetch several fields' URLs concurrently for `owner` (an account id): `{field:
        bytes-or-None}`."""
        results = await asyncio.gather(*(self.fetch(url, owner) for url in urls.values()))
        return dict(zip(urls, results, strict=True))

    async def fetch(self, url: str, owner: Hashable = None) -> bytes | None:
        """The bytes of a validated image, or `None` for any failure (cached, coalesced). A
        download this call starts takes one of `owner`'s slots (`fetch_limits.Shares`)."""
        if self._session is None:
            raise RuntimeError("RemoteImageFetcher.start() was not called")
        try:
            url = validate_image_url("url", url, allow_http=self.allow_http)
        except InvalidParameter as exc:
            log.info("remote image rejected: %s", exc.message)
            return None
        cached = self._cache.get(url)
        if cached is not None:
            return cached or None
        return await self._flights.run(url, lambda: self._fetch_and_cache(url, owner))

    async def _fetch_and_cache(self, url: str, owner: Hashable) -> bytes | None:
        shown = URL(url).with_query(None)  # query strings may carry tokens: keep them out of logs
        try:
            async with asyncio.timeout(self.timeout), self._shares.slot(owner):
                fetched = await self._get(
                    URL(url, encoded=True),
                    None,
                    self.max_bytes,
                    self.max_redirects,
                    check=self._image_head,
                )
            await check_image(fetched.body, self.max_pixels, self._decodes)
            data: bytes | None = fetched.body
        except Rejected as exc:
            log.info("remote image %s rejected: %s", shown, exc)
            data = self._failed(url, str(exc))
        except TimeoutError:
            log.info("remote image %s rejected: timed out after %ss", shown, self.timeout)
            data = self._failed(url, f"timed out after {self.timeout:g} s")
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            log.warning("remote image %s failed: %s: %s", shown, type(exc).__name__, exc)
            data = self._failed(url, f"could not be fetched ({type(exc).__name__})")
        self._cache.put(
            url, data or b"", self.success_ttl if data is not None else self.failure_ttl
        )
        return data

    def _failed(self, url: str, why: str) -> bytes | None:
        """Remember why `url` failed (the render report's reason), for the newest few."""
        self._why[url] = why
        if len(self._why) > MAX_REASONS:
            del self._why[next(iter(self._why))]
        return None

    def reason(self, url: str) -> str | None:
        """Why the last fetch of `url` failed, when it did recently."""
        return self._why.get(url)

    def _address_allowed(self, ip: IPAddress, port: int) -> bool:
        return self.allow_private or is_public_address(ip)

    async def vet(self, url: URL) -> list[ResolveResult]:
        """Resolve the hop's host once and check every address; the results get pinned.
        Raises `Blocked` for a non-public address, `Rejected` when the host does not resolve
        (also a webhook endpoint's check when it is added: resolvers/notify/endpoints.py)."""
        return await vetted(url, self._address_allowed, lookup_addresses)

    async def get(
        self,
        url: str,
        *,
        owner: Hashable = None,
        headers: dict[str, str],
        max_bytes: int,
        max_redirects: int,
    ) -> Fetched:
        """Any resource (the share check's pages and images: resolvers/insight/share_check.py),
        under the same SSRF rules, timeout and `owner`'s slots as images. Any status is returned
        (redirects followed); a body past `max_bytes` is cut there (`truncated`). Raises
        InvalidParameter naming `url` for a malformed URL, `Blocked` for a non-public address
        (first hop or redirect), `Rejected` for every other failure."""
        return await self._request(url, owner, headers, max_bytes, max_redirects)

    async def post(
        self, url: str, body: bytes, *, owner: Hashable = None, headers: dict[str, str]
    ) -> Fetched:
        """POST `body` under the same rules as `get` (webhook deliveries:
        resolvers/notify/delivery.py); a redirect is not followed but is a `Rejected`; the
        answer's first 64 KB."""
        return await self._request(url, owner, headers, 64 * 1024, 0, data=body)

    async def _request(
        self,
        url: str,
        owner: Hashable,
        headers: dict[str, str],
        max_bytes: int,
        max_redirects: int,
        data: bytes | None = None,
    ) -> Fetched:
        if self._session is None:
            raise RuntimeError("RemoteImageFetcher.start() was not called")
        checked = URL(validate_image_url("url", url, allow_http=self.allow_http), encoded=True)
        try:
            async with asyncio.timeout(self.timeout), self._shares.slot(owner):
                return await self._get(
                    checked, headers, max_bytes, max_redirects, truncate=True, data=data
                )
        except Rejected:
            raise
        except TimeoutError:
            raise Rejected(f"no answer within {self.timeout:g} s") from None
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            raise Rejected(f"{type(exc).__name__}: {exc}") from None

    async def _get(
        self,
        url: URL,
        headers: dict[str, str] | None,
        max_bytes: int,
        max_redirects: int,
        *,
        check: Callable[[Head], None] | None = None,
        truncate: bool = False,
        data: bytes | None = None,
    ) -> Fetched:
        """Follow up to `max_redirects` redirects, vetting and pinning each hop; `check` may
        refuse a response (raise Rejected) from its head, before its body is read."""
        assert self._session is not None
        for _ in range(max_redirects + 1):
            token = PINNED.set((url.raw_host or "", await self.vet(url)))
            method = "GET" if data is None else "POST"
            try:
                async with self._session.request(
                    method, url, headers=headers, data=data, allow_redirects=False
                ) as resp:
                    if resp.status in REDIRECTS:
                        url = self._redirect_target(url, resp.headers.get("Location"))
                        continue
                    encoding = resp.headers.get("Content-Encoding", "identity").lower()
                    head = Head(
                        str(url),
                        resp.status,
                        resp.content_type,
                        encoding,
                        resp.content_length,
                        resp.charset,
                    )
                    if check is not None:
                        check(head)
                    body, truncated = await read_body(resp, max_bytes, truncate)
                    return Fetched(head, body, truncated)
            finally:
                PINNED.reset(token)
        raise Rejected(f"more than {max_redirects} redirects" if max_redirects else "redirected")

    def _redirect_target(self, current: URL, location: str | None) -> URL:
        return redirect_target(current, location, allow_http=self.allow_http)
