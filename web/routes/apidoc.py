"""`GET /api/openapi.yaml`: the OpenAPI description of the REST API, as shipped in the package
(web/openapi.yaml, package data; in the repository a link to docs/openapi.yaml, which the tests
check against the running server)."""

from __future__ import annotations

import hashlib
from functools import cache
from importlib.resources import files

from aiohttp import web

routes = web.RouteTableDef()


@cache
def _document() -> tuple[bytes, str]:
    body = files("web").joinpath("openapi.yaml").read_bytes()
    return body, f'"{hashlib.sha256(body).hexdigest()[:32]}"'


@routes.get("/api/openapi.yaml")
async def openapi_yaml(request: web.Request) -> web.Response:
    body, etag = _document()
    headers = {"ETag": etag, "Cache-Control": "public, max-age=3600"}
    if request.headers.get("If-None-Match") == etag:
        return web.Response(status=304, headers=headers)
    return web.Response(
        body=body, content_type="application/yaml", charset="utf-8", headers=headers
    )
