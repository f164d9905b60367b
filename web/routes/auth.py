"""REST handlers for docs/accounts.md (sign-up, login, logout, password reset) and the session
cookie."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from models import Account
from resolvers.accounts import accounts, sessions
from resolvers.accounts import auth_throttle as throttle
from resolvers.accounts.origin import allowed_origins, check_same_site
from resolvers.errors import AppError
from web.appkeys import (
    clock_key,
    mailer_key,
    secret_box_key,
    session_account_key,
    settings_key,
    window_limiter_key,
)
from web.http.bodies import read_json
from web.http.clientip import client_ip

COOKIE = "ogapi_session"
# Sent by the dashboard's own timed refresh (web/static/lib.js): not the person's activity, so
# it does not keep the session from going idle (docs/accounts.md).
AUTO_REFRESH_HEADER = "X-Auto-Refresh"
routes = web.RouteTableDef()


def _set_cookie(request: web.Request, response: web.StreamResponse, token: str) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(sessions.ABSOLUTE_LIFETIME.total_seconds()),
        path="/",
        httponly=True,
        samesite="Lax",
        secure=request.app[settings_key].production,
    )


async def start_session(
    request: web.Request, response: web.StreamResponse, account: Account
) -> None:
    # A fresh id every login (rotation); the old cookie's session, if any, is destroyed.
    await sessions.destroy_session(request.cookies.get(COOKIE))
    token = await sessions.create_session(
        account, request.app[clock_key](), client_ip(request), request.headers.get("User-Agent")
    )
    _set_cookie(request, response, token)


async def session_account(request: web.Request) -> Account | None:
    """The account of the request's session cookie (cached on the request)."""
    if session_account_key not in request:
        idle = timedelta(minutes=request.app[settings_key].session_idle_minutes)
        activity = request.headers.get(AUTO_REFRESH_HEADER) != "1"
        request[session_account_key] = await sessions.resolve_session(
            request.cookies.get(COOKIE), request.app[clock_key](), idle, activity
        )
    return request[session_account_key]


async def require_session(request: web.Request) -> Account:
    account = await session_account(request)
    if account is None:
        raise AppError("Sign in to continue.", code="UNAUTHENTICATED", status=401)
    return account


def guard_browser_post(request: web.Request) -> None:
    """CSRF for endpoints that set or use the session cookie: same site, JSON bodies only
    (an HTML form on another site can send neither a JSON content type nor our Origin)."""
    base_url = request.app[settings_key].base_url
    check_same_site(request.headers, allowed_origins(base_url, request.scheme, request.host))
    if request.body_exists and request.content_type != "application/json":
        raise AppError(
            "Send a JSON body (Content-Type: application/json).",
            code="UNSUPPORTED_MEDIA_TYPE",
            status=415,
        )


async def read_auth_json(request: web.Request) -> dict:
    guard_browser_post(request)
    return await read_json(request)


def _account_json(account: Account) -> dict:
    return {
        "id": account.id,
        "email": account.email,
        "plan": account.plan.value,
        "domain": account.domain,
    }


@routes.post("/api/auth/signup")
async def signup(request: web.Request) -> web.Response:
    body = await read_auth_json(request)
    await throttle.check_signup(  # before the password is hashed
        request.app[window_limiter_key],
        client_ip(request),
        request.app[settings_key].signups_per_hour,
    )
    account = await accounts.create_account(
        body.get("email"), body.get("password"), request.app[secret_box_key], body.get("domain")
    )
    response = web.json_response({"account": _account_json(account)}, status=201)
    await start_session(request, response, account)
    return response


@routes.post("/api/auth/login")
async def login(request: web.Request) -> web.Response:
    body = await read_auth_json(request)
    account = await accounts.login(
        body.get("email"), body.get("password"), client_ip(request), request.app[clock_key]()
    )
    response = web.json_response({"account": _account_json(account)})
    await start_session(request, response, account)
    return response


@routes.post("/api/auth/logout")
async def logout(request: web.Request) -> web.Response:
    guard_browser_post(request)
    await sessions.destroy_session(request.cookies.get(COOKIE))
    response = web.Response(status=204)
    response.del_cookie(COOKIE, path="/")
    return response


@routes.post("/api/auth/password-reset")
async def password_reset(request: web.Request) -> web.Response:
    body = await read_auth_json(request)
    await accounts.request_password_reset(
        body.get("email"),
        request.app[settings_key].base_url,
        request.app[mailer_key],
        request.app[clock_key](),
    )
    return web.json_response(
        {"message": "If an account exists for that email, a reset link is on its way."}, status=202
    )


@routes.post("/api/auth/password-reset/confirm")
async def password_reset_confirm(request: web.Request) -> web.Response:
    body = await read_auth_json(request)
    await accounts.confirm_password_reset(
        body.get("token"), body.get("password"), client_ip(request), request.app[clock_key]()
    )
    response = web.Response(status=204)
    response.del_cookie(COOKIE, path="/")
    return response
