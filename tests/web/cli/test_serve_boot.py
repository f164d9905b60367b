"""SIGTERM while a worker of `ogapi serve` is still booting: it stops at once instead of after
gunicorn's 20 s graceful timeout and a SIGKILL (web/cli/gunicorn_worker.py), with real processes."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import pytest

from tests.web.cli.test_serve import _alive, _children, _env, _serve, _workers

STOPPED_WITHIN = 10.0  # seconds; the old worker took the 20 s graceful timeout and a SIGKILL


async def _until(check, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "the worker never got there"
        await asyncio.sleep(0.02)


@pytest.mark.parametrize("moment", ["importing", "starting"])
async def test_sigterm_while_a_worker_boots_stops_it_promptly(tmp_path, moment):
    """`importing`: the app module is still loading (no event loop yet). `starting`: the app's
    start-up is warming the render pool (a render process exists, the worker serves nothing)."""
    env = _env(tmp_path, OGAPI_RENDER_WORKERS="1")
    proc, log, _ = await _serve(tmp_path, env)
    try:
        await _until(lambda: _workers(proc.pid))
        (worker,) = _workers(proc.pid)
        if moment == "importing":
            await asyncio.sleep(0.2)
        else:
            await _until(lambda: _children(worker))  # the render pool's processes
        tree = _children(proc.pid) | {proc.pid}
        stop = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 40)
        took = time.monotonic() - stop
        while any(_alive(p) for p in tree):  # nothing left behind either
            assert time.monotonic() - stop < 40
            await asyncio.sleep(0.05)
    finally:
        if proc.returncode is None:
            os.kill(proc.pid, signal.SIGKILL)
            await proc.wait()
        log.close()
    out = (tmp_path / "serve.log").read_text()
    print(f"SIGTERM while {moment}: stopped in {took:.1f} s")
    assert took < STOPPED_WITHIN, out
    assert proc.returncode == 0, out
    assert "Traceback" not in out and "SIGKILL" not in out, out
    if moment == "starting":
        assert "Worker stopped while booting" in out, out
