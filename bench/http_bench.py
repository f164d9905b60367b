"""Bench section `http`: cache-hit requests/s over real HTTP, one server process (one core).

The server runs in a subprocess (`python -m bench.http_bench --serve DB PORT`) on a fresh migrated
SQLite database; the load comes from `wrk` when installed (`apt-get install -y wrk`), else
from an aiohttp client in this process (which then competes for the CPU: a lower bound).

Signed-image hits are measured twice in the same run, on two servers pinned to the same core:
one counting the fetches (docs/link-previews.md, as served) and one started with
`--uncounted`, whose fetch log drops them (the cost of counting is the difference).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

SECRET = "bench-secret-key-0123456789-0123456789-abcdef"
KEY_ENV = "OGAPI_BENCH_KEY"


def _settings(db: str, port: int):
    from web.settings import Settings

    # the image store beside the database (the embedded default); IMAGE_CACHE_MB=0 makes every
    # hit a store hit (bench/hotpath_bench.py)
    store = os.environ.get("IMAGE_STORE") or f"file://{Path(db).parent / 'images'}"
    return Settings(secret_key=SECRET, database_url=f"sqlite://{db}", port=port,
                    base_url=f"http://127.0.0.1:{port}", render_workers=1, image_store=store,
                    image_cache_mb=int(os.environ.get("IMAGE_CACHE_MB", "256")))  # fmt: skip


FETCHER_UA = "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)"


def serve(db: str, port: int, counted: bool = True) -> None:
    import logging

    from aiohttp import web

    from resolvers.insight.fetch_log import FetchLog
    from web.app import create_app
    from web.appkeys import fetch_log_key
    from web.cli import gcpause

    class Uncounted(FetchLog):
        def record(self, *args, **kwargs) -> None:
            return None

    logging.basicConfig(level=logging.WARNING)
    try:
        import uvloop  # the production worker's loop (gunicorn + uvloop in the prod extra)

        uvloop.install()
    except ImportError:
        pass
    app = create_app(_settings(db, port))
    app.on_startup.append(gcpause.freeze_startup_heap)  # as web.app.gunicorn_app's workers do
    if not counted:
        app[fetch_log_key] = Uncounted()
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


async def _prepare(db: str) -> tuple[str, str]:
    """Migrate, create a publishing-plan account; returns (api_key, email)."""
    from models import PlanId
    from models.db import database, migrate
    from resolvers.accounts.accounts import create_account
    from resolvers.accounts.keys import active_key, reveal
    from resolvers.crypto import SecretBox

    url = f"sqlite://{db}"
    await migrate(url)
    box = SecretBox(SECRET)
    async with database(url):
        account = await create_account("bench@example.com", "bench-password-123", box,
                                       plan=PlanId.PUBLISHING)  # fmt: skip
        return reveal(await active_key(account), box) or "", account.email


def _cores() -> tuple[list[str], list[str]]:
    """`taskset` prefixes: the server on one core, the load generator on the others (when the
    machine has at least two), so the number measured is one server core's throughput."""
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if len(cpus) < 2 or not shutil.which("taskset"):
        return [], []
    rest = ",".join(str(c) for c in cpus[:-1])
    return ["taskset", "-c", str(cpus[-1])], ["taskset", "-c", rest]


def _wrk(url: str, headers: dict[str, str], seconds: int, conns: int) -> tuple[float, str]:
    cmd = [*_cores()[1], "wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "--latency"]
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    note = (
        f"wrk -t1 -c{conns}; p50 {p50.group(1) if p50 else '?'}, p99 {p99.group(1) if p99 else '?'}"
    )
    if errors:
        note += f"; {errors.group(1)} non-2xx"
    return rps, note


async def _client_load(url: str, headers: dict[str, str], seconds: int, conns: int) -> float:
    import aiohttp

    done = 0
    deadline = time.perf_counter() + seconds
    async with aiohttp.ClientSession(headers=headers) as session:

        async def worker() -> None:
            nonlocal done
            while time.perf_counter() < deadline:
                async with session.get(url) as resp:
                    await resp.read()
                    assert resp.status == 200, resp.status
                done += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(conns)))
        return done / (time.perf_counter() - t0)


