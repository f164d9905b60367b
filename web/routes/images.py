"""REST handlers for the image API (docs/rest-api.md): generate, signed URLs, templates and
previews.

Thin: read input, call the image service (`resolvers.images.service.ImageService`, the app's
`image_service_key`) or `resolvers.images.signing`, map the result to headers.
"""

from __future__ import annotations

import logging
from datetime import datetime

from aiohttp import web

from resolvers.accounts.key_owner import KeyOwner
from resolvers.images import renders, signing
from resolvers.images.params import ImageRequest, QueryMemo, parse_params
from resolvers.templates import catalog, drawn
from resolvers.templates import views as template_views
from web.appkeys import (
    clock_key,
    fetch_log_key,
    image_service_key,
    settings_key,
    signer_key,
)
from web.http.bodies import read_json
from web.http.callers import key_owner
from web.http.headers import decision_headers, quota_headers, rate_limit_headers
from web.http.image_responses import image_query, image_response, repeated_param

log = logging.getLogger("ogapi.images")
routes = web.RouteTableDef()
DAY = 86400
PRIVATE_CACHE = f"private, max-age={DAY}"
PUBLIC_DAY = f"public, max-age={DAY}"
PARTIAL_MAX_AGE = 300  # a card with a placeholder for a failed remote image (`result.partial`)
# max-age of the fallback card by `RenderResult.degraded` (docs/signed-urls.md): over the rate
# limit a crawler should come back soon
FALLBACK_MAX_AGE = {"quota": 300, "rate": 60}
# Parsed query strings (parsing is pure; a cache hit should not redo it), per allow_http. Keyed
# on the raw query exactly as sent: yarl's decoded `query_string` maps %2526 and %26 (and %253D
# and %3D, ...) to one string, so it cannot name what was asked (docs/caching.md).
_GENERATE_QUERIES: QueryMemo[ImageRequest] = QueryMemo()
_SIGNED_QUERIES: QueryMemo[tuple[dict[str, str], ImageRequest]] = QueryMemo()


def _now(request: web.Request) -> datetime:
    return request.app[clock_key]()


def _render_ms(ms: float) -> str:
    """X-Render-Ms: the render's milliseconds, 0.0 for an image served from a tier."""
    return f"{ms:.1f}" if ms else "0.0"


def _allow_http(request: web.Request) -> bool:
    return not request.app[settings_key].production


async def _render(
    request: web.Request, owner: KeyOwner, now: datetime, req: ImageRequest
) -> web.Response:
    """Render (or serve from cache) `req` for an API-key caller, with its response headers."""
    images = request.app[image_service_key]
    result = await images.generate(owner, req, now=now)
    meter = images.meter
    headers = quota_headers(*await meter.quota_snapshot.usage(owner, now))
    headers["Cache-Control"] = PRIVATE_CACHE
    if result.partial:
        headers["Cache-Control"] = f"private, max-age={PARTIAL_MAX_AGE}"
    headers["X-Cache"] = "HIT" if result.cache_hit else "MISS"
    headers["X-Render-Ms"] = _render_ms(result.render_ms)
    if result.image.warnings:
        headers["X-Render-Warnings"] = result.image.warnings
    headers.update(rate_limit_headers(*await meter.rate.standing(owner, result.rate)))
    return image_response(request, result.image, headers)


@routes.post("/api/generate")
async def generate_post(request: web.Request) -> web.Response:
    owner, now = await key_owner(request)
    async with renders.rate_token_on_failure(owner, request.app[image_service_key].meter):
        raw = await read_json(request)
        design = await drawn.resolve(owner.id, raw)
        req = parse_params(raw, allow_http=_allow_http(request), design=design)
    return await _render(request, owner, now, req)


@routes.post("/api/render-report")
async def render_report(request: web.Request) -> web.Response:
    """What a render of the body (as for POST /api/generate) would draw: docs/templates.md."""
    owner, _ = await key_owner(request)
    images = request.app[image_service_key]
    async with renders.rate_token_on_failure(owner, images.meter):
        raw = await read_json(request)
        design = await drawn.resolve(owner.id, raw)
        req = parse_params(raw, allow_http=_allow_http(request), design=design)
    body, decision = await images.report(owner, req)
    headers = {"Cache-Control": "no-store", **decision_headers(decision)}
    return web.json_response(body, headers=headers)


