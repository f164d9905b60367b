"""POST /api/admin/usage (docs/metering.md): bearer ADMIN_TOKEN, Idempotency-Key, exact charges."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from models import LedgerEntry
from resolvers.ledger import entries as ledger

TOKEN = "admin-token-0123456789abcdef"


@pytest.fixture
async def admin(aiohttp_client, make_app):
    return await aiohttp_client(make_app(admin_token=TOKEN))


@pytest.fixture
async def funded(admin):
    from models import Account

    account = await Account.create(email="ops@example.com", password_hash="x")
    await ledger.grant(account.id, "10", datetime.now(UTC))

    return account


def headers(key: str | None = "k-1", token: str = TOKEN) -> dict:
    h = {"Authorization": f"Bearer {token}"}
    if key is not None:
        h["Idempotency-Key"] = key
    return h


BODY = {
    "email": "ops@example.com",
    "service": "ai_data",
    "tokens": 2_000_000,
    "description": "batch",
}


async def test_records_usage_once_per_key(admin, funded):
    first = await admin.post("/api/admin/usage", json=BODY, headers=headers())
    assert first.status == 201, await first.text()
    answer = await first.json()
    assert answer["entry"]["amount"] == "1.200000" and answer["balance"] == "8.800000"
    again = await admin.post("/api/admin/usage", json=BODY, headers=headers())
    assert again.status == 201 and await again.json() == answer
    assert again.headers["Idempotent-Replayed"] == "true"
    assert await LedgerEntry.filter(account_id=funded.id, type="usage").count() == 1
    other = await admin.post("/api/admin/usage", json={**BODY, "tokens": 1}, headers=headers())
    assert other.status == 409 and (await other.json())["code"] == "IDEMPOTENCY_CONFLICT"


async def test_concurrent_replays_charge_once(admin, funded):
    responses = await asyncio.gather(
        *(admin.post("/api/admin/usage", json=BODY, headers=headers("same")) for _ in range(20))
    )
    assert {r.status for r in responses} == {201}
    bodies = [await r.json() for r in responses]
    assert len({b["entry"]["id"] for b in bodies}) == 1
    assert await ledger.balance_of(funded.id) == Decimal("8.8")


async def test_distinct_keys_stop_at_zero_balance(admin, funded):
    body = {**BODY, "tokens": 1_000_000}  # $0.60 each: $10 covers 16
    responses = await asyncio.gather(
        *(admin.post("/api/admin/usage", json=body, headers=headers(f"k{i}")) for i in range(25))
    )
    statuses = sorted(r.status for r in responses)
    assert statuses == [201] * 16 + [402] * 9
    assert await ledger.balance_of(funded.id) == Decimal("0.4")


async def test_auth_and_validation(aiohttp_client, make_app, admin, funded):
    off = await aiohttp_client(make_app())  # ADMIN_TOKEN unset: the API does not exist
    assert (await off.post("/api/admin/usage", json=BODY, headers=headers())).status == 404
    wrong = await admin.post("/api/admin/usage", json=BODY, headers=headers(token="nope"))
    assert wrong.status == 401
    missing = await admin.post("/api/admin/usage", json=BODY, headers=headers(key=None))
    assert missing.status == 400
    assert (await missing.json())["code"] == "MISSING_IDEMPOTENCY_KEY"
    for bad, code in (
        ({**BODY, "service": "gpu"}, "INVALID_PARAMETER"),
        ({**BODY, "tokens": -5}, "INVALID_PARAMETER"),
        ({**BODY, "tokens": "many"}, "INVALID_PARAMETER"),
        ({**BODY, "email": "nobody@example.com"}, "NOT_FOUND"),
    ):
        resp = await admin.post("/api/admin/usage", json=bad, headers=headers(f"bad-{bad}"))
        assert (await resp.json())["code"] == code, bad
    assert await ledger.balance_of(funded.id) == Decimal(10)
