"""The operator's HTTP API (`Authorization: Bearer ADMIN_TOKEN`): `POST /api/admin/usage`.

Without ADMIN_TOKEN configured the API does not exist (404); a wrong token answers 401.
"""

from __future__ import annotations

from aiohttp import web

from models import LedgerEntry
from resolvers import idempotency
from resolvers.accounts import accounts
from resolvers.crypto import bearer_matches
from resolvers.errors import AppError, InvalidParameter, NotFound
from resolvers.ledger import entries as ledger
from resolvers.timefmt import iso_utc
from web.appkeys import clock_key, settings_key
from web.http.bodies import read_json

routes = web.RouteTableDef()


def require_admin(request: web.Request) -> None:
    token = request.app[settings_key].admin_token
    if not token:
        raise NotFound("Not found.")
    if not bearer_matches(request.headers.get("Authorization"), token):
        raise AppError(
            "Missing or wrong admin token (Authorization: Bearer ADMIN_TOKEN).",
            code="UNAUTHENTICATED",
            status=401,
            headers={"WWW-Authenticate": "Bearer"},
        )


def entry_json(entry: LedgerEntry) -> dict:
    return {
        "id": entry.id,
        "created_at": iso_utc(entry.created_at),
        "type": entry.type.value,
        "service": entry.service,
        "amount": f"{entry.amount:f}",
        "tokens": entry.tokens,
        "images": entry.images,
        "description": entry.description,
        "balance_after": f"{entry.balance_after:f}",
    }


def _text(body: dict, name: str) -> str:
    value = body.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidParameter(f"{name} must be a string")
    return value


@routes.post("/api/admin/usage")
async def record_usage(request: web.Request) -> web.Response:
    require_admin(request)
    key = idempotency.check_key(request.headers.get("Idempotency-Key"))
    body = await read_json(request)
    now = request.app[clock_key]()

    async def work() -> tuple[int, dict]:
        account = await accounts.get_account_by_email(_text(body, "email"))
        entry = await ledger.record_usage(
            account.id,
            _text(body, "service"),
            now,
            tokens=body.get("tokens") or 0,
            images=body.get("images") or 0,
            description=_text(body, "description"),
            external_ref=f"admin-usage:{key}",
        )
        return 201, {"entry": entry_json(entry), "balance": f"{entry.balance_after:f}"}

    status, answer, replayed = await idempotency.once("admin.usage", key, body, now, work)
    headers = {"Idempotent-Replayed": "true"} if replayed else {}
    return web.json_response(answer, status=status, headers=headers)
