"""The `X-API-Key` caller of a request, counted: every request with a valid key is one API call
("API calls made", docs/caching.md), whatever happens next. The one place that counts them."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web

from resolvers.accounts import keys
from resolvers.accounts.key_owner import KeyOwner
from web.appkeys import clock_key, key_cache_key, meter_key


async def _counted(request: web.Request, account_id: int) -> datetime:
    now = request.app[clock_key]()
    await request.app[meter_key].api_calls.record(account_id, now)
    return now


async def key_owner(request: web.Request) -> tuple[KeyOwner, datetime]:
    """The caller from the process's key cache (the image hot path: no database read when
    warm), and the request's `now`."""
    owner = await keys.authenticate_cached(
        request.headers.get("X-API-Key"), request.app[key_cache_key]
    )
    return owner, await _counted(request, owner.id)


async def key_rows(request: web.Request) -> tuple[keys.KeyRows, datetime]:
    """The caller with its full account and key, read from the database, and `now`."""
    owner = await keys.authenticate(request.headers.get("X-API-Key"))
    return owner, await _counted(request, owner.account.id)
