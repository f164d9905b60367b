"""The dashboard's HTML pages (docs/dashboard.md): sign-in, sign-up, password reset, the
dashboard itself, the template studio and a styled 404, rendered with aiohttp-jinja2 from
web/html, plus the static files of web/static under hashed URLs.

Every page carries a strict Content-Security-Policy (no inline script or style: page data goes
out as a `<script type="application/json">` block), `X-Content-Type-Options`,
`Referrer-Policy` and `frame-ancestors 'none'`.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, urlsplit

import aiohttp_jinja2
import jinja2
from aiohttp import web

from web.appkeys import image_service_key, settings_key
from web.routes.auth import session_account

HERE = Path(__file__).parent.parent  # web/
STATIC = HERE / "static"
PAGES = HERE / "html"  # Jinja (card designs are "templates": render/templates.py)
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; "
    "connect-src 'self'; font-src 'self'; manifest-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
YEAR = 365 * 86400
routes = web.RouteTableDef()


def safe_next(raw: str | None) -> str:
    """Where to go after signing in: a path on this site only (never `//evil` or a URL)."""
    if not raw or not raw.startswith("/") or raw.startswith(("//", "/\\")):
        return "/dashboard"
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc or any(c in raw for c in "\r\n\t"):
        return "/dashboard"
    return raw


def page(request: web.Request, template: str, data: dict | None = None, status: int = 200):
    settings = request.app[settings_key]
    context = {
        "data": {"billing": settings.billing_configured, **(data or {})},
        "production": settings.production,
    }
    response = aiohttp_jinja2.render_template(template, request, context, status=status)
    response.headers.update(PAGE_HEADERS)
    return response


def login_redirect(request: web.Request) -> web.HTTPFound:
    target = request.path_qs
    return web.HTTPFound(f"/login?next={quote(target, safe='/')}", headers=PAGE_HEADERS)


@routes.get("/")
async def index(request: web.Request) -> web.StreamResponse:
    target = "/dashboard" if await session_account(request) else "/login"
    raise web.HTTPFound(target, headers=PAGE_HEADERS)


async def _auth_page(request: web.Request, template: str, title: str) -> web.StreamResponse:
    if await session_account(request) is not None:
        raise web.HTTPFound(safe_next(request.query.get("next")), headers=PAGE_HEADERS)
    return page(request, template, {"next": safe_next(request.query.get("next")), "title": title})


@routes.get("/login")
async def login_page(request: web.Request) -> web.StreamResponse:
    return await _auth_page(request, "login.html", "Sign in")


@routes.get("/signup")
async def signup_page(request: web.Request) -> web.StreamResponse:
    return await _auth_page(request, "signup.html", "Create your account")


@routes.get("/reset-password")
async def reset_page(request: web.Request) -> web.StreamResponse:
    # Reachable signed in or not: the mailed link must work whoever opens it.
    return page(request, "reset.html", {"title": "Reset your password"})


@routes.get("/dashboard")
async def dashboard_page(request: web.Request) -> web.StreamResponse:
    account = await session_account(request)
    if account is None:
        raise login_redirect(request)
    request.app[image_service_key].pool.start_drafts()  # the playground's drafts (render/pool.py)
    return page(request, "dashboard.html", {"email": account.email})


@routes.get("/dashboard/templates")
@routes.get("/dashboard/templates/{id}")
async def studio_page(request: web.Request) -> web.StreamResponse:
    """The template studio: the account's templates and their editor (web/static/studio.js)."""
    account = await session_account(request)
    if account is None:
        raise login_redirect(request)
    request.app[image_service_key].pool.start_drafts()  # its live previews are drafts too
    return page(request, "templates.html", {"email": account.email, "title": "Templates"})


@routes.get("/docs")
async def docs_page(request: web.Request) -> web.StreamResponse:
    base = request.app[settings_key].base_url
    return page(request, "docs.html", {"title": "Docs", "base": base})


async def not_found(request: web.Request) -> web.Response:
    """The styled 404 for HTML paths (web/http/middleware.py keeps JSON errors on /api/*)."""
    return page(request, "404.html", {"title": "Page not found"}, status=404)


async def _static_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Hashed static URLs (`?v=`) are cached for a year; anything else revalidates."""
    if request.path.startswith("/static/"):
        versioned = "v" in request.query
        response.headers["Cache-Control"] = (
            f"public, max-age={YEAR}, immutable" if versioned else "no-cache"
        )
        response.headers["X-Content-Type-Options"] = "nosniff"


def setup(app: web.Application) -> None:
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(str(PAGES)),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
    )
    env.globals["static"] = lambda name: str(
        app.router["static"].url_for(filename=name)
    )  # hashed (append_version)
    app.router.add_static("/static/", STATIC, name="static", append_version=True)
    app.on_response_prepare.append(_static_headers)
    app.add_routes(routes)
