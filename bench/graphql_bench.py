"""Bench section `graphql`: `/graphql` latency for an account with a year of history.

One process: the app runs on a loopback aiohttp server and a client in the same event loop
sends one request at a time with the dashboard's session cookie, so each number is a full HTTP
round trip (auth, SQL, Strawberry, JSON) including the client's own share of the CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

SECRET = "bench-secret-key-0123456789-0123456789-abcdef"
PASSWORD = "bench-password-123"
PER_DAY = 20  # ledger entries a day: 7,300 in the year
USAGE = """{ usage { plan { id } quota used remaining percentUsed resetDate daysUntilReset
  daily(days: 30) { date images apiCalls spend } monthly(months: 12) { month images spend } } }"""
TRANSACTIONS = """{ transactions(first: 100) { totalCount
  edges { cursor node { id createdAt type service amount tokens images description } }
  pageInfo { hasNextPage endCursor } } }"""
BALANCE = """{ balance { current totalPurchased totalSpent apiCalls tokensUsed imagesProcessed
  creditsUsed low estimates { service unitPrice remainingUnits } services { service amount } } }"""


async def _seed(account_id: int, now: datetime) -> None:
    from models import DailyUsage, LedgerEntry, MonthlyUsage, TransactionType
    from resolvers.rollups import rebuild_totals

    services = ("ai_data", "ai_images", "og_image_overage")
    entries = [
        LedgerEntry(
            account_id=account_id,
            created_at=now - timedelta(days=365) + timedelta(minutes=72 * i),
            type=TransactionType.PURCHASE if i % 100 == 0 else TransactionType.USAGE,
            service="credits" if i % 100 == 0 else services[i % 3],
            amount=Decimal("10") if i % 100 == 0 else Decimal("0.012345"),
            tokens=20_000 if i % 3 == 0 else 0,
            images=1 if i % 3 else 0,
            description=f"bench entry {i}",
            balance_after=Decimal("5"),
        )
        for i in range(365 * PER_DAY)
    ]
    await LedgerEntry.bulk_create(entries, batch_size=1000)
    await rebuild_totals([account_id])  # written around the ledger's write path
    days = [
        DailyUsage(
            account_id=account_id,
            day=(now - timedelta(days=d)).date(),
            service=s,
            images=40,
            api_calls=55,
            tokens=20_000,
            spend=Decimal("0.5"),
        )
        for d in range(366)
        for s in ("og_image", *services)
    ]
    await DailyUsage.bulk_create(days, batch_size=1000)
    months = {(now - timedelta(days=d)).strftime("%Y-%m") for d in range(366)}
    await MonthlyUsage.bulk_create(
        [MonthlyUsage(account_id=account_id, month=m, used=1200) for m in months]
    )


async def _run(a: argparse.Namespace) -> list[tuple[str, list[float], int]]:
    from aiohttp import ClientSession, CookieJar
    from aiohttp.test_utils import TestServer

    from models import Account, PlanId
    from models.db import migrate
    from resolvers.accounts.accounts import create_account
    from web.app import create_app
    from web.appkeys import secret_box_key
    from web.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite://{Path(tmp) / 'bench.sqlite3'}"
        await migrate(url)
        settings = Settings(secret_key=SECRET, database_url=url, render_workers=0)
        server = TestServer(create_app(settings), host="127.0.0.1")
        await server.start_server()
        try:
            now = datetime.now(UTC)
            app = server.app
            account = await create_account(
                "bench@example.com", PASSWORD, app[secret_box_key], plan=PlanId.PRO
            )
            await Account.filter(id=account.id).update(balance=Decimal("25"))
            await _seed(account.id, now)
            async with ClientSession(
                base_url=str(server.make_url("/")), cookie_jar=CookieJar(unsafe=True)
            ) as http:
                r = await http.post(
                    "/api/auth/login", json={"email": account.email, "password": PASSWORD}
                )
                assert r.status == 200, await r.text()
                out = []
                for name, query in (
                    ("usage (30 daily + 12 monthly)", USAGE),
                    ("transactions(first: 100)", TRANSACTIONS),
                    ("balance with estimates", BALANCE),
                ):
                    times = []
                    for i in range(a.n + 5):
                        t0 = time.perf_counter()
                        resp = await http.post("/graphql", json={"query": query})
                        body = await resp.json()
                        if i >= 5:  # warm-up excluded
                            times.append((time.perf_counter() - t0) * 1000)
                        assert "errors" not in body, body
                    out.append((name, times, len(await resp.read())))
                return out
        finally:
            await server.close()


def graphql_section(a: argparse.Namespace) -> list:
    from bench.run import Row

    rows = []
    for name, times, size in asyncio.run(_run(a)):
        q = statistics.quantiles(times, n=20)
        rows.append(
            Row(
                "graphql",
                f"{name}, p50 ms",
                f"{statistics.median(times):.2f}",
                f"p95 {q[18]:.2f} ms, {len(times)} requests, {size:,} B; session cookie, "
                f"year of history ({365 * PER_DAY:,} ledger rows)",
            )
        )
    return rows
