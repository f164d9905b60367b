"""`POST /api/share-check` (docs/link-previews.md): what each platform shows for a page.

With `X-API-Key` or the dashboard session (same-site JSON only); either way one API call and
one request of the plan's per-second budget, and never an image of the quota.
"""

from __future__ import annotations

from aiohttp import web

from models import Account
from resolvers.accounts import keys
from resolvers.insight.share_check import share_check
from web.appkeys import clock_key, image_service_key, meter_key
from web.http.bodies import read_json
from web.http.callers import key_rows
from web.http.headers import decision_headers
from web.routes.auth import guard_browser_post, require_session

routes = web.RouteTableDef()


async def _caller(request: web.Request) -> Account:
    """The key's account (counted as an API call by web.http.callers), or the session's (counted
    here: the check is an API call whoever asks)."""
    if "X-API-Key" in request.headers:
        owner, _ = await key_rows(request)
        return owner.account
    guard_browser_post(request)
    account = await require_session(request)
    keys.check_account_usable(account)
    await request.app[meter_key].api_calls.record(account.id, request.app[clock_key]())
    return account


@routes.post("/api/share-check")
async def check(request: web.Request) -> web.Response:
    account = await _caller(request)
    decision = await request.app[meter_key].rate.check(account)
    url = (await read_json(request)).get("url")
    result = await share_check(url, request.app[image_service_key].fetcher, owner=account.id)
    headers = {"Cache-Control": "no-store", **decision_headers(decision)}
    return web.json_response(result, headers=headers)
