"""`POST /api/render-report` (docs/templates.md, The render report): what a render of the
request would draw, per field and per image, without delivering an image. One request of the
plan's per-second budget and one API call (counted by the caller's authentication); never an
image of the quota (nothing is reserved or committed)."""

from __future__ import annotations

from typing import Any

from resolvers.accounts.key_owner import KeyOwner
from resolvers.accounts.keys import usable_account
from resolvers.errors import AppError
from resolvers.fetch.fetcher import RemoteImageFetcher
from resolvers.images.params import ImageRequest
from resolvers.images.renders import Renderer, generation_failed, with_images
from resolvers.limits.per_second import RateDecision
from resolvers.metering.meter import Meter


async def render_report(
    owner: KeyOwner,
    req: ImageRequest,
    *,
    meter: Meter,
    pool: Renderer,
    fetcher: RemoteImageFetcher,
) -> tuple[dict[str, Any], RateDecision]:
    """(the report of `req` drawn for `owner`, the rate-limit decision it spent)."""
    account = await usable_account(owner.id)
    decision = await meter.rate.check(account)
    spec, _ = await with_images(req, fetcher, account.id)
    try:
        found = await pool.report(spec)
    except AppError:
        raise
    except Exception as exc:
        raise generation_failed() from exc
    for name, image in found["images"].items():  # the fetcher knows why a fetch failed
        if image["status"] != "ok" and name in req.urls:
            image["reason"] = fetcher.reason(req.urls[name]) or image["reason"]
    s = req.spec
    template, version = req.template_version or (s.template, None)
    body = {"template": template, "version": version, "width": s.width, "height": s.height}
    return {**body, **found}, decision
