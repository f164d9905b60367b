"""The dashboard playground's previews (docs/dashboard.md, Playground): who may have one, how
many, and the draft itself.

A preview is free: it counts toward no quota, API calls or the API's per-second budget. It is
limited instead by a budget of its own per account: PER_SECOND a second (GCRA, the app's rate
limiter) and at most PER_HOUR in any hour (the app's sliding-window limiter), both in memory
or in Redis and so shared by every worker. And it is a draft, never the deliverable
(render/draft.py): a watermarked JPEG at most 600 px wide or high. It never reads or fills the
image cache, so a preview never makes a later `/api/generate` a free cache hit.

Its remote images come through a fetcher of its own (`make_fetcher`): previews decode at most
PREVIEW_DECODES image at a time and refuse images over PREVIEW_MAX_PIXELS before decoding, so
however many previews are in flight they never take a paid render's download or decode slots.
Image fields the chosen built-in template does not draw are not fetched at all.
"""

from __future__ import annotations

from typing import Protocol

from models import Account
from render.spec import CardSpec
from render.templates import TEMPLATES
from resolvers.accounts.keys import check_account_usable
from resolvers.errors import TooManyRequests
from resolvers.fetch.fetcher import RemoteImageFetcher
from resolvers.images.cache import CachedImage
from resolvers.images.params import ImageRequest
from resolvers.images.renders import generation_failed, with_images
from resolvers.limits.per_second import RateDecision, RateLimiter
from resolvers.limits.per_window import WindowLimiter
from resolvers.metering.plan_rate import rate_limited

PER_SECOND = 4  # a debounced form sends far fewer
PER_HOUR = 300
HOUR = 3600.0
DRAFT_TYPE = "image/jpeg"
PREVIEW_DECODES = 1  # images decoding at once for previews, apart from the paid renders' own
PREVIEW_MAX_PIXELS = 4_000_000  # a draft is at most 600 px wide: no need for a 16 MP photo


def second_key(account_id: int) -> str:
    return f"preview:{account_id}"


def hour_key(account_id: int) -> str:
    return f"preview-hour:{account_id}"


def make_fetcher(*, allow_private: bool, allow_http: bool) -> RemoteImageFetcher:
    """The previews' own remote image fetcher (its own cache, downloads and decode slots)."""
    return RemoteImageFetcher(
        allow_private=allow_private,
        allow_http=allow_http,
        max_pixels=PREVIEW_MAX_PIXELS,
        max_decodes=PREVIEW_DECODES,
    )


def drawn_urls(req: ImageRequest) -> dict[str, str]:
    """`req`'s image URLs its template draws (a custom design asks for its own fields only)."""
    template = TEMPLATES.get(req.spec.template) if req.spec.design is None else None
    if template is None:
        return dict(req.urls)
    return {name: url for name, url in req.urls.items() if name in template.uses}


class DraftRenderer(Protocol):
    async def render_draft(self, spec: CardSpec) -> bytes: ...


async def spend_preview(
    account: Account, limiter: RateLimiter, window: WindowLimiter
) -> RateDecision:
    """Admit one preview for `account`, or raise: 403 when the account may not use the API
    (suspended, payment past due), 429 RATE_LIMITED past either budget. Returns the hourly
    budget's decision (what is left of it, for the X-RateLimit-* headers)."""
    check_account_usable(account)
    second = await limiter.hit(second_key(account.id), PER_SECOND)
    if not second.allowed:
        raise TooManyRequests(
            f"Too many previews: at most {PER_SECOND} a second.", retry_after=second.retry_after
        )
    hour = await window.hit(hour_key(account.id), PER_HOUR, HOUR)
    if not hour.allowed:
        raise rate_limited(
            hour,
            f"Preview limit reached: {PER_HOUR} previews an hour. The API and signed URLs "
            "are not affected.",
        )
    return hour


async def draft(
    account: Account, req: ImageRequest, *, pool: DraftRenderer, fetcher: RemoteImageFetcher
) -> CachedImage:
    """The watermarked draft of `req` for `account` (its remote images fetched on the account's
    own share of `fetcher`, the previews' own: `make_fetcher`, docs/remote-images.md)."""
    spec, _ = await with_images(req, fetcher, account.id, drawn_urls(req))
    try:
        body = await pool.render_draft(spec)
    except Exception as exc:
        raise generation_failed() from exc
    return CachedImage.of(body, DRAFT_TYPE)
