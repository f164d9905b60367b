from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import pytest

from bench.samples import STANDARD
from render import pool as pool_module
from render.pool import RenderError, RenderPool
from render.spec import CardSpec
from tests.render.conftest import decode

SERIF = Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf")  # fonts-dejavu-core
BAD = CardSpec(title=12345)  # type: ignore[arg-type]  # not a str: the render raises


async def test_renders_in_a_subprocess_and_propagates_errors():
    async with RenderPool(1) as pool:
        im = decode(await pool.render(STANDARD))
        assert im.size == (1200, 630)
        assert decode(await pool.render_fallback(400, 300)).size == (400, 300)
        with pytest.raises(RenderError, match="TypeError"):
            await pool.render(BAD)
        assert decode(await pool.render(STANDARD)).size == (1200, 630), "pool survives errors"


async def test_render_processes_run_at_the_configured_lower_priority():
    own = os.nice(0)
    async with RenderPool(1, nice=5) as pool:
        assert await pool._run(os.nice, 0) == min(19, own + 5)
    async with RenderPool(1) as pool:
        assert await pool._run(os.nice, 0) == own, "nice=0 leaves the priority alone"


async def test_inline_mode():
    pool = RenderPool(0)
    try:
        assert decode(await pool.render(STANDARD)).size == (1200, 630)
        with pytest.raises(RenderError):
            await pool.render(BAD)
    finally:
        pool.close()


def _worker_pids(pool: RenderPool) -> list[int]:
    return list(pool._executor._processes)  # type: ignore[attr-defined]


async def _until(predicate, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.01)


async def test_a_killed_worker_is_replaced_and_the_next_render_succeeds():
    async with RenderPool(1) as pool:
        assert decode(await pool.render(STANDARD)).size == (1200, 630)
        (pid,) = _worker_pids(pool)
        os.kill(pid, signal.SIGKILL)  # as the OOM killer would
        assert decode(await pool.render(STANDARD)).size == (1200, 630), "not a 500 forever"
        assert pool.rebuilds == 1 and pool.healthy
        assert pid not in _worker_pids(pool)


async def test_concurrent_renders_that_see_a_dead_worker_rebuild_once():
    async with RenderPool(2) as pool:
        await pool.warm_up()
        renders = [asyncio.ensure_future(pool.render(STANDARD)) for _ in range(8)]
        await asyncio.sleep(0)  # submitted: queued or running when the worker dies
        os.kill(_worker_pids(pool)[0], signal.SIGKILL)
        images = await asyncio.gather(*renders)
        assert {decode(b).size for b in images} == {(1200, 630)}
        assert pool.rebuilds == 1


async def test_health_and_ping_for_the_readiness_probe():
    async with RenderPool(1) as pool:
        assert pool.healthy and await pool.ping()
        os.kill(_worker_pids(pool)[0], signal.SIGKILL)
        await _until(lambda: not pool.healthy)  # the executor notices the death by itself
        assert await pool.ping(), "ping rebuilds the pool"
        assert pool.healthy and pool.rebuilds == 1
    assert not pool.healthy and not await pool.ping()


async def test_a_render_that_kills_its_worker_every_time_is_a_render_error():
    async with RenderPool(1) as pool:
        with pytest.raises(RenderError, match="worker died"):
            await pool._run(os._exit, 3)  # stands in for a spec that segfaults Pillow
        assert pool.rebuilds == 2  # retried once, then left with a fresh pool
        assert decode(await pool.render(STANDARD)).size == (1200, 630)


@pytest.mark.parametrize("processes", [1, 0])
async def test_a_slow_render_times_out(processes):
    async with RenderPool(processes, timeout=0.2) as pool:
        started = time.monotonic()
        with pytest.raises(RenderError, match=r"timed out after 0\.2 s"):
            await pool._run(time.sleep, 1.5)
        assert time.monotonic() - started < 1.2  # did not wait for the render


async def test_a_hung_render_is_killed_and_the_pool_serves_again():
    """A render stuck past its timeout (a hostile font's parser looping, say) would hold its
    process for ever: the process is killed and the pool rebuilt."""
    async with RenderPool(1) as pool:
        (pid,) = _worker_pids(pool) or [None]
        if pid is None:  # not started yet
            await pool.render(STANDARD)
            (pid,) = _worker_pids(pool)
        with pytest.raises(RenderError, match="timed out"):
            await pool._run(time.sleep, 60, seconds=1.0)
        await _until(lambda: not _alive(pid))
        t0 = time.monotonic()
        assert decode(await pool.render(STANDARD)).size == (1200, 630)
        assert time.monotonic() - t0 < 10 and pool.rebuilds == 1


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (killed, not yet reaped) is gone for our purpose
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except OSError:
        return False


async def test_a_font_check_that_hangs_is_killed_without_the_paid_renders(monkeypatch):
    """An uploaded font's check has its own process: killed on timeout, it takes no paid
    render's process with it, and a render in flight meanwhile finishes at its first try."""
    monkeypatch.setattr(pool_module, "FONT_CHECK_SECONDS", 0.01)
    font = SERIF.read_bytes()  # noqa: ASYNC240 - a local file, once
    async with RenderPool(1) as pool:
        await pool.warm_up()
        pids = _worker_pids(pool)
        render = asyncio.ensure_future(pool.render(STANDARD))
        with pytest.raises(RenderError, match="timed out"):
            await pool.inspect_font(font)
        assert decode(await render).size == (1200, 630)
        assert _worker_pids(pool) == pids and all(map(_alive, pids)) and pool.rebuilds == 1
        monkeypatch.setattr(pool_module, "FONT_CHECK_SECONDS", 30.0)
        assert (await pool.inspect_font(font))[0] == "ok"  # the lane serves again


async def test_font_checks_waiting_for_their_turn_do_not_time_out(monkeypatch):
    """Checks are handed to the font process one at a time: four at once each get the whole
    time limit for themselves (queued in the executor, the last would time out and kill the
    process running another account's check)."""
    font = SERIF.read_bytes()  # noqa: ASYNC240 - a local file, once
    async with RenderPool(1) as pool:
        await pool.inspect_font(font)  # the process started
        started = time.monotonic()
        assert (await pool.inspect_font(font))[0] == "ok"
        monkeypatch.setattr(pool_module, "FONT_CHECK_SECONDS", 2 * (time.monotonic() - started))
        results = await asyncio.gather(*(pool.inspect_font(font) for _ in range(4)))
        assert [r[0] for r in results] == ["ok"] * 4 and pool.rebuilds == 0
