"""GET /api/user/usage (docs/metering.md) over HTTP, with month rollover on the controllable
clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from models import DailyUsage, MonthlyUsage
from resolvers.metering import quota
from web.appkeys import meter_key

pytestmark = pytest.mark.both_stacks


async def test_usage_shape_and_headers(client, signup, clock):
    clock.set(datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC))
    user = await signup()
    await MonthlyUsage.create(account_id=user.id, month="2026-12", used=20)
    resp = await client.get("/api/user/usage", headers={"X-API-Key": user.api_key})
    assert resp.status == 200
    assert await resp.json() == {
        "plan": "free",
        "quota": 25,
        "used": 20,
        "remaining": 5,
        "percent_used": 80.0,
        "reset_date": "2027-01-01T00:00:00Z",
    }
    assert resp.headers["X-Quota-Limit"] == "25"
    assert resp.headers["X-Quota-Used"] == "20"
    assert resp.headers["X-Quota-Remaining"] == "5"
    assert resp.headers["Cache-Control"] == "no-store"

    clock.set(datetime(2027, 1, 1, 0, 0, 0, tzinfo=UTC))  # the 1st, 00:00 UTC: a fresh month
    body = await (await client.get("/api/user/usage", headers={"X-API-Key": user.api_key})).json()
    assert (body["used"], body["remaining"], body["reset_date"]) == (0, 25, "2027-02-01T00:00:00Z")


async def test_overage_usage_passes_100_percent(client, signup, clock):
    clock.set(datetime(2026, 5, 10, tzinfo=UTC))
    user = await signup(plan="starter")
    await MonthlyUsage.create(account_id=user.id, month="2026-05", used=510)
    body = await (await client.get("/api/user/usage", headers={"X-API-Key": user.api_key})).json()
    assert (body["quota"], body["used"], body["remaining"], body["percent_used"]) == (
        500,
        510,
        0,
        102.0,
    )


async def test_usage_errors(client, signup):
    resp = await client.get("/api/user/usage")
    assert resp.status == 401 and (await resp.json())["code"] == "MISSING_API_KEY"
    resp = await client.get("/api/user/usage", headers={"X-API-Key": "og_" + "x" * 32})
    assert resp.status == 401 and (await resp.json())["code"] == "INVALID_API_KEY"


async def test_usage_reads_count_as_api_calls_not_rate(client, signup, clock):
    clock.set(datetime(2026, 7, 4, 9, tzinfo=UTC))
    user = await signup()  # free: 1 request/second, yet 30 reads at once all succeed
    responses = await asyncio.gather(
        *(client.get("/api/user/usage", headers={"X-API-Key": user.api_key}) for _ in range(30))
    )
    assert [r.status for r in responses] == [200] * 30
    await client.app[meter_key].flush()  # counted in memory, written every second
    row = await DailyUsage.get(account_id=user.id, day=datetime(2026, 7, 4).date())
    assert (row.api_calls, row.images) == (30, 0)
    assert await quota.used_in_month(user.id, "2026-07") == 0
