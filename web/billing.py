"""Stripe's way back into the service (docs/billing.md): the Checkout return route and the
webhook endpoint. Both hand over to resolvers; nothing here knows Stripe's objects."""

from __future__ import annotations

from aiohttp import web

from resolvers import billing
from web.keys import clock_key, stripe_key

routes = web.RouteTableDef()


@routes.get(billing.RETURN_PATH)
async def checkout_return(request: web.Request) -> web.StreamResponse:
    """Checkout's success_url: verify the session with Stripe, apply it (as the webhook
    would: once), then back to the dashboard."""
    session_id = request.query.get("session_id", "")
    outcome = await billing.complete_return(
        session_id, request.app.get(stripe_key), request.app[clock_key]()
    )
    raise web.HTTPSeeOther(f"/dashboard?checkout={outcome}")
