"""RenderPool: renders off the event loop, in worker processes (or inline for tests)."""

from __future__ import annotations

import asyncio
import functools
import logging
import multiprocessing
import os
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor

from render.spec import CardSpec

log = logging.getLogger(__name__)


class RenderError(Exception):
    """A render failed (the message says why); callers answer GENERATION_FAILED."""


def _init_worker() -> None:
    from render import fonts

    fonts.preload()


def _render(spec: CardSpec) -> bytes:
    from render.card import render_card

    try:
        return render_card(spec)
    except Exception as exc:  # anything: it must cross the process boundary as a RenderError
        raise RenderError(f"{type(exc).__name__}: {exc}") from None


def _fallback(width: int, height: int, fmt: str) -> bytes:
    from render.card import render_fallback

    try:
        return render_fallback(width, height, fmt)
    except Exception as exc:
        raise RenderError(f"{type(exc).__name__}: {exc}") from None


class RenderPool:
    """`processes` workers (default: one per core); 0 renders in a single helper thread.

    Workers start with the "forkserver" method (no fork of a threaded asyncio process) and
    preload fonts. Use `async with RenderPool() as pool:` or call `close()`.
    """

    def __init__(self, processes: int | None = None, *, start_method: str = "forkserver"):
        n = (os.cpu_count() or 1) if processes is None else max(0, processes)
        self.processes = n
        self._executor: Executor
        if n == 0:
            self._executor = ThreadPoolExecutor(
                1, thread_name_prefix="render", initializer=_init_worker
            )
        else:
            if start_method not in multiprocessing.get_all_start_methods():
                start_method = "spawn"
            ctx = multiprocessing.get_context(start_method)
            if start_method == "forkserver":  # workers fork from a server with render imported
                ctx.set_forkserver_preload(["render.card"])
            self._executor = ProcessPoolExecutor(n, mp_context=ctx, initializer=_init_worker)

    async def _run(self, fn, *args) -> bytes:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, functools.partial(fn, *args))
        except RenderError:
            raise
        except Exception as exc:  # a dead worker (BrokenProcessPool), pickling, ...
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
        self._executor.shutdown(wait=True, cancel_futures=True)

    async def __aenter__(self) -> RenderPool:
        return self

    async def __aexit__(self, *exc) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self.close)
