"""aiohttp's gunicorn workers, handing the event loop gunicorn's real listening sockets.

aiohttp's worker passes gunicorn's socket wrappers (`gunicorn.sock.TCPSocket`) to
`loop.create_server(sock=…)`. At shutdown uvloop closes the listening descriptor itself, then
detaches the Python socket object it was given, but only when that object is a real
`socket.socket`; anything else it closes a second time. The wrapper's `close()` then fails on
the already-closed descriptor and gunicorn logs "Error while closing socket [Errno 9] Bad file
descriptor" on every shutdown of every worker. Unwrapping the sockets once the worker is
forked lets uvloop (and asyncio) own and close each descriptor exactly once.

A worker also stops promptly while it boots (`StopsWhileBooting`). aiohttp's worker hears
signals through its event loop, which does not run while the app module is imported (uvloop
even drops a signal that arrives then), and it finishes the whole start-up before looking: a
SIGTERM during boot waited for gunicorn's 20 s graceful timeout and a SIGKILL. Now, until the
loop runs, a stop ends the worker at once (nothing is open yet); once it runs, a stop cancels
the start-up and closes what it had opened (the app's cleanup contexts).
"""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
from typing import Any

from aiohttp import web
from aiohttp.worker import GunicornUVLoopWebWorker, GunicornWebWorker


def _unwrap(worker: Any) -> None:
    """Each of gunicorn's wrappers replaced by the `socket.socket` it holds."""
    worker.sockets = [
        s.sock if isinstance(getattr(s, "sock", None), socket.socket) else s for s in worker.sockets
    ]


def _exit_now(sig: int, frame: Any) -> None:
    sys.exit(0)


class StopsWhileBooting(GunicornWebWorker):
    """aiohttp's worker, stopped by SIGTERM, SIGINT or SIGQUIT at any point of its boot."""

    _boot_app: web.Application | None = None

    def init_signals(self) -> None:
        """Before the event loop runs: the worker's own handlers, a stop exits at once. The
        loop's handlers are installed by `_run`, once it runs."""
        for sig in self.SIGNALS:
            signal.signal(sig, signal.SIG_DFL)  # not the arbiter's (inherited by the fork)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT):
            signal.signal(sig, _exit_now)
        signal.signal(signal.SIGUSR1, self.handle_usr1)

    def load_wsgi(self) -> None:
        super().load_wsgi()
        factory = self.wsgi  # type: ignore[has-type]  # set by gunicorn's load_wsgi

        async def build() -> web.Application:  # keeps the app for a stop during start-up
            self._boot_app = await factory()
            return self._boot_app

        self.wsgi = build

    async def _run(self) -> None:
        super().init_signals()  # the event loop's handlers, now that it runs
        try:
            await super()._run()
        except asyncio.CancelledError:
            if self.booted:
                raise
            if self._boot_app is not None:
                await self._boot_app.cleanup()  # what the start-up had opened
            self.log.info("Worker stopped while booting")

    def _stop_boot(self) -> None:
        if not self.booted and self._task is not None:
            self._task.cancel()

    def handle_exit(self, sig: int, frame: Any) -> None:
        super().handle_exit(sig, frame)
        self._stop_boot()

    def handle_quit(self, sig: int, frame: Any) -> None:
        super().handle_quit(sig, frame)
        self._stop_boot()


class WebWorker(StopsWhileBooting):
    """aiohttp's asyncio worker on the plain socket objects."""

    def init_process(self) -> None:
        _unwrap(self)
        super().init_process()


class UVLoopWebWorker(StopsWhileBooting, GunicornUVLoopWebWorker):
    """aiohttp's uvloop worker on the plain socket objects."""

    def init_process(self) -> None:
        _unwrap(self)
        super().init_process()
