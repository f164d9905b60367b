"""`GET /api/transactions.csv` (docs/metering.md): the signed-in account's whole ledger,
streamed."""

from __future__ import annotations

from aiohttp import web

from resolvers.ledger import exports
from web.appkeys import clock_key
from web.routes.auth import require_session

routes = web.RouteTableDef()


@routes.get("/api/transactions.csv")
async def transactions_csv(request: web.Request) -> web.StreamResponse:
    account = await require_session(request)
    name = exports.filename(request.app[clock_key]())
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        }
    )
    chunks = exports.ledger_csv(account.id)
    first = await anext(chunks)  # a database error still becomes a JSON error, not a cut file
    await response.prepare(request)
    await response.write(first)
    async for chunk in chunks:
        await response.write(chunk)
    await response.write_eof()
    return response
