"""Bench section `batch`: a 100-item batch beside 100 sequential requests, and the peak RSS of
a 100-item 2400x2400 ZIP batch (docs/rest-api.md "POST /api/batch").

A real server (`python -m bench.batch_bench --serve DB PORT`: the web process and 2 render
processes, SQLite) renders distinct cards only (cache misses, each counted). Its render
processes keep the web process's priority (`render_nice=0`): on a machine shared with other
work, the default niceness of 10 lets that work starve them and measures the neighbours.

- throughput: 100 `POST /api/generate` one after another (what a build script without
  batches does), then one `POST /api/batch` of 100 other cards (the ZIP answer, read as it
  streams); images/s of each, alternated over `rounds` rounds, and their ratio (goal >= 1.6x
  on 2 cores: the batch keeps both render processes busy);
- memory: one batch of 100 distinct 2400x2400 cards; the RSS of the web process and of the
  whole server (web + render processes), sampled every 20 ms from /proc while it streams.
  The client counts the bytes and keeps none of them.
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

ROUNDS = 5


def serve(db: str, port: int) -> None:
    import logging

    from aiohttp import web

    from bench.http_bench import SECRET
    from web.app import create_app
    from web.settings import Settings

    logging.basicConfig(level=logging.WARNING)
    settings = Settings(secret_key=SECRET, database_url=f"sqlite://{db}", port=port,
                        base_url=f"http://127.0.0.1:{port}", render_workers=2,
                        render_nice=0)  # fmt: skip
    web.run_app(create_app(settings), host="127.0.0.1", port=port, access_log=None, print=None)


def _say(text: str) -> None:
    print(f"batch bench: {text}", file=sys.stderr, flush=True)


def _cards(tag: str, n: int, size: int | None = None) -> list[dict[str, object]]:
    from bench.memory_bench import TEMPLATES, TEXTS

    out: list[dict[str, object]] = []
    for i in range(n):
        card: dict[str, object] = {
            "title": f"{TEXTS[i % len(TEXTS)]} {tag} #{i}",
            "subtitle": "A build-time card",
            "template": TEMPLATES[i % len(TEMPLATES)],
        }
        if size is not None:
            card.update(width=size, height=size, bg_color=f"#{(i * 40503) % 0xFFFFFF:06x}")
        out.append(card)
    return out


async def _sequential(base: str, key: str, cards: list[dict[str, object]]) -> float:
    """Seconds for `cards` sent one after another (a 429 waits and retries)."""
    import aiohttp

    async with aiohttp.ClientSession(headers={"X-API-Key": key}) as s:
        t0 = time.perf_counter()
        for card in cards:
            while True:
                async with s.post(f"{base}/api/generate", json=card) as r:
                    await r.read()
                    if r.status == 429:
                        await asyncio.sleep(0.05)
                        continue
                    assert r.status == 200 and r.headers["X-Cache"] == "MISS", r.status
                    break
        return time.perf_counter() - t0


async def _batch(base: str, key: str, cards: list[dict[str, object]], sample=None) -> tuple:
    """(seconds, ZIP bytes, peak samples) of one batch answered as a ZIP, read as it streams;
    `sample()` is called every 20 ms while it runs and its maxima are returned."""
    import aiohttp

    peaks: list[tuple[float, ...]] = []
    done = asyncio.Event()

    async def sampler() -> None:
        while not done.is_set():
            peaks.append(sample())
            await asyncio.sleep(0.02)

    task = asyncio.create_task(sampler()) if sample else None
    timeout = aiohttp.ClientTimeout(total=900)
    async with aiohttp.ClientSession(headers={"X-API-Key": key}, timeout=timeout) as s:
        t0 = time.perf_counter()
        size = 0
        async with s.post(f"{base}/api/batch", json={"items": cards}) as r:
            assert r.status == 200, await r.text()
            async for chunk in r.content.iter_any():
                size += len(chunk)
        took = time.perf_counter() - t0
    done.set()
    if task is not None:
        await task
    top = tuple(max(p[i] for p in peaks) for i in range(len(peaks[0]))) if peaks else ()
    return took, size, top


def batch_section(a: argparse.Namespace):
    from bench.http_bench import _prepare
    from bench.memory_bench import _server_rss, _wait
    from bench.run import Row

    rounds = min(a.rounds, ROUNDS)
    n = 100
    big = 20 if a.quick else n  # --quick: a smaller 2400x2400 batch
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "bench.sqlite3")
        key, _ = asyncio.run(_prepare(db))
        port = 19000 + (os.getpid() + 500) % 1000
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [sys.executable, "-m", "bench.batch_bench", "--serve", db, str(port)],
            cwd=Path(__file__).resolve().parent.parent,
        )
        try:
            asyncio.run(_wait(base))
            asyncio.run(_sequential(base, key, _cards("warm", 4)))  # fonts, pool, key cache
            seq, bat = [], []
            for r in range(rounds):
                seq.append(n / asyncio.run(_sequential(base, key, _cards(f"s{r}", n))))
                bat.append(n / asyncio.run(_batch(base, key, _cards(f"b{r}", n)))[0])
                _say(f"round {r + 1}: sequential {seq[-1]:.1f}/s, batch {bat[-1]:.1f}/s")
            web0, workers0 = _server_rss(server.pid)

            def sample() -> tuple[float, float]:
                web, workers = _server_rss(server.pid)
                return web, web + sum(workers)

            took, size, (web_peak, total_peak) = asyncio.run(
                _batch(base, key, _cards("big", big, 2400), sample)
            )
        finally:
            server.terminate()
            server.wait(10)
    # Paired by round: the machine's speed drifts between rounds, not within one.
    ratio = statistics.median(b / s for b, s in zip(bat, seq, strict=True))
    return [
        Row("batch", "100 sequential requests, images/s", f"{statistics.median(seq):.1f}",
            f"median of {rounds}; distinct 1200x630 PNG cards, 2 render processes"),
        Row("batch", "one 100-item batch (ZIP), images/s", f"{statistics.median(bat):.1f}",
            f"median of {rounds}; the same kind of cards"),
        Row("batch", "batch / sequential throughput", f"{ratio:.2f}x",
            "median of the rounds' ratios; goal >= 1.6x on 2 cores"),
        Row("batch", f"{big}-item 2400x2400 ZIP batch: peak RSS, MB", f"{total_peak:,.0f}",
            f"web process {web_peak:,.0f} (before {web0:,.0f}), whole server incl. 2 render "
            f"processes (before {web0 + sum(workers0):,.0f}); ZIP {size / 1e6:,.1f} MB in "
            f"{took:.1f} s"),
    ]  # fmt: skip


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--serve":
        serve(sys.argv[2], int(sys.argv[3]))
    else:
        from bench.run import main

        main(["--only", "batch", *sys.argv[1:]])
