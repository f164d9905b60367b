"""REST handlers for webhook endpoints (docs/webhooks.md): add (the secret shown once), list,
remove, send a test ping. `X-API-Key`, or the dashboard session (browser-POST guard on every
change), as custom templates (web/routes/templates.py `caller`)."""

from __future__ import annotations

from aiohttp import web

from models import Account
from resolvers.notify import endpoints, events
from resolvers.notify.delivery import Deliverer
from resolvers.timefmt import iso_utc
from web.appkeys import deliverer_key, image_service_key, meter_key, secret_box_key
from web.http.bodies import read_json
from web.http.headers import decision_headers
from web.routes.templates import NO_STORE, caller

routes = web.RouteTableDef()


@routes.post("/api/webhook-endpoints")
async def create_endpoint(request: web.Request) -> web.Response:
    account_id, now = await caller(request)
    made, secret = await endpoints.create(
        account_id,
        await read_json(request),
        request.app[image_service_key].fetcher,  # its URL checks (SSRF)
        request.app[secret_box_key],
        now,
    )
    return web.json_response(endpoints.view(made, secret), status=201, headers=NO_STORE)


@routes.get("/api/webhook-endpoints")
async def list_endpoints(request: web.Request) -> web.Response:
    account_id, _ = await caller(request)
    found = await endpoints.list_own(account_id)
    return web.json_response({"endpoints": [endpoints.view(e) for e in found]}, headers=NO_STORE)


@routes.delete("/api/webhook-endpoints/{id}")
async def delete_endpoint(request: web.Request) -> web.Response:
    account_id, _ = await caller(request)
    await endpoints.delete(account_id, request.match_info["id"])
    return web.Response(status=204, headers=NO_STORE)


@routes.post("/api/webhook-endpoints/{id}/test")
async def test_endpoint(request: web.Request) -> web.Response:
    """A `ping` to this endpoint, attempted once before answering and never retried. It
    spends a request of the account's rate limit (as an image does), and is refused while
    another ping to the endpoint is under way (409 CONFLICT). A disabled endpoint takes it:
    a ping that succeeds is how an endpoint is enabled again (docs/webhooks.md)."""
    account_id, now = await caller(request)
    decision = await request.app[meter_key].rate.check(await Account.get(id=account_id))
    endpoint = await endpoints.get_own(account_id, request.match_info["id"])
    deliverer: Deliverer = request.app[deliverer_key]
    d = await deliverer.send_now(endpoint, events.PING, {"endpoint": endpoint.id}, now)
    answer = {
        "id": d.event_id,
        "type": events.PING,
        "delivery": {
            "status": d.status.value,
            "attempts": d.attempts,
            "last_status": d.last_status,
            "last_error": d.last_error,
            "next_attempt_at": iso_utc(d.next_attempt_at) if d.next_attempt_at else None,
        },
    }
    return web.json_response(answer, headers={**NO_STORE, **decision_headers(decision)})
