"""POST /api/batch (docs/rest-api.md): up to 100 images in one call, as a streamed ZIP or as
JSON with a signed URL per item. Thin: the items and their metering are
resolvers/images/batch.py."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import replace
from datetime import datetime
from typing import Any

from aiohttp import web

from resolvers import idempotency
from resolvers.accounts.key_owner import KeyOwner
from resolvers.images import batch, renders, signing
from resolvers.images.batch import ItemResult
from web.appkeys import image_service_key, settings_key
from web.http.bodies import read_json
from web.http.callers import key_owner
from web.http.headers import quota_headers, rate_limit_headers
from web.http.zipstream import ZipStream

routes = web.RouteTableDef()


def wants_json(accept: str) -> bool:
    """JSON only when `Accept` asks for application/json at least as much as for a ZIP
    (explicitly); no `Accept`, `*/*` or `application/zip`: the ZIP."""
    q = {"application/json": 0.0, "application/zip": 0.0}
    for part in accept.split(","):
        kind, *params = (p.strip() for p in part.split(";"))
        if kind.lower() not in q:
            continue
        weight = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        q[kind.lower()] = max(q[kind.lower()], weight)
    return q["application/json"] > 0 and q["application/json"] >= q["application/zip"]


@routes.post("/api/batch")
async def post_batch(request: web.Request) -> web.StreamResponse:
    app = request.app
    owner, now = await key_owner(request)
    images = app[image_service_key]
    meter = images.meter
    async with renders.rate_token_on_failure(owner, meter):
        raw = request.headers.get("Idempotency-Key")
        key = None if raw is None else idempotency.check_key(raw)
        body = await read_json(request)
        items = batch.parse_batch(body, allow_http=not app[settings_key].production)
    scope = f"{batch.IDEMPOTENCY_SCOPE}:{owner.id}"
    as_json = wants_json(request.headers.get("Accept", ""))
    if key is not None and (stored := await idempotency.replay(scope, key, body, now)):
        replay = batch.replayed(items, stored[1])
        headers = {"Idempotent-Replayed": "true"}
        if as_json:
            return _json(request, owner, replay, headers)
        results = _replay_images(request, owner, replay)
        return await _zip(request, now, results, headers)

    rate = await meter.rate.check(owner, batch.rate_cost(len(items)))
    headers = rate_limit_headers(*await meter.rate.standing(owner, rate))
    window = batch.window_for(images.pool)
    results = batch.run(images, owner, items, now=now, rate=rate, window=window)
    if as_json:
        done = [replace(result, image=None) async for result in results]  # URLs, not bytes
        await _remember(scope, key, body, now, done)
        headers.update(quota_headers(*await meter.quota_snapshot.usage(owner, now)))
        return _json(request, owner, done, headers)
    written: list[ItemResult] = []
    response = await _zip(request, now, results, headers, written)
    await _remember(scope, key, body, now, written)
    return response


async def _remember(
    scope: str, key: str | None, body: dict, now: datetime, results: list[ItemResult]
) -> None:
    """Store the answer of a batch sent with an `Idempotency-Key`: the manifest only (a replay
    takes the images from the cache, see `_replay_images`)."""
    if key is not None:
        answer = {"results": [r.manifest() for r in results]}
        await idempotency.remember(scope, key, body, now, 200, answer)


def _replay_images(
    request: web.Request, owner: KeyOwner, results: list[ItemResult]
) -> AsyncGenerator[ItemResult, None]:
    images = request.app[image_service_key]
    return batch.replay_images(images, owner, results, window=batch.window_for(images.pool))


def _json(
    request: web.Request, owner: KeyOwner, results: list[ItemResult], headers: dict[str, str]
) -> web.Response:
    """`{"results": [...]}` with a signed URL (no expiry) per successful item."""
    base = request.app[settings_key].base_url
    api_key = request.headers["X-API-Key"].strip()  # authenticated: the owner's live key

    def entry(result: ItemResult) -> dict[str, Any]:
        url = None
        if result.ok and result.req is not None:
            url = signing.signed_url(base, api_key, owner.kid, dict(result.req.params), None)
        return {
            "index": result.index,
            "status": "ok" if result.ok else "error",
            "code": result.code,
            "message": result.message,
            "url": url,
            "cache": result.cache,
            "warnings": result.warnings if result.ok else None,
        }

    return web.json_response({"results": [entry(r) for r in results]}, headers=headers)


async def _zip(
    request: web.Request,
    now: datetime,
    results: AsyncGenerator[ItemResult, None],
    headers: dict[str, str],
    written: list[ItemResult] | None = None,
) -> web.StreamResponse:
    """The streamed ZIP: each successful item's image as it is ready, then `manifest.json`
    (the results, without their images, are appended to `written`)."""
    response = web.StreamResponse(headers=headers)
    response.content_type = "application/zip"
    response.headers["Content-Disposition"] = 'attachment; filename="batch.zip"'
    response.headers["Cache-Control"] = "no-store"
    await response.prepare(request)
    archive = ZipStream(response, now)
    manifest = []
    async with aclosing(results) as items:
        async for result in items:
            if result.ok and result.image is not None and result.file is not None:
                await archive.add(result.file, result.image.body)
            manifest.append(result.manifest())
            if written is not None:
                written.append(replace(result, image=None))
    await archive.add("manifest.json", json.dumps(manifest, indent=1).encode(), compress=True)
    await archive.close()
    return response
