"""REST handlers for uploaded fonts (docs/templates.md, Fonts): `POST /api/fonts` with the
raw file, `GET /api/fonts`, `DELETE /api/fonts/{id}`. `X-API-Key`, or the dashboard session
(same-site only; a font body is never a type an HTML form on another site can send). An upload
spends one request of the account's rate limit, and one check per account runs at a time."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web

from models import Account
from resolvers.accounts.key_owner import KeyOwner
from resolvers.accounts.origin import allowed_origins, check_same_site
from resolvers.errors import AppError
from resolvers.templates import fonts
from web.appkeys import clock_key, image_service_key, meter_key, settings_key
from web.http.callers import key_owner
from web.http.headers import decision_headers
from web.routes.auth import require_session, session_account

routes = web.RouteTableDef()
NO_STORE = {"Cache-Control": "private, no-store"}
TYPES = {
    "font/ttf",
    "font/otf",
    "font/woff",
    "font/woff2",
    "application/octet-stream",
    "font/sfnt",
    "application/font-woff",
}
TOO_LARGE = f"A font is at most {fonts.MAX_FONT_BYTES >> 20} MB."


async def _caller(request: web.Request) -> tuple[Account | KeyOwner, datetime]:
    """The API key's owner (one API call), or the session's account (same-site)."""
    if "X-API-Key" in request.headers:
        return await key_owner(request)
    if request.method not in ("GET", "HEAD"):
        base = request.app[settings_key].base_url
        check_same_site(request.headers, allowed_origins(base, request.scheme, request.host))
    account = await require_session(request)
    return account, request.app[clock_key]()


async def _body(request: web.Request) -> bytes:
    """The raw font, at most MAX_FONT_BYTES (413 past it, however it is sent)."""
    if request.content_type not in TYPES:
        raise fonts.InvalidFont(
            "Send the font file as the body with Content-Type font/ttf, font/otf, font/woff, "
            "font/woff2 or application/octet-stream."
        )
    limit = fonts.MAX_FONT_BYTES
    if request.content_length is not None and request.content_length > limit:
        raise AppError(TOO_LARGE, code="PAYLOAD_TOO_LARGE", status=413)
    data = bytearray()
    while chunk := await request.content.read(1 << 16):
        data += chunk
        if len(data) > limit:
            raise AppError(TOO_LARGE, code="PAYLOAD_TOO_LARGE", status=413)
    if not data:
        raise fonts.InvalidFont("The body is empty: send the font file.")
    return bytes(data)


@routes.post("/api/fonts")
async def upload(request: web.Request) -> web.Response:
    account, now = await _caller(request)
    decision = await request.app[meter_key].rate.check(account)  # before reading the body
    data = await _body(request)
    pool = request.app[image_service_key].pool  # its font-check process
    font = await fonts.create(account.id, data, request.query.get("family"), pool.inspect_font, now)
    return web.json_response(font, status=201, headers={**NO_STORE, **decision_headers(decision)})


@routes.get("/api/fonts")
async def list_fonts(request: web.Request) -> web.Response:
    """The bundled families (public); with a key or the session, the caller's own after."""
    body = fonts.bundled_list()
    if "X-API-Key" not in request.headers and await session_account(request) is None:
        return web.json_response({"fonts": body}, headers={"Cache-Control": "public, max-age=3600"})
    account, _ = await _caller(request)
    return web.json_response({"fonts": body + await fonts.list_own(account.id)}, headers=NO_STORE)


@routes.delete("/api/fonts/{id}")
async def delete(request: web.Request) -> web.Response:
    account, _ = await _caller(request)
    await fonts.delete(account.id, request.match_info["id"])
    return web.Response(status=204, headers=NO_STORE)
