"""Bench section `hotpath`: the HTTP hot path of the image API on one server core, side by side
in one run (docs/caching.md, issue targets in brackets in the notes):

- signed-URL memory hit and X-API-Key memory hit, each as a ratio of `/health`'s requests/s in
  the same round (wrk, 64 connections; the median round);
- a hit on the file store at one client: a second server on the same database and store with
  `IMAGE_CACHE_MB=0`, so every request reads the store (wrk -c1, p50);
- uncached `POST /api/generate` over HTTP against its own `X-Render-Ms`, one client, a new title
  each time, paced under the plan's 50 requests/s.

The servers are `python -m bench.http_bench --serve` (uvloop, SQLite, one render process).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.http_bench import _cores, _prepare, _warm, _wrk

ROOT = Path(__file__).resolve().parent.parent


def _server(db: str, port: int, **env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [*_cores()[0], sys.executable, "-m", "bench.http_bench", "--serve", db, str(port)],
        cwd=ROOT, env={**os.environ, **env},
    )  # fmt: skip


def _stop(server: subprocess.Popen) -> None:
    server.terminate()
    server.wait(10)


def _ms(text: str) -> float:
    """wrk's latency ("812.00us", "1.20ms", "2.01s") in ms."""
    for unit, scale in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if text.endswith(unit):
            return float(text.removesuffix(unit)) * scale
    return float(text)


async def one_card(http, base: str, key: str, i: int) -> tuple[float, float]:
    """(wall ms over HTTP, X-Render-Ms) of one new card, `http` an aiohttp.ClientSession."""
    body = {"title": f"Uncached {time.time_ns()} {i}", "template": "default"}
    t0 = time.perf_counter()
    async with http.post(f"{base}/api/generate", json=body, headers={"X-API-Key": key}) as r:
        await r.read()
        wall = (time.perf_counter() - t0) * 1000
        assert r.status == 200 and r.headers["X-Cache"] == "MISS", r.status
        return wall, float(r.headers["X-Render-Ms"])


async def uncached_cards(base: str, key: str, n: int, warm: int = 5) -> list[tuple[float, float]]:
    """(wall ms, X-Render-Ms) of n new cards at one client, after `warm` more that warm the
    render process's caches; paced under the plan's 50 requests/s."""
    import aiohttp

    out = []
    async with aiohttp.ClientSession() as http:
        for i in range(n + warm):
            wall, render = await one_card(http, base, key, i)
            if i >= warm:
                out.append((wall, render))
            await asyncio.sleep(max(0.0, 0.025 - wall / 1000))  # under 50 requests/s
    return out


async def _uncached(base: str, key: str, n: int) -> tuple[float, float, float]:
    """(median wall ms, median X-Render-Ms, median of per-request ratios) over n new cards."""
    cards = await uncached_cards(base, key, n)
    med = statistics.median
    return med(w for w, _ in cards), med(r for _, r in cards), med(w / r for w, r in cards)


def hotpath_section(a: argparse.Namespace):
    from bench.run import Row

    if not shutil.which("wrk"):
        return [Row("hotpath", "skipped", "-", "needs wrk (apt-get install -y wrk)")]
    seconds, rounds = (3, 1) if a.quick else (5, 3)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "bench.sqlite3")
        key, _ = asyncio.run(_prepare(db))
        port = 19000 + os.getpid() % 1000
        base = f"http://127.0.0.1:{port}"
        server = _server(db, port)
        try:
            gen, signed = asyncio.run(_warm(base, key))
            targets = {"health": (f"{base}/health", {}), "signed": (signed, {}),
                       "key": (gen, {"X-API-Key": key})}  # fmt: skip
            ratios: dict[str, list[float]] = {"signed": [], "key": []}
            health: list[float] = []
            for _ in range(rounds):
                rps = {name: _wrk(url, h, seconds, 64)[0] for name, (url, h) in targets.items()}
                health.append(rps["health"])
                for name in ratios:
                    ratios[name].append(rps[name] / rps["health"])
            each = {n: " / ".join(f"{r:.2f}" for r in v) for n, v in ratios.items()}
            rows.append(Row("hotpath", "/health, req/s", f"{statistics.median(health):,.0f}",
                            f"median of {rounds} × {seconds} s, wrk -t1 -c64"))  # fmt: skip
            rows.append(Row("hotpath", "signed-URL memory hit ÷ /health",
                            f"{statistics.median(ratios['signed']):.2f}×",
                            f"rounds {each['signed']} [target ≥ 0.8×]"))  # fmt: skip
            rows.append(Row("hotpath", "X-API-Key memory hit ÷ /health",
                            f"{statistics.median(ratios['key']):.2f}×",
                            f"rounds {each['key']} [target ≥ 0.7×]"))  # fmt: skip
            wall, render, ratio = asyncio.run(_uncached(base, key, 20 if a.quick else 60))
            rows.append(Row("hotpath", "uncached POST /api/generate ÷ its X-Render-Ms",
                            f"{ratio:.2f}×", f"median over one client: {wall:.1f} ms over HTTP, "
                            f"X-Render-Ms {render:.1f} [target ≤ 1.4×]"))  # fmt: skip
        finally:
            _stop(server)
        server = _server(db, port, IMAGE_CACHE_MB="0")  # no memory tier: every hit reads a file
        try:
            asyncio.run(_warm_store_only(base, gen, key))
            _, note = _wrk(gen, {"X-API-Key": key}, seconds, 1)
            p50 = note.split("p50 ", 1)[1].split(",", 1)[0]
            rows.append(Row("hotpath", "file-store hit, p50 at one client", f"{_ms(p50):.2f} ms",
                            f"IMAGE_CACHE_MB=0, no Redis; {note} [target ≤ 3 ms]"))  # fmt: skip
        except Exception as exc:  # keep the rows measured above
            rows.append(Row("hotpath", "file-store hit, p50 at one client", "failed", repr(exc)))
        finally:
            _stop(server)
    return rows


async def _warm_store_only(base: str, gen: str, key: str) -> None:
    import aiohttp

    from tests.services import wait_http_ok

    await wait_http_ok(f"{base}/health", 120, "bench server")
    async with aiohttp.ClientSession() as http, http.get(gen, headers={"X-API-Key": key}) as r:
        assert r.status == 200 and r.headers["X-Cache"] == "HIT", r.headers  # from the store
