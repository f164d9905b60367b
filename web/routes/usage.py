"""`GET /api/user/usage` (docs/metering.md): this month's quota use for the `X-API-Key`'s account.

A usage read counts as an API call ("API calls made") but not toward the rate limit
(docs/metering.md).
"""

from __future__ import annotations

from aiohttp import web

from resolvers.metering import quota
from web.http.callers import key_rows
from web.http.headers import quota_headers

routes = web.RouteTableDef()


@routes.get("/api/user/usage")
async def user_usage(request: web.Request) -> web.Response:
    owner, now = await key_rows(request)
    summary = await quota.usage_summary(owner.account, now)
    headers = {**quota_headers(summary.quota, summary.used), "Cache-Control": "no-store"}
    return web.json_response(summary.as_json(), headers=headers)
