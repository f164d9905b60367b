"""Bench section `preview`: does a burst of dashboard previews delay a paying customer's render?

A real server (`python -m bench.memory_bench --serve DB PORT WORKERS`: the web process and
WORKERS render processes, one per core here) on a fresh SQLite database. Each repetition:

    without: one paid render, `POST /api/generate` (a new title: a cache miss), alone;
    with:    8 previews sent at once (`GET /api/dashboard/preview`, two accounts' sessions,
             four each: their per-second budget; each asks for the worst case, 2400x2400 PNG),
             and the same kind of paid render sent while they are in flight.

It prints the paid render's wall-clock latency, p50 and max over the repetitions, side by side,
and the previews' own latency. The previews are drafts in a bounded share of the render pool
(render/draft.py, render/pool.py `render_draft`), so the two columns should be close.

usage: python -m bench.run --only preview [--quick] [--rounds R]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PREVIEWS = 8  # in flight at once
PASSWORD = "bench-password-123"
WORST = {"template": "blog", "width": "2400", "height": "2400", "format": "png"}


async def _accounts(db: str, n: int) -> list[str]:
    """`n` more accounts (free plan) for the previews' sessions; returns their emails."""
    from bench.http_bench import SECRET
    from models.db import database
    from resolvers.accounts.accounts import create_account
    from resolvers.crypto import SecretBox

    emails = [f"preview{i}@example.com" for i in range(n)]
    async with database(f"sqlite://{db}"):
        for email in emails:
            await create_account(email, PASSWORD, SecretBox(SECRET))
    return emails


async def _measure(base: str, key: str, emails: list[str], rounds: int) -> dict[str, list]:
    import aiohttp
    from aiohttp import CookieJar

    from tests.services import wait_http_ok

    await wait_http_ok(f"{base}/ready", 60)
    out: dict[str, list] = {"alone": [], "loaded": [], "render_ms": [], "previews": [],
                            "statuses": []}  # fmt: skip
    async with aiohttp.ClientSession(base_url=base) as api:
        sessions = []
        for email in emails:
            s = aiohttp.ClientSession(base_url=base, cookie_jar=CookieJar(unsafe=True))
            async with s.post("/api/auth/login", json={"email": email, "password": PASSWORD}) as r:
                assert r.status == 200, await r.text()
            sessions.append(s)
        n = iter(range(1_000_000))

        async def paid() -> tuple[float, float]:
            """(wall-clock ms, X-Render-Ms: the part spent in the render pool)"""
            body = {"title": f"Paid render {next(n)}", "subtitle": "a cache miss each time"}
            t0 = time.perf_counter()
            async with api.post("/api/generate", json=body, headers={"X-API-Key": key}) as r:
                await r.read()
                assert r.status == 200 and r.headers["X-Cache"] == "MISS", r.status
                return (time.perf_counter() - t0) * 1000, float(r.headers["X-Render-Ms"])

        async def preview(session) -> tuple[int, float]:
            t0 = time.perf_counter()
            params = {**WORST, "title": f"Preview {next(n)}"}
            async with session.get("/api/dashboard/preview", params=params) as r:
                await r.read()
                return r.status, (time.perf_counter() - t0) * 1000

        try:
            # Warm: the first render of a process loads fonts and backgrounds, and the first
            # preview starts the draft process.
            await paid()
            await asyncio.gather(*(preview(s) for s in sessions))
            await asyncio.sleep(1.1)
            for _ in range(rounds):
                out["alone"].append((await paid())[0])
                await asyncio.sleep(0.3)
                burst = [
                    asyncio.create_task(preview(sessions[i % len(sessions)]))
                    for i in range(PREVIEWS)
                ]
                await asyncio.sleep(0.01)  # the previews reach the server first
                wall, render_ms = await paid()
                out["loaded"].append(wall)
                out["render_ms"].append(render_ms)
                for status, ms in await asyncio.gather(*burst):
                    out["statuses"].append(status)
                    out["previews"].append(ms)
                await asyncio.sleep(1.1)  # the previews' per-second budget refills
        finally:
            for s in sessions:
                await s.close()
    return out


def preview_section(a: argparse.Namespace):
    from bench.http_bench import _prepare
    from bench.run import Row

    rounds = 5 if a.quick else 15
    workers = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "bench.sqlite3")
        key, _ = asyncio.run(_prepare(db))
        emails = asyncio.run(_accounts(db, 2))
        port = 20000 + os.getpid() % 1000
        server = subprocess.Popen(
            [sys.executable, "-m", "bench.memory_bench", "--serve", db, str(port), str(workers)],
            cwd=Path(__file__).resolve().parent.parent,
        )
        try:
            got = asyncio.run(_measure(f"http://127.0.0.1:{port}", key, emails, rounds))
        finally:
            server.terminate()
            server.wait(10)

    def p50_max(values: list[float]) -> str:
        return f"{statistics.median(values):.0f} / {max(values):.0f}"

    refused = sum(s != 200 for s in got["statuses"])
    each = " ".join(f"{v:.0f}" for v in got["loaded"])
    in_pool = " ".join(f"{v:.0f}" for v in got["render_ms"])
    return [
        Row("preview", "paid render alone, p50 / max ms", p50_max(got["alone"]),
            f"POST /api/generate, 1200x630 PNG miss; {rounds} runs; {workers} render workers"),
        Row("preview", f"paid render with {PREVIEWS} previews in flight, p50 / max ms",
            p50_max(got["loaded"]), f"each run: {each}; of which in the pool: {in_pool}"),
        Row("preview", "the previews themselves, p50 / max ms", p50_max(got["previews"]),
            f"asked 2400x2400 PNG, served 600x600 JPEG drafts; {refused} refused"),
    ]  # fmt: skip
