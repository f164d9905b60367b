"""The dashboard's Test API playground (docs/dashboard.md): live previews and signed URLs for
the signed-in account, authenticated by the session cookie.

- `GET /api/dashboard/preview?<image params>` answers the card's draft: a watermarked JPEG at
  most 600 px on its long side, whatever size or format was asked, on its own per-account
  budget (resolvers/images/previews.py). It counts toward no quota, API calls or the API's rate
  limit.
- `POST /api/dashboard/preview` `{design, params}` is the same draft, on the same budget, of a
  design not saved yet (the template studio's live preview); an invalid design is 400
  INVALID_DESIGN listing every problem's JSON Pointer. Browser-POST guard, like every change.
- `POST /api/dashboard/sign` (JSON image params, optional `expires_in`) mints the signed URL and
  `<meta>` block with the account's live key, exactly as `GET /api/signed/generate` does.
"""

from __future__ import annotations

from aiohttp import web

from models import Account
from resolvers.accounts import keys
from resolvers.errors import AppError, InvalidParameter
from resolvers.images import previews, signing
from resolvers.images.params import parse_params
from resolvers.limits.per_second import RateDecision
from resolvers.templates import drawn
from resolvers.templates.fields import DrawnDesign
from web.appkeys import (
    clock_key,
    image_service_key,
    secret_box_key,
    settings_key,
    window_limiter_key,
)
from web.http.bodies import read_json
from web.http.headers import decision_headers
from web.http.image_responses import image_query, image_response
from web.routes.auth import guard_browser_post, require_session

routes = web.RouteTableDef()


@routes.get("/api/dashboard/preview")
async def preview(request: web.Request) -> web.Response:
    account = await require_session(request)
    app = request.app
    limiter = app[image_service_key].meter.limiter
    budget = await previews.spend_preview(account, limiter, app[window_limiter_key])
    raw = image_query(request)
    design = await drawn.resolve(account.id, raw)
    return await _draft(request, account, raw, design, budget)


@routes.post("/api/dashboard/preview")
async def preview_unsaved(request: web.Request) -> web.Response:
    guard_browser_post(request)
    account = await require_session(request)
    app = request.app
    limiter = app[image_service_key].meter.limiter
    budget = await previews.spend_preview(account, limiter, app[window_limiter_key])
    body = await read_json(request)
    unknown = sorted(set(body) - {"design", "params"})
    if unknown:
        raise InvalidParameter(f"Unknown member: {unknown[0][:40]}")
    if "design" not in body:
        raise InvalidParameter("design is required")
    given = body.get("params") or {}
    if not isinstance(given, dict):
        raise InvalidParameter("params must be an object of field values")
    design = await drawn.unsaved_for(account.id, body["design"])
    raw = {
        k: v if isinstance(v, str) else str(v)
        for k, v in given.items()
        if v is not None and k != "template"
    }
    return await _draft(request, account, raw, design, budget)


async def _draft(
    request: web.Request,
    account: Account,
    raw: dict[str, str],
    design: DrawnDesign | None,
    budget: RateDecision,
) -> web.Response:
    app = request.app
    req = parse_params(raw, allow_http=not app[settings_key].production, design=design)
    image = await app[image_service_key].draft(account, req)
    headers = {"Cache-Control": "private, no-store", **decision_headers(budget)}
    return image_response(request, image, headers)


@routes.post("/api/dashboard/sign")
async def sign(request: web.Request) -> web.Response:
    guard_browser_post(request)
    account = await require_session(request)
    keys.check_account_usable(account)
    body = await read_json(request)
    raw = {k: v if isinstance(v, str) else str(v) for k, v in body.items() if v is not None}
    key = await keys.active_key(account)
    plain = keys.reveal(key, request.app[secret_box_key]) if key else None
    if key is None or plain is None:
        raise AppError("This account has no API key.", code="INVALID_API_KEY", status=401)
    site, now = request.app[settings_key], request.app[clock_key]()
    design = await drawn.resolve(account.id, raw)
    body = signing.mint(
        raw, plain, key.kid, now, design, base_url=site.base_url, allow_http=not site.production
    )
    return web.json_response(body)
