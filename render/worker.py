"""What runs inside a render process (render/pool.py starts them): its set-up, the render and
draft calls, and their errors, which cross the process boundary as RenderError."""

from __future__ import annotations

import ctypes
import functools
import logging
import os
from typing import Any

from render.spec import CardSpec

log = logging.getLogger("render.pool")


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


def _render(spec: CardSpec, draft: bool = False, how: str = "") -> Any:
    """The image bytes (a draft's with `draft`); how="warned": (bytes, its warnings);
    how="report": the render report alone (render/card.py)."""
    from render.card import render_card, render_report, render_warned
    from render.draft import render_draft

    try:
        if how:
            return render_warned(spec) if how == "warned" else render_report(spec)
        return render_draft(spec) if draft else render_card(spec)
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


def _inspect_font(data: bytes) -> tuple[str, Any, Any]:
    """("ok", sfnt, info) or ("bad", why, None): render/fontcheck.py, run in a render process
    so a font that crashes or hangs its parser costs that process only."""
    from render.fontcheck import FontProblem, inspect_font

    try:
        sfnt, info = inspect_font(data)
    except FontProblem as exc:
        return "bad", str(exc), None
    except Exception as exc:  # a parser bug on hostile input: refused all the same
        return "bad", f"the font could not be read: {type(exc).__name__}", None
    return "ok", sfnt, info


def _ping() -> bool:
    return True


def _fallback(width: int, height: int, fmt: str) -> bytes:
    from render.card import render_fallback

    try:
        return render_fallback(width, height, fmt)
    except Exception as exc:
        raise RenderError(f"{type(exc).__name__}: {exc}") from None
