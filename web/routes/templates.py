"""REST handlers for custom templates (docs/templates.md): the design schema, and the caller's
own templates with their versions. `X-API-Key`, or the dashboard session (browser-POST guard
on every change)."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web

from render.design.schema import DESIGN_SCHEMA
from resolvers.errors import InvalidParameter
from resolvers.images.params import whole_number
from resolvers.templates import store, views
from web.appkeys import clock_key, settings_key
from web.http.bodies import read_json
from web.http.callers import key_owner
from web.routes.auth import guard_browser_post, require_session

routes = web.RouteTableDef()
NO_STORE = {"Cache-Control": "private, no-store"}


@routes.get("/api/templates/schema.json")
async def design_schema(request: web.Request) -> web.Response:
    """The JSON Schema of the design format: public, the same for everyone."""
    return web.json_response(
        DESIGN_SCHEMA,
        content_type="application/schema+json",
        headers={"Cache-Control": "public, max-age=3600"},
    )


async def caller(request: web.Request) -> tuple[int, datetime]:
    """The account acting: the API key's owner (one API call), or the session's."""
    if "X-API-Key" in request.headers:
        owner, now = await key_owner(request)
        return owner.id, now
    if request.method not in ("GET", "HEAD"):
        guard_browser_post(request)
    account = await require_session(request)
    return account.id, request.app[clock_key]()


def _base(request: web.Request) -> str:
    return request.app[settings_key].base_url


@routes.post("/api/templates")
async def create_template(request: web.Request) -> web.Response:
    account_id, now = await caller(request)
    saved = await store.create(account_id, await read_json(request), now)
    return web.json_response(views.detail(saved, _base(request)), status=201, headers=NO_STORE)


@routes.get("/api/templates/{id}")
async def read_template(request: web.Request) -> web.Response:
    """One of the caller's templates; a built-in's name is public and shows its design."""
    builtin = views.builtin(request.match_info["id"], _base(request))
    if builtin is not None:
        return web.json_response(builtin, headers={"Cache-Control": "public, max-age=3600"})
    account_id, _ = await caller(request)
    saved = await store.read(account_id, request.match_info["id"])
    return web.json_response(views.detail(saved, _base(request)), headers=NO_STORE)


@routes.get("/api/templates/{id}/versions/{n}")
async def read_version(request: web.Request) -> web.Response:
    account_id, _ = await caller(request)
    number = whole_number(request.match_info["n"])
    if number is None or number < 1:
        raise InvalidParameter("a version is a whole number from 1")
    saved = await store.read(account_id, request.match_info["id"], number)
    return web.json_response(views.detail(saved, _base(request)), headers=NO_STORE)


@routes.put("/api/templates/{id}")
async def update_template(request: web.Request) -> web.Response:
    account_id, now = await caller(request)
    saved = await store.update(account_id, request.match_info["id"], await read_json(request), now)
    return web.json_response(views.detail(saved, _base(request)), headers=NO_STORE)


@routes.delete("/api/templates/{id}")
async def delete_template(request: web.Request) -> web.Response:
    account_id, _ = await caller(request)
    await store.delete(account_id, request.match_info["id"])
    return web.Response(status=204, headers=NO_STORE)
