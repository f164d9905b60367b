"""The share check (docs/link-previews.md): read a page as the link-preview crawlers do and say
what each platform will show and what is wrong with it.

Each platform's crawler reads the page with its own User-Agent (a site may treat them
differently), through the SSRF-safe fetcher (resolvers/fetch/fetcher.py: public addresses only,
checked on every redirect; https only in production) under its 5 s timeout: at most
`PAGE_BYTES` of HTML (compressed or not) and `IMAGE_BYTES` of each image, `MAX_REDIRECTS`
redirects. A blocked or malformed URL is the caller's mistake (400 INVALID_PARAMETER naming
`url`); everything the page does wrong is a problem in the answer. Memory per check is bounded
by 5 pages of 1 MB (twice: compressed and not) and `MAX_IMAGES` images of 10 MB.
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable

from resolvers.errors import InvalidParameter
from resolvers.fetch.fetcher import RemoteImageFetcher
from resolvers.fetch.image_check import image_info
from resolvers.fetch.limits import Blocked, Fetched, Rejected
from resolvers.fetch.policy import validate_image_url
from resolvers.insight.page_meta import Unreadable, decode, decompress, is_html, meta_tags
from resolvers.insight.share_rules import (
    MB,
    PLATFORMS,
    USER_AGENTS,
    ImageRead,
    PageRead,
    image_url,
    problems,
)

PAGE_BYTES = 1 * MB
IMAGE_BYTES = 10 * MB
MAX_REDIRECTS = 5
MAX_IMAGES = 3  # distinct image addresses fetched per check (the platforms' pages usually agree)
PAGE_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"
IMAGE_ACCEPT = "image/webp,image/png,image/jpeg,image/gif,*/*;q=0.5"
# what a crawler sends and reads, by kind of resource: Accept, Accept-Encoding, bytes read
ASKS = {
    "page": (PAGE_ACCEPT, "gzip, deflate", PAGE_BYTES),
    "image": (IMAGE_ACCEPT, "identity", IMAGE_BYTES),
}


async def share_check(url: object, fetcher: RemoteImageFetcher, owner: Hashable) -> dict:
    """The answer of `POST /api/share-check` for `url` (docs/rest-api.md)."""
    if not isinstance(url, str):
        raise InvalidParameter("url must be an https URL")
    validate_image_url("url", url, allow_http=fetcher.allow_http)  # 400 naming `url`
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(_read_page(fetcher, url, p, owner)) for p in PLATFORMS]
    except ExceptionGroup as failed:
        if failed.subgroup(Blocked) is None:
            raise
        raise InvalidParameter(
            "url must point to a public address (it or a redirect resolves to a private, "
            "loopback or reserved one)"
        ) from None
    pages = [t.result() for t in tasks]
    wanted: dict[str, str] = {}  # absolute image URL -> the first platform that takes it
    for page in pages:
        if (urls := image_url(page.platform, page)) is not None:
            wanted.setdefault(urls[1], page.platform)
    fetched = list(wanted.items())[:MAX_IMAGES]
    reads = await asyncio.gather(*(_read_image(fetcher, u, p, owner) for u, p in fetched))
    images = {read.url: read for read in reads}
    for left in wanted.keys() - images.keys():
        images[left] = ImageRead(left, error="not checked: the pages name too many images")
    shown = next((p for p in pages if p.error is None), pages[0])
    first_image = next(iter(wanted), None)  # the first platform's image, in platform order
    return {
        "url": url,
        "final_url": shown.final_url,
        "status": shown.status,
        "tags": shown.tags,
        "image": images[first_image].as_json() if first_image else None,
        "platforms": [_verdict(page, images) for page in pages],
    }


def _verdict(page: PageRead, images: dict[str, ImageRead]) -> dict[str, object]:
    found = problems(page.platform, page, images)
    urls = image_url(page.platform, page)
    return {
        "platform": page.platform,
        "ok": not found,
        "problems": found,
        "title": _title(page),
        "image_url": urls[1] if urls else None,
    }


def _title(page: PageRead) -> str | None:
    keys = ("twitter:title", "og:title", "title") if page.platform == "x" else ("og:title", "title")
    return next((page.tags[k] for k in keys if page.tags.get(k)), None)


async def _crawl(
    fetcher: RemoteImageFetcher, url: str, platform: str, owner: Hashable, kind: str
) -> Fetched:
    """`url` as `platform`'s crawler asks for a `kind` ("page" or "image")."""
    accept, encoding, max_bytes = ASKS[kind]
    headers = {"User-Agent": USER_AGENTS[platform], "Accept": accept, "Accept-Encoding": encoding}
    return await fetcher.get(
        url, owner=owner, headers=headers, max_bytes=max_bytes, max_redirects=MAX_REDIRECTS
    )


async def _read_page(
    fetcher: RemoteImageFetcher, url: str, platform: str, owner: Hashable
) -> PageRead:
    try:
        got = await _crawl(fetcher, url, platform, owner, "page")
    except Blocked:
        raise
    except Rejected as exc:
        return PageRead(platform, error=str(exc))
    head = got.head
    if not 200 <= head.status < 300:
        return PageRead(platform, head.url, head.status, error=f"it answered HTTP {head.status}")
    if not is_html(head.content_type):
        return PageRead(
            platform,
            head.url,
            head.status,
            error=f"it is {head.content_type[:60]}, not an HTML page",
        )
    try:
        html = decompress(got.body, head.content_encoding, PAGE_BYTES)
    except Unreadable as exc:
        return PageRead(platform, head.url, head.status, error=str(exc))
    # Lexbor parses 1 MB in milliseconds, but off the event loop all the same.
    tags = await asyncio.to_thread(lambda: meta_tags(decode(html, head.charset)))
    return PageRead(platform, head.url, head.status, tags)


async def _read_image(
    fetcher: RemoteImageFetcher, url: str, platform: str, owner: Hashable
) -> ImageRead:
    try:
        got = await _crawl(fetcher, url, platform, owner, "image")
    except InvalidParameter as exc:
        return ImageRead(url, error=exc.message.replace("url", "its address", 1))
    except Rejected as exc:
        return ImageRead(url, error=str(exc))
    head = got.head
    if head.status != 200:
        return ImageRead(url, head.status, error=f"it answered HTTP {head.status}")
    size = max(len(got.body), head.content_length or 0) if got.truncated else len(got.body)
    info = await asyncio.to_thread(image_info, got.body)
    fmt, width, height = info if info is not None else (None, None, None)
    return ImageRead(url, head.status, head.content_type, size, got.truncated, fmt, width, height)
