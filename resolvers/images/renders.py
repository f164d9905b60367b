"""The pieces of a render that every image path shares (docs/metering.md): its result, its
errors, the rate-limit token a failed request still spends, fetching a card's remote images
and drawing it, and the built-ins' sample requests.

`ImageService` (resolvers/images/service.py) puts them together: `generate` (the image tiers
first, then metering around the render), `redraw`, `fallback`, `preview`. The pool is anything
with the `Renderer` methods (a `render.pool.RenderPool`).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import NamedTuple, Protocol

from render.spec import CardSpec
from render.templates import TEMPLATES
from resolvers.accounts.key_owner import KeyOwner
from resolvers.errors import AppError
from resolvers.fetch.fetcher import RemoteImageFetcher
from resolvers.images.cache import CachedImage
from resolvers.images.params import ImageRequest, parse_params
from resolvers.limits.per_second import RateDecision
from resolvers.metering.meter import Meter


class Renderer(Protocol):
    async def render(self, spec: CardSpec) -> bytes: ...

    async def render_warned(self, spec: CardSpec) -> tuple[bytes, str]: ...

    async def report(self, spec: CardSpec) -> dict: ...

    async def render_fallback(self, width: int, height: int, fmt: str) -> bytes: ...


class RenderResult(NamedTuple):
    """What `ImageService.generate` answers (a named tuple: built on every cache hit, and a
    frozen dataclass costs several times more to build)."""

    image: CachedImage
    cache_hit: bool
    render_ms: float = 0.0  # spent on this request (0 when served from cache)
    rate: RateDecision | None = None  # the rate-limit decision, when a token was spent
    # "quota" / "rate": the fallback card was served instead (owner out of quota / over the
    # per-second rate limit even after waiting for its turn)
    degraded: str | None = None

    @property
    def partial(self) -> bool:
        """A remote image failed and the card has a placeholder (kept only briefly)."""
        return self.image.partial


DEGRADED_BY = {"QUOTA_EXCEEDED": "quota", "RATE_LIMITED": "rate"}  # error code -> degraded


def generation_failed() -> AppError:
    return AppError(
        "Image generation failed. Please try again.", code="GENERATION_FAILED", status=500
    )


@asynccontextmanager
async def rate_token_on_failure(owner: KeyOwner, meter: Meter) -> AsyncIterator[None]:
    """Around reading and parsing an authenticated caller's parameters: a request that fails
    there (bad JSON, a bad field) still spends a rate-limit token (docs/metering.md), so floods
    of bad requests are limited too."""
    try:
        yield
    except AppError:
        await meter.rate.check(owner)
        raise


async def draw(
    req: ImageRequest,
    pool: Renderer,
    fetcher: RemoteImageFetcher,
    account_id: int,
    took: list[float],
) -> tuple[bytes, bool, str]:
    """(image bytes, partial, warnings): fetch the remote images, then render (its ms
    appended to `took`). Partial: a remote image failed and a placeholder was drawn instead;
    warnings: the X-Render-Warnings of the render (docs/templates.md)."""
    spec, partial = await with_images(req, fetcher, account_id)
    t0 = time.perf_counter()
    body, warned = await pool.render_warned(spec)
    took.append((time.perf_counter() - t0) * 1000)
    return body, partial, warned


async def with_images(
    req: ImageRequest,
    fetcher: RemoteImageFetcher,
    account_id: int,
    urls: dict[str, str] | None = None,
) -> tuple[CardSpec, bool]:
    """(the spec with its remote images fetched, whether one failed): `urls`, or all of
    `req`'s (the playground's drafts fetch only those their template draws)."""
    urls = req.urls if urls is None else urls
    if not urls:
        return req.spec, False
    images = await fetcher.fetch_many(urls, owner=account_id)
    spec = replace(req.spec, images=tuple(sorted(images.items())))
    return spec, any(data is None for data in images.values())


PREVIEW_FIELDS: dict[str, dict[str, str]] = {
    "default": {"subtitle": "A subtitle that explains the page", "author_name": "Jane Doe",
                "date": "Mar 14, 2026", "brand": "acme.dev"},
    "minimal": {"subtitle": "Less chrome, more content", "brand": "calm.design"},
    "vibrant": {"subtitle": "Five days, five features", "badge": "New", "brand": "acme.dev"},
    "blog": {"subtitle": "A story about query plans", "badge": "Engineering",
             "reading_time": "8 min read", "author_name": "Priya Raman", "date": "Feb 2, 2026"},
    "product": {"subtitle": "Noise cancelling, 40 h battery", "brand": "Sonic", "price": "$199",
                "original_price": "$249", "rating": "4.6", "badge": "-20%"},
    "event": {"date": "Apr 24, 2026", "time": "18:00 CET", "location": "Berlin & online",
              "speaker_name": "Lukas Meyer", "badge": "Meetup"},
    "stats": {"stat_value": "1.2M", "stat_label": "monthly active users", "trend_icon": "↑",
              "trend_value": "+18% MoM", "brand": "acme.dev"},
    "real_estate": {"price": "$1,250,000", "address": "24 Harbour Street, Brooklyn",
                    "beds": "3", "baths": "2", "sqft": "1,850", "badge": "For sale"},
    "quote": {"author_name": "Ada Lovelace", "brand": "quotes.dev"},
    "caption": {"caption_top": "When the tests pass", "caption_bottom": "on the first try"},
}  # fmt: skip


def preview_request(name: str) -> ImageRequest:
    """The sample request of built-in template `name` (`GET /api/templates/{name}/preview.png`):
    its fields filled with PREVIEW_FIELDS; 404 NOT_FOUND for an unknown name."""
    if name not in TEMPLATES:
        raise AppError(f"Unknown template {name[:50]!r}.", code="NOT_FOUND", status=404)
    title = "The imagination is the discovery" if name == "quote" else f"The {name} template"
    return parse_params(
        {"title": title, "template": name, **PREVIEW_FIELDS.get(name, {})}, allow_http=False
    )
