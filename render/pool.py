"""RenderPool: renders off the event loop, in worker processes (or inline for tests).

What runs inside a worker is render/worker.py."""

from __future__ import annotations

import asyncio
import functools
import logging
import multiprocessing
import os
from concurrent.futures import BrokenExecutor, Executor, ProcessPoolExecutor, ThreadPoolExecutor
from multiprocessing.context import BaseContext
from typing import Any

from render.spec import CardSpec
from render.worker import RenderError, _fallback, _init_worker, _inspect_font, _ping, _render

log = logging.getLogger(__name__)

__all__ = ["RenderError", "RenderPool"]

DRAFT_NICE = 10  # the draft process's niceness above the render processes' (19 at most)
FONT_CHECK_SECONDS = 5.0  # an uploaded font's check (render/fontcheck.py) at most


class RenderPool:
    """`processes` workers (default: one per core); 0 renders in a single helper thread.
    `nice` lowers the render processes' CPU priority (the inline thread keeps its own).

    Drafts (the dashboard's previews, `render_draft`) never take a paid render's worker: they
    have one process of their own, started on the first draft, at DRAFT_NICE more niceness
    (when the cores are busy the scheduler serves paid renders first), and are handed to it
    one at a time (the others wait here, so a draft that times out waiting costs nothing).
    Inline (0 processes), drafts share the one thread, still one at a time: a paid render then
    waits behind at most one draft. Uploaded fonts are checked (`inspect_font`) in a third
    lane built the same way, so a check that hangs and is killed costs only its own process.

    Workers start with the "forkserver" method (no fork of a threaded asyncio process) and
    preload fonts. Use `async with RenderPool() as pool:` or call `close()`.

    A worker that dies (OOM kill, segfault) breaks a `ProcessPoolExecutor` for good: the pool
    then builds a new executor (once, however many renders saw the breakage) and retries each
    affected render once. A render taking longer than `timeout` seconds raises `RenderError`,
    and its process is killed (a hung worker would never take work again): the pool is rebuilt
    and the renders it was running are retried there. `healthy` and `ping()` serve readiness
    probes.
    """

    def __init__(
        self,
        processes: int | None = None,
        *,
        start_method: str = "forkserver",
        timeout: float = 30.0,
        nice: int = 0,
    ):
        n = (os.cpu_count() or 1) if processes is None else max(0, processes)
        self.processes = n
        self.timeout = timeout
        self.nice = nice  # added to the render processes' niceness (lower CPU priority)
        self.rebuilds = 0  # executors replaced after a worker died
        self._drafts = asyncio.Semaphore(1)
        self._font_checks = asyncio.Semaphore(1)  # handed to the font lane one at a time
        self._drafts_started = False
        self._background: set[asyncio.Task] = set()
        self._closed = False
        self._ctx: BaseContext | None = None
        if n > 0:
            if start_method not in multiprocessing.get_all_start_methods():
                start_method = "spawn"
            self._ctx = multiprocessing.get_context(start_method)
            if start_method == "forkserver":  # workers fork from a server with render imported
                self._ctx.set_forkserver_preload(["render.card"])
        self._executor: Executor = self._new_executor()
        self._draft_executor = self._new_executor(draft=True)
        self._font_executor = self._new_executor(draft=True)  # uploaded fonts' checks

    def _new_executor(self, draft: bool = False) -> Executor:
        """The paid renders' executor, or (`draft`) a one-process lane of lower priority."""
        if self._ctx is None:
            if draft:
                return self._executor  # inline: the one render thread
            return ThreadPoolExecutor(1, thread_name_prefix="render", initializer=_init_worker)
        n, nice = (1, min(19, self.nice + DRAFT_NICE)) if draft else (self.processes, self.nice)
        return ProcessPoolExecutor(
            n, mp_context=self._ctx, initializer=_init_worker, initargs=(os.getpid(), nice)
        )

    def _rebuild(self, broken: Executor) -> None:
        """Replace `broken` unless another render already did (synchronous: no await, so
        concurrent failures on one event loop cannot interleave here)."""
        lanes = {"render": self._executor, "draft": self._draft_executor}
        lanes["font"] = self._font_executor
        lane = next((name for name, executor in lanes.items() if executor is broken), None)
        if self._closed or lane is None:
            return
        log.warning("render pool: a %s process died; starting a new pool", lane)
        if lane == "draft":
            self._draft_executor = self._new_executor(draft=True)
        elif lane == "font":
            self._font_executor = self._new_executor(draft=True)
        else:
            self._executor = self._new_executor()
        self.rebuilds += 1
        broken.shutdown(wait=False, cancel_futures=True)

    def _kill(self, executor: Executor) -> None:
        """Kill the processes of `executor`, one of which is stuck, and start a new pool (the
        inline thread cannot be killed: it finishes in the background)."""
        processes = getattr(executor, "_processes", None) or {}  # ProcessPoolExecutor's
        if self._closed or not processes:
            return
        for process in list(processes.values()):
            process.kill()
        self._rebuild(executor)

    @property
    def healthy(self) -> bool:
        """False once closed, or while the executor is broken (the next render rebuilds it)."""
        return not self._closed and not getattr(self._executor, "_broken", False)

    async def ping(self, seconds: float = 5.0) -> bool:
        """True when a worker answers within `seconds` (rebuilding a broken pool first)."""
        if self._closed:
            return False
        try:
            return await self._run(_ping, seconds=seconds)
        except RenderError:
            return False

    def _lane(self, draft: bool | str) -> Executor:
        if draft == "font":
            return self._font_executor
        return self._draft_executor if draft else self._executor

    async def _run(self, fn, *args, seconds: float | None = None, draft: bool | str = False):
        call, seconds = functools.partial(fn, *args), seconds or self.timeout
        executor = self._lane(draft)
        try:
            return await self._submit(executor, call, seconds)
        except BrokenExecutor as exc:  # BrokenProcessPool: a worker died, maybe not ours
            if self._closed:
                raise RenderError(f"render worker died: {exc}") from exc
            self._rebuild(executor)
        executor = self._lane(draft)
        try:
            return await self._submit(executor, call, seconds)
        except BrokenExecutor as exc:  # again: most likely this render kills its worker
            self._rebuild(executor)  # leave a working pool for the next request
            raise RenderError(f"render worker died: {exc}") from exc

    async def _submit(self, executor: Executor, call, seconds: float):
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(seconds):
                return await loop.run_in_executor(executor, call)
        except (RenderError, BrokenExecutor):
            raise
        except TimeoutError:
            self._kill(executor)
            raise RenderError(f"render timed out after {seconds:g} s") from None
        except Exception as exc:  # pickling, a pool shut down, ...
            raise RenderError(f"{type(exc).__name__}: {exc}") from exc

    async def render(self, spec: CardSpec) -> bytes:
        return await self._run(_render, spec)

    async def render_warned(self, spec: CardSpec) -> tuple[bytes, str]:
        """(the image, its X-Render-Warnings value: "" when it is what was asked)."""
        return await self._run(_render, spec, False, "warned")

    async def report(self, spec: CardSpec) -> dict:
        """The render report of `spec` (drawn, not encoded: docs/templates.md)."""
        return await self._run(_render, spec, False, "report")

    async def inspect_font(self, data: bytes) -> tuple[str, Any, Any]:
        """An uploaded font checked (render/worker.py `_inspect_font`): ("ok", sfnt, info) or
        ("bad", why, None). RenderError when the check killed or hung its process. In its own
        one-process lane: a check killed on timeout never takes a paid render with it. Checks
        are handed to it one at a time, so waiting for a turn never counts against (and never
        kills) the check that holds it."""
        try:
            async with asyncio.timeout(self.timeout):
                await self._font_checks.acquire()
        except TimeoutError:
            raise RenderError(f"no turn for a font check within {self.timeout:g} s") from None
        try:
            return await self._run(_inspect_font, data, seconds=FONT_CHECK_SECONDS, draft="font")
        finally:
            self._font_checks.release()

    async def render_draft(self, spec: CardSpec) -> bytes:
        """The watermarked JPEG preview of `spec` (render/draft.py), in the drafts' lane."""
        try:
            async with asyncio.timeout(self.timeout):
                await self._drafts.acquire()
        except TimeoutError:
            raise RenderError(f"no turn for a draft within {self.timeout:g} s") from None
        try:
            return await self._run(_render, spec, True, draft=True)
        finally:
            self._drafts.release()

    def start_drafts(self) -> None:
        """Start the draft process now, in the background, if it is not running yet (the
        dashboard page asks, so its first preview does not wait for a process to start, and a
        server nobody previews on never starts one)."""
        if self._ctx is None or self._drafts_started or self._closed:
            return
        self._drafts_started = True
        task = asyncio.get_running_loop().create_task(self._run(_ping, draft=True))
        self._background.add(task)
        task.add_done_callback(self._started)

    def _started(self, task: asyncio.Task) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self._drafts_started = False  # the next page tries again

    async def render_fallback(
        self, width: int = 1200, height: int = 630, fmt: str = "png"
    ) -> bytes:
        return await self._run(_fallback, width, height, fmt)

    async def warm_up(self) -> None:
        """Start every worker now (instead of on the first requests)."""
        await asyncio.gather(
            *(self.render_fallback(200, 200) for _ in range(max(1, self.processes)))
        )

    def close(self) -> None:
        self._closed = True
        self._font_executor.shutdown(wait=True, cancel_futures=True)
        self._draft_executor.shutdown(wait=True, cancel_futures=True)
        self._executor.shutdown(wait=True, cancel_futures=True)

    def terminate(self) -> None:
        """Stop at once, waiting for nothing (the server stops while it is still starting): the
        render processes, perhaps still starting themselves, are killed."""
        self._closed = True
        for executor in (self._executor, self._font_executor):
            processes = getattr(executor, "_processes", None) or {}  # ProcessPoolExecutor's
            for process in list(processes.values()):
                process.terminate()
            executor.shutdown(wait=False, cancel_futures=True)

    async def __aenter__(self) -> RenderPool:
        return self

    async def __aexit__(self, *exc) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self.close)
