"""RenderPool: renders off the event loop, in worker processes (or inline for tests)."""

from __future__ import annotations

import asyncio
import ctypes
import functools
import logging
import multiprocessing
import os
from concurrent.futures import BrokenExecutor, Executor, ProcessPoolExecutor, ThreadPoolExecutor
from multiprocessing.context import BaseContext

from render.spec import CardSpec

log = logging.getLogger(__name__)


class RenderError(Exception):
    """A render failed (the message says why); callers answer GENERATION_FAILED."""


def _init_worker(owner: int | None = None, nice: int = 0) -> None:
    import signal
    import threading

    from render import fonts

    if threading.current_thread() is threading.main_thread():  # a render process
        # Ctrl-C reaches the whole process group: the server stops the pool itself (no
        # traceback from every render process).
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if owner is not None:
            threading.Thread(target=_exit_with, args=(owner,), daemon=True).start()
        if nice:
            # Renders are batch work; the web worker's event loop serves every other request.
            # When the cores are busy, the scheduler gives the loop the CPU first, so a burst
            # of renders slows renders, not usage reads and the dashboard (docs/operations.md).
            try:
                os.nice(nice)
            except OSError as exc:  # a sandbox that refuses it: render at the same priority
                log.warning("render process kept its priority (os.nice: %s)", exc)
    fonts.preload()


def _exit_with(owner: int) -> None:
    """End this render process once the web worker that owns the pool is gone. A worker that
    was SIGKILLed cannot stop its pool, and the forkserver's children hold its "alive" pipe
    open, so without this they (and the forkserver) would live on."""
    import time

    while True:
        time.sleep(1.0)
        try:
            os.kill(owner, 0)
        except ProcessLookupError:
            os._exit(0)
        except PermissionError:  # the pid was reused by someone else's process
            os._exit(0)


def _render(spec: CardSpec) -> bytes:
    from render.card import render_card

    try:
        return render_card(spec)
    except Exception as exc:  # anything: it must cross the process boundary as a RenderError
        raise RenderError(f"{type(exc).__name__}: {exc}") from None
    finally:
        if spec.width * spec.height >= TRIM_PIXELS:
            _trim_heap()


# After a large card, hand the freed heap back to the OS: glibc keeps it otherwise (its mmap
# threshold grows to 32 MB once large blocks are freed), and a worker that once drew 2400x2400
# cards would hold their peak for ever. A few ms after a render that took hundreds.
TRIM_PIXELS = 1_500_000


@functools.cache
def _libc_trim():
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc: nothing to do
        return None


def _trim_heap() -> None:
    trim = _libc_trim()
    if trim is not None:
        trim(0)


def _ping() -> bool:
    return True


def _fallback(width: int, height: int, fmt: str) -> bytes:
    from render.card import render_fallback

    try:
        return render_fallback(width, height, fmt)
    except Exception as exc:
        raise RenderError(f"{type(exc).__name__}: {exc}") from None


class RenderPool:
    """`processes` workers (default: one per core); 0 renders in a single helper thread.
    `nice` lowers the render processes' CPU priority (the inline thread keeps its own).

    Workers start with the "forkserver" method (no fork of a threaded asyncio process) and
    preload fonts. Use `async with RenderPool() as pool:` or call `close()`.

    A worker that dies (OOM kill, segfault) breaks a `ProcessPoolExecutor` for good: the pool
    then builds a new executor (once, however many renders saw the breakage) and retries each
    affected render once. A render taking longer than `timeout` seconds raises `RenderError`
    (its worker finishes it in the background). `healthy` and `ping()` serve readiness probes.
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
        self._closed = False
        self._ctx: BaseContext | None = None
        if n > 0:
            if start_method not in multiprocessing.get_all_start_methods():
                start_method = "spawn"
            self._ctx = multiprocessing.get_context(start_method)
            if start_method == "forkserver":  # workers fork from a server with render imported
                self._ctx.set_forkserver_preload(["render.card"])
        self._executor: Executor = self._new_executor()

    def _new_executor(self) -> Executor:
        if self._ctx is None:
            return ThreadPoolExecutor(1, thread_name_prefix="render", initializer=_init_worker)
        return ProcessPoolExecutor(self.processes, mp_context=self._ctx, initializer=_init_worker,
                                   initargs=(os.getpid(), self.nice))  # fmt: skip

    def _rebuild(self, broken: Executor) -> None:
        """Replace `broken` unless another render already did (synchronous: no await, so
        concurrent failures on one event loop cannot interleave here)."""
        if self._closed or self._executor is not broken:
            return
        log.warning("render pool: a worker died; starting a new pool of %d", self.processes)
        self._executor = self._new_executor()
        self.rebuilds += 1
        broken.shutdown(wait=False, cancel_futures=True)

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

    async def _run(self, fn, *args, seconds: float | None = None):
        call, seconds = functools.partial(fn, *args), seconds or self.timeout
        executor = self._executor
        try:
            return await self._submit(executor, call, seconds)
        except BrokenExecutor as exc:  # BrokenProcessPool: a worker died, maybe not ours
            if self._closed:
                raise RenderError(f"render worker died: {exc}") from exc
            self._rebuild(executor)
        executor = self._executor
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
            raise RenderError(f"render timed out after {seconds:g} s") from None
        except Exception as exc:  # pickling, a pool shut down, ...
            raise RenderError(f"{type(exc).__name__}: {exc}") from exc

    async def render(self, spec: CardSpec) -> bytes:
        return await self._run(_render, spec)

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
        self._executor.shutdown(wait=True, cancel_futures=True)

    def terminate(self) -> None:
        """Stop at once, waiting for nothing (the server stops while it is still starting): the
        render processes, perhaps still starting themselves, are killed."""
        self._closed = True
        processes = getattr(self._executor, "_processes", None) or {}  # ProcessPoolExecutor's
        for process in list(processes.values()):
            process.terminate()
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def __aenter__(self) -> RenderPool:
        return self

    async def __aexit__(self, *exc) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self.close)
