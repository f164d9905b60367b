"""The dashboard's Test API playground (docs/dashboard.md): live previews and signed URLs for
the signed-in account, authenticated by the session cookie.

- `GET /api/dashboard/preview?<image params>` renders the card. It never counts toward quota,
  API calls or the API's per-second budget: it has its own small per-account rate limit
  (PREVIEW_RATE a second), and it never touches the image cache, so a preview can never turn
  into a free cache hit for `/api/generate` (nor fill the shared cache with drafts).
- `POST /api/dashboard/sign` (JSON image params, optional `expires_in`) mints the signed URL and
  `<meta>` block with the account's live key, exactly as `GET /api/signed/generate` does.
"""

from __future__ import annotations

from dataclasses import replace

from aiohttp import web

from resolvers import keys, renders
from resolvers.cache import CachedImage
from resolvers.errors import AppError, TooManyRequests
from resolvers.params import parse_params
from web.appkeys import (
    clock_key,
    fetcher_key,
    meter_key,
    render_pool_key,
    secret_box_key,
    settings_key,
)
from web.auth import guard_browser_post, require_session
from web.bodies import read_json
from web.images import _image_response, _query, mint_signed

PREVIEW_RATE = 4  # previews a second per account (a debounced form sends far fewer)
routes = web.RouteTableDef()


@routes.get("/api/dashboard/preview")
async def preview(request: web.Request) -> web.Response:
    account = await require_session(request)
    app = request.app
    keys.check_account_usable(account)
    decision = await app[meter_key].limiter.hit(f"preview:{account.id}", PREVIEW_RATE)
    if not decision.allowed:
        raise TooManyRequests(
            f"Too many previews: at most {PREVIEW_RATE} a second.",
            retry_after=decision.retry_after,
        )
    req = parse_params(_query(request), allow_http=not app[settings_key].production)

    spec = req.spec
    if req.urls:  # the account's own share of the fetcher (docs/remote-images.md)
        images = await app[fetcher_key].fetch_many(req.urls, owner=account.id)
        spec = replace(spec, images=tuple(sorted(images.items())))
    try:
        body = await app[render_pool_key].render(spec)
    except Exception as exc:
        raise renders.generation_failed() from exc
    image = CachedImage.of(body, req.content_type)
    return _image_response(request, image, {"Cache-Control": "private, no-store"})


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
    settings = request.app[settings_key]
    return web.json_response(mint_signed(settings, plain, key.kid, raw, request.app[clock_key]()))
