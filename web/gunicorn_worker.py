"""aiohttp's gunicorn workers, handing the event loop gunicorn's real listening sockets.

aiohttp's worker passes gunicorn's socket wrappers (`gunicorn.sock.TCPSocket`) to
`loop.create_server(sock=…)`. At shutdown uvloop closes the listening descriptor itself, then
detaches the Python socket object it was given, but only when that object is a real
`socket.socket`; anything else it closes a second time. The wrapper's `close()` then fails on
the already-closed descriptor and gunicorn logs "Error while closing socket [Errno 9] Bad file
descriptor" on every shutdown of every worker. Unwrapping the sockets once the worker is
forked lets uvloop (and asyncio) own and close each descriptor exactly once.
"""

from __future__ import annotations

import socket
from typing import Any

from aiohttp.worker import GunicornUVLoopWebWorker, GunicornWebWorker


def _unwrap(worker: Any) -> None:
    """Each of gunicorn's wrappers replaced by the `socket.socket` it holds."""
    worker.sockets = [
        s.sock if isinstance(getattr(s, "sock", None), socket.socket) else s for s in worker.sockets
    ]


class WebWorker(GunicornWebWorker):
    """aiohttp's asyncio worker on the plain socket objects."""

    def init_process(self) -> None:
        _unwrap(self)
        super().init_process()


class UVLoopWebWorker(GunicornUVLoopWebWorker):
    """aiohttp's uvloop worker on the plain socket objects."""

    def init_process(self) -> None:
        _unwrap(self)
        super().init_process()
