"""Bench section `memory`: server RSS after a corpus of large renders, and uncached render p50.

A real server (`python -m bench.memory_bench --serve DB PORT WORKERS`: the web process plus WORKERS
render processes) renders over HTTP, cache misses only:

- 48 distinct 2400x2400 cards (template x theme x colour: each a new background), then
- a mixed corpus (sizes from 200x200 to 2400x2400, Latin, CJK, Arabic, emoji, several weights).

After each, the RSS of the web process and of each render worker is read from /proc (the
whole server is their sum). The goal (docs/rendering.md): 48 distinct 2400x2400 renders leave
the whole server under 1.2 GB.
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
from urllib.parse import urlencode

TEMPLATES = ["default", "minimal", "vibrant", "blog", "product", "event", "stats",
             "real_estate", "quote"]  # fmt: skip
TEXTS = [
    "Shipping faster with smaller images",
    "東京で開催される開発者会議 2026 のお知らせ",
    "مرحبا بكم في مؤتمر المطورين السنوي",
    "Ünïcödé, Ελληνικά, кириллица ✨🚀🎉",
    "The quick brown fox jumps over the lazy dog — again and again",
]


def serve(db: str, port: int, workers: int) -> None:
    import logging

    from aiohttp import web

    from bench.http_bench import SECRET
    from web.app import create_app
    from web.settings import Settings

    logging.basicConfig(level=logging.WARNING)
    settings = Settings(secret_key=SECRET, database_url=f"sqlite://{db}", port=port,
                        base_url=f"http://127.0.0.1:{port}", render_workers=workers)  # fmt: skip
    web.run_app(create_app(settings), host="127.0.0.1", port=port, access_log=None, print=None)


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _descendants(pid: int) -> list[int]:
    out: list[int] = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as f:
            for child in (int(c) for c in f.read().split()):
                out += [child, *_descendants(child)]
    return out


def _server_rss(pid: int) -> tuple[float, list[float]]:
    """(web process MB, [render worker MB, ...]): every process under the server; the
    helpers of multiprocessing (fork server, resource tracker) count with the web process."""
    web_mb = _rss_mb(pid)
    workers = []
    helpers = set(_descendants(pid)) - {c for d in _descendants(pid) for c in _descendants(d)}
    for child in _descendants(pid):
        try:
            cmd = Path(f"/proc/{child}/cmdline").read_bytes()
            rss = _rss_mb(child)
        except OSError:
            continue
        if child in helpers and (b"resource_tracker" in cmd or b"forkserver" in cmd):
            web_mb += rss
        else:
            workers.append(rss)
    return web_mb, sorted(workers)


def _big_corpus() -> list[dict[str, str]]:
    out = []
    for i in range(48):
        out.append({
            "title": f"{TEXTS[i % len(TEXTS)]} #{i}",
            "subtitle": "A large card for the memory benchmark",
            "template": TEMPLATES[i % len(TEMPLATES)],
            "theme": "dark" if i % 2 else "light",
            "bg_color": f"#{(i * 40503) % 0xFFFFFF:06x}",
            "width": "2400",
            "height": "2400",
        })  # fmt: skip
    return out


def _mixed_corpus() -> list[dict[str, str]]:
    sizes = [(1200, 630), (200, 200), (2400, 1260), (800, 418), (1600, 900), (2400, 2400)]
    out = []
    for i in range(60):
        w, h = sizes[i % len(sizes)]
        out.append({
            "title": f"{TEXTS[(i * 3) % len(TEXTS)]} {i}",
            "subtitle": TEXTS[(i + 1) % len(TEXTS)],
            "template": TEMPLATES[(i * 5) % len(TEMPLATES)],
            "theme": "dark" if i % 3 else "light",
            "width": str(w),
            "height": str(h),
            "format": ["png", "jpeg", "webp"][i % 3],
            **({"accent_color": f"#{(i * 7919) % 0xFFFFFF:06x}"} if i % 4 == 0 else {}),
        })  # fmt: skip
    return out


async def _render_all(base: str, key: str, corpus: list[dict[str, str]]) -> list[float]:
    """Render every card (4 at a time); returns each card's X-Render-Ms."""
    import aiohttp

    took: list[float] = []
    sem = asyncio.Semaphore(4)
    async with aiohttp.ClientSession(headers={"X-API-Key": key}) as s:

        async def one(params: dict[str, str]) -> None:
            async with sem:
                for _ in range(20):  # over the per-second rate limit: try again shortly
                    async with s.get(f"{base}/api/generate?{urlencode(params)}") as r:
                        await r.read()
                        if r.status == 429:
                            await asyncio.sleep(0.2)
                            continue
                        assert r.status == 200, r.status
                        assert r.headers["X-Cache"] == "MISS", "the corpus must not repeat"
                        took.append(float(r.headers["X-Render-Ms"]))
                        return

        await asyncio.gather(*(one(p) for p in corpus))
    return took


async def _wait(base: str) -> None:
    from tests.services import wait_http_ok

    await wait_http_ok(f"{base}/ready", 30)


def memory_section(a: argparse.Namespace):
    from bench.http_bench import _prepare
    from bench.run import Row

    workers = 2
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "bench.sqlite3")
        key, _ = asyncio.run(_prepare(db))
        port = 19000 + os.getpid() % 1000
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [sys.executable, "-m", "bench.memory_bench", "--serve", db, str(port), str(workers)],
            cwd=Path(__file__).resolve().parent.parent,
        )
        try:
            asyncio.run(_wait(base))
            web0, workers0 = _server_rss(server.pid)
            t0 = time.perf_counter()
            big = asyncio.run(_render_all(base, key, _big_corpus()))
            big_s = time.perf_counter() - t0
            web1, workers1 = _server_rss(server.pid)
            mixed = asyncio.run(_render_all(base, key, _mixed_corpus()))
            web2, workers2 = _server_rss(server.pid)
        finally:
            server.terminate()
            server.wait(10)

    def each(values: list[float]) -> str:
        return " + ".join(f"{v:,.0f}" for v in values)

    return [
        Row("memory", "server RSS at start, MB", f"{web0 + sum(workers0):,.0f}",
            f"web {web0:,.0f} + render workers {each(workers0)}"),
        Row("memory", "server RSS after 48 distinct 2400x2400 renders, MB",
            f"{web1 + sum(workers1):,.0f}",
            f"web {web1:,.0f} + render workers {each(workers1)}; goal < 1,200"),
        Row("memory", "RSS per render worker after a mixed corpus, MB", each(workers2),
            f"web {web2:,.0f}; total {web2 + sum(workers2):,.0f}; 60 cards, 200x200 to "
            "2400x2400, png/jpeg/webp, Latin/CJK/Arabic/emoji"),
        Row("memory", "uncached 2400x2400 render p50, ms", f"{statistics.median(big):.0f}",
            f"X-Render-Ms over 48 cards ({len(big) / big_s:.1f} cards/s, {workers} workers)"),
        Row("memory", "uncached mixed render p50, ms", f"{statistics.median(mixed):.0f}",
            "X-Render-Ms over the mixed corpus"),
    ]  # fmt: skip


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--serve":
        serve(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
