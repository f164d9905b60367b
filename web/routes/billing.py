"""Stripe's way back into the service (docs/billing.md): the Checkout return route and the
webhook endpoint. Both hand over to resolvers; nothing here knows Stripe's objects."""

from __future__ import annotations

import json

from aiohttp import web

from resolvers.billing import checkout_flow as billing
from resolvers.billing import webhooks
from resolvers.billing.stripe_api import InvalidSignature, verify_webhook
from resolvers.errors import AppError, BillingNotConfigured, InvalidParameter
from web.appkeys import clock_key, settings_key, stripe_key, window_limiter_key
from web.http.metrics import count_webhook
from web.routes.auth import session_account
from web.routes.pages import login_redirect

routes = web.RouteTableDef()


@routes.get(billing.RETURN_PATH)
async def checkout_return(request: web.Request) -> web.StreamResponse:
    """Checkout's success_url: verify the session with Stripe, apply it (as the webhook
    would: once), then back to the dashboard; a session settled here already is answered
    without Stripe, and lookups are limited per account (429 RATE_LIMITED). Only for the
    dashboard session of the account that opened that Checkout: anyone else goes to /login,
    and Stripe is not called."""
    account = await session_account(request)
    if account is None:
        raise login_redirect(request)  # back here once signed in
    session_id = request.query.get("session_id", "")
    app = request.app
    outcome = await billing.complete_return(
        session_id, account.id, app.get(stripe_key), app[clock_key](), app[window_limiter_key]
    )
    if outcome is None:  # another account's Checkout (or not one of ours)
        raise web.HTTPSeeOther("/login")
    raise web.HTTPSeeOther(f"/dashboard?checkout={outcome}")


@routes.post("/api/stripe/webhook")
async def stripe_webhook(request: web.Request) -> web.Response:
    """Verify the signature of the raw body, then apply the event once (resolvers/webhooks).
    2xx: done (or a duplicate, or a type we do not use); 4xx: refused; 5xx: Stripe retries."""
    gateway = request.app.get(stripe_key)
    secrets = request.app[settings_key].stripe_webhook_secrets
    if gateway is None or not secrets:
        count_webhook(request, "not_configured")
        raise BillingNotConfigured(
            "Stripe webhooks are not configured on this server "
            "(STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET)."
        )
    body = await request.read()
    try:
        verify_webhook(body, request.headers.get("Stripe-Signature"), secrets)
    except InvalidSignature as exc:
        count_webhook(request, "invalid_signature")
        message = f"Invalid Stripe signature: {exc}."
        raise AppError(message, code="INVALID_SIGNATURE", status=400) from None
    try:
        event = json.loads(body)
    except ValueError:
        count_webhook(request, "failed")
        raise InvalidParameter("The webhook body is not JSON.") from None
    try:
        outcome = await webhooks.handle_event(event, gateway, request.app[clock_key]())
    except Exception:
        count_webhook(request, "failed")
        raise
    count_webhook(request, outcome)
    return web.json_response({"received": True, "outcome": outcome})
