"""Before/after in one run: the image hot path of this checkout beside another one's.

usage: python -m bench.ab_bench OTHER_CHECKOUT [--rounds R] [--seconds S]

Both servers run this module's `SERVE` (the app of their own checkout, as bench/http_bench.py
serves it: uvloop, SQLite, the start-up heap frozen as production's workers do) pinned to the
same core, each on its own database; wrk rounds alternate between them, target by target
(`/health`, a signed-URL memory hit as a crawler fetches it, an `X-API-Key` memory hit). The
steady figure on a shared machine is the server's CPU time per request (user + system, from
/proc), which decides req/s on a core of its own; req/s are printed beside it.

`--uncached N` adds, each round, N uncached `POST /api/generate` on each server, one client
alternating between them card by card (new titles, as bench/hotpath_bench.py sends them): the
time over HTTP beside the response's own `X-Render-Ms`, and the web process's CPU per card
(its render process aside). `--targets ""` leaves the wrk targets out.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.hotpath_bench import one_card, uncached_cards
from bench.http_bench import FETCHER_UA, _cores, _cpu_seconds, _prepare, _warm, _wrk

ROOT = Path(__file__).resolve().parent.parent
# Run with `python -c` in the checkout under test, so its own packages are imported.
SERVE = """
import logging, sys
import uvloop
from aiohttp import web
sys.path.insert(1, sys.argv[3])  # this bench's checkout, for bench.http_bench._settings
from bench.http_bench import _settings
from web.cli import gcpause
from web.app import create_app
logging.basicConfig(level=logging.WARNING)
uvloop.install()
app = create_app(_settings(sys.argv[1], int(sys.argv[2])))
app.on_startup.append(gcpause.freeze_startup_heap)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[2]), access_log=None, print=None)
"""
TARGETS = ("health", "signed", "key")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("other", help="the other checkout (a git worktree of the old code)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=int, default=4)
    ap.add_argument("--targets", default=",".join(TARGETS), help="wrk targets, comma-separated")
    ap.add_argument("--uncached", type=int, default=0, metavar="N",
                    help="N uncached renders per server and round (0: none)")  # fmt: skip
    a = ap.parse_args(argv)
    targets = [t for t in a.targets.split(",") if t]
    roots = {"before": str(Path(a.other).resolve()), "after": str(ROOT)}
    servers: dict[str, subprocess.Popen] = {}
    urls: dict[str, dict[str, tuple[str, dict[str, str]]]] = {}
    keys: dict[str, tuple[str, str]] = {}  # name -> (base URL, API key)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            for i, (name, root) in enumerate(roots.items()):
                db = str(Path(tmp) / name / "bench.sqlite3")
                Path(db).parent.mkdir()
                key, _ = asyncio.run(_prepare(db))
                port = 17000 + os.getpid() % 1000 + i
                servers[name] = subprocess.Popen(
                    [*_cores()[0], sys.executable, "-c", SERVE, db, str(port), str(ROOT)], cwd=root
                )
                base = f"http://127.0.0.1:{port}"
                gen, signed = asyncio.run(_warm(base, key))
                keys[name] = (base, key)
                if a.uncached:  # the render process's caches
                    asyncio.run(uncached_cards(base, key, 0, warm=5))
                urls[name] = {"health": (f"{base}/health", {}),
                              "signed": (signed, {"User-Agent": FETCHER_UA}),
                              "key": (gen, {"X-API-Key": key})}  # fmt: skip
            runs = {(n, t): [] for n in roots for t in targets}
            cards: dict[str, list[tuple[float, float]]] = {n: [] for n in roots}
            card_cpu: dict[str, list[float]] = {n: [] for n in roots}
            for r in range(a.rounds):
                order = list(roots) if r % 2 == 0 else list(roots)[::-1]
                if a.uncached:
                    cpu = {n: _cpu_seconds(servers[n].pid) for n in order}
                    for name, got in asyncio.run(_alternating(keys, order, a.uncached)).items():
                        cards[name] += got
                        used = _cpu_seconds(servers[name].pid) - cpu[name]
                        card_cpu[name].append(used / a.uncached * 1e3)
                for target in targets:
                    for name in order:
                        url, headers = urls[name][target]
                        pid = servers[name].pid  # taskset execs the server: same pid
                        cpu = _cpu_seconds(pid)
                        rps, _ = _wrk(url, headers, a.seconds, 64)
                        used = (_cpu_seconds(pid) - cpu) / (rps * a.seconds) * 1e6
                        runs[(name, target)].append((used, rps))
        finally:
            for server in servers.values():
                server.terminate()
                server.wait(10)
    if targets:
        _report(runs, targets, a)
    if a.uncached:
        _report_uncached(cards, card_cpu, a)


async def _alternating(keys: dict, order: list[str], n: int) -> dict[str, list]:
    """n new cards on each server, alternating card by card (`keys`: name -> (base, key))."""
    import aiohttp

    out: dict[str, list] = {name: [] for name in order}
    async with aiohttp.ClientSession() as http:
        for i in range(n):
            for name in order if i % 2 == 0 else order[::-1]:
                out[name].append(await one_card(http, *keys[name], i))
                await asyncio.sleep(0.015)  # each server's account stays under 50 requests/s
    return out


def _report_uncached(cards: dict, card_cpu: dict, a: argparse.Namespace) -> None:
    med = statistics.median
    print(f"\nUncached POST /api/generate: {a.rounds} rounds × {a.uncached} cards per server, "
          "one client alternating card by card; medians.\n")  # fmt: skip
    print("| figure | before | after |\n|---|---|---|")
    rows = {
        "over HTTP, ms": lambda c: med(w for w, _ in c),
        "X-Render-Ms": lambda c: med(r for _, r in c),
        "outside the render (HTTP − X-Render-Ms), ms": lambda c: med(w - r for w, r in c),
        "HTTP ÷ X-Render-Ms": lambda c: med(w / r for w, r in c),
    }
    for label, fn in rows.items():
        print(f"| {label} | {fn(cards['before']):.2f} | {fn(cards['after']):.2f} |")
    cpu = [med(card_cpu[n]) for n in ("before", "after")]
    print(f"| web process CPU per card, ms | {cpu[0]:.2f} | {cpu[1]:.2f} |")


def _report(runs: dict, targets: list[str], a: argparse.Namespace) -> None:
    med = statistics.median
    cpu = {k: med(u for u, _ in v) for k, v in runs.items()}
    rps = {k: med(r for _, r in v) for k, v in runs.items()}
    print(f"Medians of {a.rounds} alternating rounds × {a.seconds} s, wrk -t1 -c64, one core.\n")
    print("| target | CPU µs/request before | after | change | req/s before | after |")
    print("|---|---|---|---|---|---|")
    for t in targets:
        b, f = cpu[("before", t)], cpu[("after", t)]
        print(f"| {t} | {b:.0f} | {f:.0f} | {f / b - 1:+.1%} | {rps[('before', t)]:,.0f} "
              f"| {rps[('after', t)]:,.0f} |")  # fmt: skip
    if "health" not in targets:
        return
    print("\n| ratio to /health (CPU per request) | before | after |\n|---|---|---|")
    for t in (t for t in targets if t != "health"):
        ratios = [cpu[(n, "health")] / cpu[(n, t)] for n in ("before", "after")]
        print(f"| {t} | {ratios[0]:.2f}× | {ratios[1]:.2f}× |")


if __name__ == "__main__":
    main()
