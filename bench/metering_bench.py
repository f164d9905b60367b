"""Bench section `metering`: quota + rate-limit overhead per request, REST usage latency over a
year of history, and the CSV export's speed. Uses a temp SQLite file, plus a private Redis and
PostgreSQL when their binaries are installed (tests/services.py starts them)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from models import Account, DailyUsage, LedgerEntry, MonthlyUsage, PlanId, TransactionType
from models.db import database, migrate
from resolvers import rollups
from resolvers.limits.per_second import MemoryRateLimiter, RedisRateLimiter
from resolvers.mail import Mailer
from resolvers.metering.meter import Meter


def _row(metric: str, values: list[float], note: str, unit: str = "ms"):
    from bench.run import Row

    med = statistics.median(values)
    return Row("metering", f"{metric}, {unit}", f"{med:.3f} ({min(values):.3f}–{max(values):.3f})",
               note)  # fmt: skip


async def _per_call(fn, n: int, rounds: int) -> list[float]:
    out = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(n):
            await fn()
        out.append((time.perf_counter() - t0) * 1000 / n)
    return out


class _FreshKeys:
    """Each call on its own key: measures what a check costs, never answers 429."""

    def __init__(self, inner) -> None:
        self.inner, self.n = inner, 0

    async def hit(self, key: str, rate: int):
        self.n += 1
        return await self.inner.hit(f"{key}:{self.n}", rate)


async def _meter_rows(url: str, label: str, limiter, n: int, rounds: int) -> list:
    rows = []
    async with database(url):
        account = await Account.create(
            email=f"bench-{label}-{time.time_ns()}@example.com",
            password_hash="x",
            plan=PlanId.PUBLISHING,
            custom_quota=10**9,
        )
        fresh = _FreshKeys(limiter)
        meter = Meter(fresh, Mailer("bench@localhost"))
        now = datetime.now(UTC)

        async def rate() -> None:
            await fresh.hit("bench", 50)

        async def full() -> None:
            await meter.rate.check(account)
            ticket = await meter.reserve(account, now)
            await meter.commit(ticket, now)

        rows.append(_row(f"rate check ({label})", await _per_call(rate, n, rounds), "per request"))
        rows.append(_row(
            f"rate + quota reserve + commit ({label})", await _per_call(full, n, rounds),
            "per rendered request: GCRA, conditional UPDATE, daily roll-up, alert check",
        ))  # fmt: skip
    return rows


async def _history(url: str, days: int = 365, entries: int = 20_000) -> Account:
    async with database(url):
        account = await Account.create(email="history@example.com", password_hash="x",
                                       plan=PlanId.PRO, balance=Decimal(1000))  # fmt: skip
        today = date.today()
        await DailyUsage.bulk_create(
            [
                DailyUsage(
                    account_id=account.id,
                    day=today - timedelta(days=d),
                    service=s,
                    images=40,
                    api_calls=90,
                    spend=Decimal("0.12"),
                )
                for d in range(days)
                for s in ("og_image", "ai_data", "ai_images")
            ]
        )
        months = {(today - timedelta(days=d)).strftime("%Y-%m") for d in range(days)}
        await MonthlyUsage.bulk_create(
            [MonthlyUsage(account_id=account.id, month=m, used=1200) for m in months]
        )
        now = datetime.now(UTC)
        await LedgerEntry.bulk_create(
            [
                LedgerEntry(account_id=account.id, created_at=now - timedelta(minutes=i),
                            type=TransactionType.USAGE, service="ai_data", amount=Decimal("0.01"),
                            tokens=16_000, balance_after=Decimal(1000), description=f"call {i}")
                for i in range(entries)
            ]
        )  # fmt: skip
        await rollups.rebuild_totals([account.id])  # written around the ledger's write path
        return account


async def _rest_rows(db_url: str, n: int, rounds: int) -> list:
    from aiohttp.test_utils import TestClient, TestServer

    from resolvers.accounts import sessions
    from resolvers.accounts.keys import issue_key
    from resolvers.crypto import SecretBox
    from web.app import create_app
    from web.routes.auth import COOKIE
    from web.settings import Settings

    secret = "bench-secret-0123456789abcdef0123456789"
    account = await _history(db_url)
    async with database(db_url):
        _, key = await issue_key(account, SecretBox(secret))
        cookie = await sessions.create_session(account, datetime.now(UTC), "127.0.0.1", "bench")
    app = create_app(Settings(secret_key=secret, database_url=db_url, render_workers=0))
    rows = []
    async with TestClient(TestServer(app)) as client:

        async def usage() -> None:
            async with client.get("/api/user/usage", headers={"X-API-Key": key}) as r:
                assert r.status == 200
                await r.read()

        per_call = await _per_call(usage, n, rounds)
        note = "365 days × 3 services of roll-ups, 20,000 ledger entries"
        rows.append(_row("GET /api/user/usage, 1 year of history", per_call, note))
        t0 = time.perf_counter()
        async with client.get("/api/transactions.csv", cookies={COOKIE: cookie}) as r:
            size = len(await r.read())
        elapsed = time.perf_counter() - t0
        rows.append(_row("CSV export of 20,000 entries", [elapsed * 1000], f"{size:,} bytes"))
    return rows


async def _run(a: argparse.Namespace) -> list:
    from tests import services

    n, rounds = max(50, a.n), a.rounds
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite://{Path(tmp) / 'bench.sqlite3'}"
        await migrate(url)
        rows += await _meter_rows(url, "memory limiter, SQLite", MemoryRateLimiter(), n, rounds)
        with contextlib.ExitStack() as stack:
            redis_url = pg_url = None
            if shutil.which("redis-server"):
                redis_url = stack.enter_context(services.redis_server())
            if services.postgres_bin():
                pg_url = stack.enter_context(services.postgres_server())
                await migrate(pg_url)
            if redis_url:
                limiter = RedisRateLimiter.from_url(redis_url)
                rows += await _meter_rows(url, "Redis limiter, SQLite", limiter, n, rounds)
                await limiter.close()
            if pg_url:
                from tortoise.backends.base.executor import EXECUTOR_CACHE

                EXECUTOR_CACHE.clear()
                limiter = RedisRateLimiter.from_url(redis_url) if redis_url else MemoryRateLimiter()
                label = "Redis limiter, PostgreSQL" if redis_url else "memory limiter, PostgreSQL"
                rows += await _meter_rows(pg_url, label, limiter, n, rounds)
                await limiter.close()
                EXECUTOR_CACHE.clear()
        rows += await _rest_rows(url, n, rounds)
    return rows


def metering_section(a: argparse.Namespace) -> list:
    return asyncio.run(_run(a))