async def _warm(base: str, key: str) -> tuple[str, str]:
    """Render both images once; returns (generate URL, signed URL)."""
    import aiohttp

    gen = f"{base}/api/generate?title=Cache+hit+benchmark&subtitle=warm&template=default"
    async with aiohttp.ClientSession() as s:
        for _ in range(600):  # wait for the server (slow to import on a busy machine)
            try:
                async with s.get(f"{base}/health") as r:
                    if r.status == 200:
                        break
            except aiohttp.ClientError:
                await asyncio.sleep(0.1)
        async with s.get(gen, headers={"X-API-Key": key}) as r:
            assert r.status == 200, await r.text()
        async with s.get(f"{base}/api/signed/generate?title=Signed+benchmark",
                         headers={"X-API-Key": key}) as r:  # fmt: skip
            signed = (await r.json())["url"]
        await asyncio.sleep(1.1)  # let the 1-second rate-limit burst refill
        async with s.get(signed) as r:
            assert r.status == 200, await r.text()
        async with s.get(gen, headers={"X-API-Key": key}) as r:
            assert r.headers["X-Cache"] == "HIT"
    return gen, signed


async def _warm_signed(base: str, signed: str) -> str:
    """The same signed URL on the server at `base` (rendered there once)."""
    import aiohttp

    url = base + signed[signed.index("/api/signed/image") :]
    async with aiohttp.ClientSession() as s:
        for _ in range(600):  # wait for the server (slow to import on a busy machine)
            try:
                async with s.get(f"{base}/health") as r:
                    if r.status == 200:
                        break
            except aiohttp.ClientError:
                await asyncio.sleep(0.1)
        await asyncio.sleep(1.1)  # the rate-limit burst again
        async with s.get(url) as r:
            assert r.status == 200, await r.text()
    return url