@routes.get("/api/generate")
async def generate_get(request: web.Request) -> web.Response:
    owner, now = await key_owner(request)
    memo = (_allow_http(request), request.rel_url.raw_query_string)
    req = _GENERATE_QUERIES.get(memo)
    if req is None:
        async with renders.rate_token_on_failure(owner, request.app[image_service_key].meter):
            raw = image_query(request)
            design = await drawn.resolve(owner.id, raw)
            req = parse_params(raw, allow_http=memo[0], design=design)
        if design is None:  # a custom template is the caller's own, and its latest version
            _GENERATE_QUERIES.put(memo, req)
    return await _render(request, owner, now, req)


@routes.get("/api/signed/generate")
async def signed_generate(request: web.Request) -> web.Response:
    owner, now = await key_owner(request)
    api_key = request.headers["X-API-Key"].strip()  # authenticated: the owner's live key
    raw = image_query(request)
    design = await drawn.resolve(owner.id, raw)
    site = request.app[settings_key]
    body = signing.mint(
        raw, api_key, owner.kid, now, design, base_url=site.base_url, allow_http=not site.production
    )
    return web.json_response(body)


@routes.get("/api/signed/image")
async def signed_image(request: web.Request) -> web.Response:
    app, now = request.app, _now(request)
    query_string = request.rel_url.raw_query_string
    memo = (not app[settings_key].production, query_string)
    known = _SIGNED_QUERIES.get(memo)
    if known is None:
        if repeated_param(request.query):
            raise signing.invalid()  # a repeated name is never something we signed
        raw = dict(request.query)
    else:
        raw, req = known
    owner = await app[signer_key].verify(raw, now, query_string)
    if known is None:
        params = {k: v for k, v in raw.items() if k not in signing.CONTROL}
        design = await drawn.resolve(owner.id, params)
        req = parse_params(params, allow_http=memo[0], design=design)
        if design is None:  # a custom template's latest version is read each time
            _SIGNED_QUERIES.put(memo, (raw, req))
    result = await app[image_service_key].generate(owner, req, now=now, degrade=True)
    if result.degraded:
        max_age = FALLBACK_MAX_AGE[result.degraded]
        headers = {"Cache-Control": f"public, max-age={max_age}", "X-OG-Degraded": result.degraded}
    else:
        max_age = DAY
        if "exp" in raw:
            max_age = max(0, min(DAY, int(raw["exp"]) - int(now.timestamp())))
        if result.partial:
            max_age = min(max_age, PARTIAL_MAX_AGE)
        headers = {"Cache-Control": PUBLIC_DAY if max_age == DAY else f"public, max-age={max_age}"}
    if not result.degraded:  # the fallback card is neither a hit nor a render of this image
        headers["X-Cache"] = "HIT" if result.cache_hit else "MISS"
        headers["X-Render-Ms"] = _render_ms(result.render_ms)
        if result.image.warnings:
            headers["X-Render-Warnings"] = result.image.warnings
    response = image_response(request, result.image, headers)
    app[fetch_log_key].record(
        owner.id,
        request.headers.get("User-Agent", ""),
        now,
        image=req.cache_key,
        title=req.spec.title,
        status=response.status,
        cache_hit=result.cache_hit and not result.degraded,
    )
    return response


@routes.get("/api/templates")
async def templates(request: web.Request) -> web.Response:
    """The built-ins (public); with an `X-API-Key`, the caller's own templates after them."""
    base = request.app[settings_key].base_url
    body = catalog.template_list()
    for t in body:
        t["preview_url"] = f"{base}/api/templates/{t['name']}/preview.png"
    if "X-API-Key" not in request.headers:
        return web.json_response(
            {"templates": body}, headers={"Cache-Control": "public, max-age=3600"}
        )
    owner, _ = await key_owner(request)
    body.extend(await template_views.own_list(owner.id, base))
    return web.json_response({"templates": body}, headers={"Cache-Control": "private, no-store"})


@routes.get("/api/templates/{name}/preview.png")
async def template_preview(request: web.Request) -> web.Response:
    image = await request.app[image_service_key].preview(request.match_info["name"])
    return image_response(request, image, {"Cache-Control": PUBLIC_DAY})
