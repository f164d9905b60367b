"""`ogapi serve` is gunicorn with aiohttp's worker (web/cli/serve.py, web/cli/gunicorn_conf.py):
real processes, real signals, PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

import aiohttp
import pytest
from aiohttp import web
from PIL import Image

from tests.conftest import TEST_SECRET
from tests.services import free_port, wait_http_ok

ROOT = Path(__file__).resolve().parents[3]


def _children(pid: int) -> set[int]:
    """Every descendant of `pid` (from /proc)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            parents.setdefault(ppid, []).append(int(entry.name))
    out: set[int] = set()
    todo = [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            out.add(child)
            todo.append(child)
    return out


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    return state != "Z"


def _workers(arbiter: int) -> set[int]:
    """gunicorn's workers: the arbiter's children that run the web app (not helpers)."""
    return {p for p in _children(arbiter) if _ppid(p) == arbiter and "-B -c" not in _cmd(p)}


def _ppid(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except OSError:
        return -1


def _cmd(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "SECRET_KEY": TEST_SECRET, "OGAPI_DATA_DIR": str(tmp_path),
           "OGAPI_RENDER_WORKERS": "0", **extra}  # fmt: skip
    for name in ("OGAPI_ENV", "WEB_CONCURRENCY", "DATABASE_URL", "REDIS_URL"):
        if name not in extra:
            env.pop(name, None)
    return env


def test_busy_port_is_one_line_naming_it(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = subprocess.run(
            [sys.executable, "-m", "web.cli.main", "serve", "--port", str(port)],
            cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert out.returncode == 1
    assert out.stderr.splitlines() == [
        f"error: port {port} on 127.0.0.1 is already in use (is another server running?)"
    ]


def test_gunicorn_sees_workers_flag_for_the_sqlite_rule(tmp_path):
    """The Procfile's command: --workers (not only WEB_CONCURRENCY) is checked before binding."""
    bind = f"127.0.0.1:{free_port()}"
    cmd = [sys.executable, "-m", "gunicorn", "-c", "python:web.cli.gunicorn_conf",
           "web.app:gunicorn_app", "--bind", bind, "--workers", "2"]  # fmt: skip
    out = subprocess.run(cmd, cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True,
                         timeout=60)  # fmt: skip
    assert out.returncode == 2
    assert "SQLite" in out.stderr and "Traceback" not in out.stderr


async def _until_workers(arbiter: int, n: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while len(_workers(arbiter)) < n:
        assert time.monotonic() < deadline, "workers did not start"
        await asyncio.sleep(0.1)


async def _wait_health(base: str, seconds: float = 60) -> None:
    await wait_http_ok(f"{base}/health", seconds)


async def _serve(
    tmp_path: Path, env: dict[str, str], *args: str, **kw: Any
) -> tuple[asyncio.subprocess.Process, IO[bytes], str]:
    """`ogapi serve` on a free port, logging to serve.log: (process, log file, base URL)."""
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "web.cli.main", "serve", "--port", str(port), *args,
        cwd=ROOT, env=env, stdout=log, stderr=log, **kw,
    )  # fmt: skip
    return proc, log, f"http://127.0.0.1:{port}"


async def _terminate(proc: asyncio.subprocess.Process, log: IO[bytes]) -> None:
    proc.terminate()
    await asyncio.wait_for(proc.wait(), 30)
    log.close()


@pytest.fixture
async def slow_image(aiohttp_server):
    """A remote image that takes 2 s to arrive: a request in flight during a shutdown."""
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(buf, "PNG")

    async def handler(request: web.Request) -> web.Response:
        await asyncio.sleep(2.0)
        return web.Response(body=buf.getvalue(), content_type="image/png")

    app = web.Application()
    app.router.add_get("/slow.png", handler)
    server = await aiohttp_server(app)
    return f"http://127.0.0.1:{server.port}/slow.png"


async def _user(pg: str) -> str:
    from resolvers.accounts import accounts
    from resolvers.accounts.keys import active_key, reveal
    from resolvers.crypto import SecretBox
    from tests.resolvers.conftest import on_database

    async with on_database(pg):
        box = SecretBox(TEST_SECRET)
        account = await accounts.create_account("serve@example.com", "correct horse battery", box)
        return reveal(await active_key(account), box)


async def test_dead_workers_are_replaced_and_sigterm_finishes_requests_then_stops_all(
    pg, redis_url, tmp_path, slow_image
):
    env = _env(tmp_path, DATABASE_URL=pg, REDIS_URL=redis_url, OGAPI_RENDER_WORKERS="1",
               OGAPI_ALLOW_PRIVATE_FETCH="1")  # fmt: skip
    proc, log, base = await _serve(tmp_path, env, "--workers", "2")
    try:
        await _wait_health(base)
        key = await _user(pg)
        await _until_workers(proc.pid, 2)
        before = _workers(proc.pid)

        # A worker killed outright is replaced, and the port keeps answering meanwhile.
        victim = min(before)
        orphans = _children(victim)  # its render pool: forkserver and render processes
        assert orphans
        killed_at = time.monotonic()
        os.kill(victim, signal.SIGKILL)
        while True:
            now = _workers(proc.pid)
            if len(now) == 2 and victim not in now:
                break
            assert time.monotonic() - killed_at < 30, now
            await asyncio.sleep(0.05)
        replaced_in = time.monotonic() - killed_at
        await _wait_health(base, 10)
        while any(_alive(p) for p in orphans):  # they notice their worker is gone
            assert time.monotonic() - killed_at < 15, [_cmd(p) for p in orphans if _alive(p)]
            await asyncio.sleep(0.1)
        print(f"SIGKILLed worker replaced in {replaced_in:.2f} s, its render pool gone in "
              f"{time.monotonic() - killed_at:.2f} s")  # fmt: skip

        # SIGTERM with a request in flight: it is answered, then every process ends.
        tree = _children(proc.pid) | {proc.pid}
        assert any("forkserver" in _cmd(p) for p in tree)  # render pools are part of the tree
        async with aiohttp.ClientSession() as http:
            body = {"title": "In flight", "template": "minimal", "image_url": slow_image}
            inflight = asyncio.ensure_future(
                http.post(f"{base}/api/generate", json=body, headers={"X-API-Key": key})
            )
            await asyncio.sleep(0.7)  # the render is waiting for its remote image
            stop = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            resp = await inflight
            assert resp.status == 200, await resp.text()
            assert resp.headers["X-Cache"] == "MISS"
            assert (await resp.read()).startswith(b"\x89PNG")
        await asyncio.wait_for(proc.wait(), 30)
        while any(_alive(p) for p in tree):
            assert time.monotonic() - stop < 30, [(p, _cmd(p)) for p in tree if _alive(p)]
            await asyncio.sleep(0.05)
        stopped_in = time.monotonic() - stop
        print(f"SIGTERM: all {len(tree)} processes gone in {stopped_in:.2f} s")
        assert proc.returncode == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        log.close()
        print((tmp_path / "serve.log").read_text()[-3000:])
    import asyncpg

    conn = await asyncpg.connect(pg.replace("postgres://", "postgresql://"))
    try:
        others = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = 'ogapi' "
            "AND pid <> pg_backend_pid()"
        )
    finally:
        await conn.close()
    assert others == 0  # every worker closed its database pool


def _sample(text: str, pattern: str) -> list[float]:
    import re

    return [float(v) for v in re.findall(rf"^{pattern} (\S+)$", text, re.M)]


async def test_metrics_are_the_sum_over_all_workers(pg, redis_url, tmp_path):
    env = _env(tmp_path, DATABASE_URL=pg, REDIS_URL=redis_url)
    proc, log, base = await _serve(tmp_path, env, "--workers", "2")
    try:
        await _wait_health(base)
        await _until_workers(proc.pid, 2)
        # Each worker in turn is paused (SIGSTOP), so that the other one answers everything
        # meanwhile: requests and a scrape on each side.
        w1, w2 = sorted(_workers(proc.pid))
        sent, scrapes = 0, {}
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as http:

            async def one() -> str:
                async with http.get(f"{base}/api/templates") as r:
                    assert r.status == 200
                    return r.headers["X-Request-ID"]

            for paused in (w1, w2):
                os.kill(paused, signal.SIGSTOP)
                try:
                    ids = await asyncio.gather(*(one() for _ in range(10)))
                    sent += 10
                    async with http.get(f"{base}/metrics") as r:
                        assert r.status == 200
                        scrapes[r.headers["X-Request-ID"][:8]] = (await r.text(), sent)
                    assert len({i[:8] for i in ids}) == 1  # all from the running worker
                finally:
                    os.kill(paused, signal.SIGCONT)
            async with http.get(f"{base}/metrics") as r:
                final = await r.text()
        assert len(scrapes) == 2, scrapes.keys()  # answered by each worker once
        route = r'ogapi_requests_total{method="GET",route="/api/templates",status="200"}'
        latency = r'ogapi_request_seconds_count{method="GET",route="/api/templates"}'
        for text, total in scrapes.values():  # each worker reports both workers' requests
            assert _sample(text, route) == [float(total)]
            assert _sample(text, latency) == [float(total)]
        assert _sample(final, route) == [20.0]
        assert _sample(
            final, r'ogapi_requests_total{method="GET",route="/metrics",status="200"}'
        ) == [2.0]
        assert len(_sample(final, r'process_start_time_seconds{pid="\d+"}')) == 2  # per worker
        # each served worker froze its start-up heap out of the collector's sight (gcpause.py)
        frozen = _sample(final, r'ogapi_gc_frozen_objects{pid="\d+"}')
        assert len(frozen) == 2 and min(frozen) > 10_000, frozen
    finally:
        await _terminate(proc, log)


async def test_worker_sigkilled_under_load_loses_and_duplicates_nothing(
    pg, redis_url, tmp_path, slow_image
):
    """Renders in flight on a worker that is SIGKILLed: the client sees a dropped connection;
    the quota reservations and overage charges they held are given back by the survivors'
    sweep (OGAPI_RESERVATION_TIMEOUT), and the ledger stays exact."""
    from datetime import UTC, datetime
    from decimal import Decimal

    from models import Account, LedgerEntry, PlanId, QuotaReservation
    from resolvers.ledger import entries as ledger
    from resolvers.metering import quota
    from resolvers.pricing import overage_price
    from tests.resolvers.conftest import on_database

    env = _env(tmp_path, DATABASE_URL=pg, REDIS_URL=redis_url, OGAPI_ALLOW_PRIVATE_FETCH="1",
               OGAPI_RESERVATION_TIMEOUT="3")  # fmt: skip
    proc, log, base = await _serve(tmp_path, env, "--workers", "2")
    try:
        await _wait_health(base)
        await _until_workers(proc.pid, 2)
        key = await _user(pg)
        async with on_database(pg):
            account = await Account.get(email="serve@example.com")
            account.plan, account.custom_quota, account.overage_enabled = PlanId.AGENCY, 4, True
            await account.save()
            granted = Decimal("1.00")
            await ledger.grant(account.id, granted, datetime.now(UTC))
        price = overage_price(PlanId.AGENCY)
        assert price is not None

        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as http:

            async def one(i: int) -> str:
                body = {"title": f"Load {i}", "template": "minimal", "image_url": slow_image}
                try:
                    async with http.post(f"{base}/api/generate", json=body,
                                         headers={"X-API-Key": key}) as r:  # fmt: skip
                        await r.read()
                        return str(r.status)
                except aiohttp.ClientError:
                    return "dropped"

            burst = [asyncio.ensure_future(one(i)) for i in range(14)]
            await asyncio.sleep(1.0)  # renders wait for their remote image on both workers
            victim = min(_workers(proc.pid))
            os.kill(victim, signal.SIGKILL)
            outcomes = await asyncio.gather(*burst)
            assert "dropped" in outcomes, outcomes  # renders were in flight on the victim
            # The surviving (and the replacement) worker go on serving.
            outcomes += await asyncio.gather(*(one(i) for i in range(100, 104)))
        delivered = outcomes.count("200")
        assert delivered >= 4, outcomes
        assert set(outcomes) <= {"200", "dropped"}, outcomes

        async with on_database(pg):
            killed_at = time.monotonic()
            while await QuotaReservation.all().count():  # the sweep of a surviving worker
                assert time.monotonic() - killed_at < 20, "reservations were never given back"
                await asyncio.sleep(0.2)
            dropped = outcomes.count("dropped")
            waited = time.monotonic() - killed_at
            print(f"orphans given back {waited:.1f} s after the burst ({delivered} delivered, "
                  f"{dropped} dropped)")  # fmt: skip
            assert await quota.used_this_month(account.id, datetime.now(UTC)) == delivered
            entries = await LedgerEntry.filter(account_id=account.id)
            charges = [e for e in entries if e.type.value == "usage"]
            reversals = [e for e in entries if e.type.value == "refund"]
            refs = [e.external_ref for e in entries if e.external_ref]
            assert len(refs) == len(set(refs))  # nothing duplicated
            kept = len(charges) - len(reversals)  # overage images paid for and delivered
            assert 0 <= delivered - kept <= 4  # the rest were in the quota of 4
            assert {e.external_ref for e in reversals} <= {f"reversal:{c.id}" for c in charges}
            balance = await ledger.balance_of(account.id)
            assert balance == granted - price * kept
            assert balance == sum(
                (e.amount if e.type.value in ("purchase", "refund") else -e.amount) for e in entries
            )
    finally:
        await _terminate(proc, log)


async def test_sigint_stops_gracefully_without_tracebacks(tmp_path):
    """Ctrl-C on `ogapi serve`: the signal reaches the whole process group (render processes
    ignore it); everything stops, no traceback, exit status 0."""
    env = _env(tmp_path, OGAPI_RENDER_WORKERS="1")
    proc, log, base = await _serve(tmp_path, env, start_new_session=True)
    try:
        await _wait_health(base)
        tree = _children(proc.pid) | {proc.pid}
        stop = time.monotonic()
        os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl-C does
        await asyncio.wait_for(proc.wait(), 30)
        while any(_alive(p) for p in tree):
            assert time.monotonic() - stop < 30
            await asyncio.sleep(0.05)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        log.close()
    assert proc.returncode == 0
    out = (tmp_path / "serve.log").read_text()
    assert "Traceback" not in out and "Error while closing socket" not in out


@pytest.mark.parametrize("worker", [None, "web.cli.gunicorn_worker.WebWorker"])
async def test_sigterm_closes_each_listening_socket_once(tmp_path, worker):
    """gunicorn's socket wrapper used to be closed by the event loop after libuv had closed its
    descriptor: "Error while closing socket [Errno 9] Bad file descriptor" on every shutdown
    (web/cli/gunicorn_worker.py). The Procfile's command, with its uvloop worker and with the
    asyncio one used where uvloop is missing."""
    port = free_port()
    cmd = [sys.executable, "-m", "gunicorn", "-c", "python:web.cli.gunicorn_conf",
           "web.app:gunicorn_app", "--bind", f"127.0.0.1:{port}",
           *(["--worker-class", worker] if worker else [])]  # fmt: skip
    log = (tmp_path / "serve.log").open("wb")
    proc = await asyncio.create_subprocess_exec(
        *cmd, cwd=ROOT, env=_env(tmp_path), stdout=log, stderr=log
    )
    try:
        await _wait_health(f"http://127.0.0.1:{port}")
    finally:
        await _terminate(proc, log)
    out = (tmp_path / "serve.log").read_text()
    assert proc.returncode == 0, out
    assert "Worker exiting" in out and "Shutting down: Master" in out, out
    # Once serving, a first run says where the dashboard is and how to get sample data.
    assert f"Dashboard: http://127.0.0.1:{port}/dashboard" in out and "ogapi demo" in out, out
    assert "Error while closing socket" not in out and "Errno 9" not in out, out