def _load(url: str, headers: dict[str, str], seconds: int, conns: int) -> tuple[float, str]:
    if shutil.which("wrk"):
        return _wrk(url, headers, seconds, conns)
    rps = asyncio.run(_client_load(url, headers, seconds, conns))
    return rps, f"aiohttp client in-process, {conns} connections (lower bound)"


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used (Linux /proc), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _counting_cost(
    counted: str, uncounted: str, headers: dict[str, str], pairs: int, conns: int, pids: list[int]
):
    """Signed hits with and without counting the fetches (docs/link-previews.md): `pairs` pairs
    of 4 s runs on the two servers (same core), alternating which goes first. Reported: the
    change in the servers' CPU time per request (what decides req/s on a core of its own, and
    far steadier than req/s on a shared machine), and the median of the pairs' req/s ratios."""
    from bench.run import Row

    ratios, cpu = [], {counted: [], uncounted: []}
    rps: dict[str, list[float]] = {counted: [], uncounted: []}
    for i in range(pairs):
        order = [(counted, pids[0]), (uncounted, pids[1])]
        for url, pid in order if i % 2 == 0 else order[::-1]:
            before = _cpu_seconds(pid)
            rate = _load(url, headers, 4, conns)[0]
            cpu[url].append((_cpu_seconds(pid) - before) / (rate * 4))
            rps[url].append(rate)
        ratios.append(rps[counted][-1] / rps[uncounted][-1])
    med = lambda xs: sorted(xs)[len(xs) // 2]  # noqa: E731
    per_with, per_without = med(cpu[counted]), med(cpu[uncounted])
    change = per_without / per_with - 1  # req/s on a dedicated core go as 1 / CPU per request
    cost = _record_cost()
    note = (f"server CPU per request {per_with * 1e6:.0f} µs counted vs {per_without * 1e6:.0f} µs "
            f"not counted (medians of {pairs} alternating pairs × 4 s, same core); req/s pair "
            f"ratios, noisy on a shared machine: median {med(ratios) - 1:+.1%} ("
            + " / ".join(f"{r:.2f}" for r in sorted(ratios))
            + f"); FetchLog.record itself {cost * 1e6:.2f} µs a call")  # fmt: skip
    return Row("http", "signed hit: counting fetches, change in req/s", f"{change:+.1%}", note)


def _record_cost() -> float:
    """Seconds per `FetchLog.record` of a crawler's hit (the best of 5 rounds, in this process)."""
    import timeit
    from datetime import UTC, datetime

    from resolvers.insight.fetch_log import FetchLog

    log, now, image = FetchLog(), datetime.now(UTC), "a" * 64
    n = 100_000

    def hit() -> None:
        log.record(7, FETCHER_UA, now, image=image, title="Hi", status=200, cache_hit=True)

    return min(timeit.repeat(hit, number=n, repeat=5)) / n


def http_section(a: argparse.Namespace):
    from bench.run import Row

    seconds = 3 if a.quick else 6
    conns = 64
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "bench.sqlite3")
        key, _ = asyncio.run(_prepare(db))
        port = 18000 + os.getpid() % 1000
        server_cpu, _ = _cores()
        servers = [
            subprocess.Popen(
                [
                    *server_cpu,
                    sys.executable,
                    "-m",
                    "bench.http_bench",
                    "--serve",
                    db,
                    str(p),
                    *extra,
                ],
                cwd=Path(__file__).resolve().parent.parent,
            )
            for p, extra in ((port, []), (port + 1, ["--uncounted"]))
        ]
        try:
            gen, signed = asyncio.run(_warm(f"http://127.0.0.1:{port}", key))
            uncounted = asyncio.run(_warm_signed(f"http://127.0.0.1:{port + 1}", signed))
            crawler = {"User-Agent": FETCHER_UA}
            targets = (
                ("/api/generate (X-API-Key), cache hit", gen, {"X-API-Key": key}),
                ("/api/signed/image, cache hit", signed, crawler),
                ("/health (aiohttp floor)", f"http://127.0.0.1:{port}/health", {}),
            )
            # Rounds interleave the targets, so a burst of other work on the machine does not
            # land on one target only; the value is the median round.
            runs: dict[str, list[tuple[float, str]]] = {label: [] for label, _, _ in targets}
            for _ in range(1 if a.quick else 3):
                for label, url, headers in targets:
                    runs[label].append(_load(url, headers, seconds, conns))
            rows = []
            for label, results in runs.items():
                ordered = sorted(results)
                rps, note = ordered[len(ordered) // 2]
                if len(ordered) > 1:
                    each = " / ".join(f"{r:,.0f}" for r, _ in results)
                    note = f"median of {len(results)} × {seconds} s ({each}); {note}"
                rows.append(Row("http", f"{label}, req/s", f"{rps:,.0f}", note))
            pids = [server.pid for server in servers]  # taskset execs the server: same pid
            rows.append(
                _counting_cost(signed, uncounted, crawler, 3 if a.quick else 8, conns, pids)
            )
            path = urlsplit(signed).path
            pinned = (
                f"server pinned to CPU {server_cpu[-1]}, wrk to the rest"
                if server_cpu
                else ("not pinned (one CPU or no taskset): server and client share the machine")
            )
            rows.append(
                Row("http", "server", "1 process, uvloop, SQLite", f"{path} etc.; {pinned}")
            )
            return rows
        finally:
            for server in servers:
                server.terminate()
            for server in servers:
                server.wait(10)


if __name__ == "__main__":
    if len(sys.argv) in (4, 5) and sys.argv[1] == "--serve":
        serve(sys.argv[2], int(sys.argv[3]), counted=sys.argv[4:] != ["--uncounted"])
