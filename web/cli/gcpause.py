"""The garbage collector of a long-running worker (docs/operations.md, "Garbage collection").

CPython's full collection (generation 2) walks every tracked object with the event loop
stopped. In a worker, ~130k of them are made at start-up (modules, the ORM's and the GraphQL
schema's metadata, fonts) and live for good: under load a full collection took ~50 ms every
few seconds, and every request in flight waited for it. `freeze_startup_heap`, run once the
app has started, moves those objects out of the collector's sight (`gc.freeze`): a full
collection then walks only what requests made since (~3 ms). Every pause is recorded
(`ogapi_gc_pause_seconds`), so a regression shows on /metrics.
"""

from __future__ import annotations

import gc
import time
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from web.appkeys import metrics_key


async def freeze_startup_heap(app: web.Application) -> None:
    """The last start-up step of a served worker (web.app.gunicorn_app). Not for apps built
    in tests: a frozen object is never collected, and a test process builds hundreds of apps."""
    gc.collect()
    gc.freeze()


async def gc_pauses_ctx(app: web.Application) -> AsyncIterator[None]:
    """Time each collection while the app runs. The callback only queues the pause
    (`Metrics.gc_pauses`: a deque append takes no lock, and the collector does not run again
    while its callbacks do); the event loop records it at the next sample or scrape."""
    queue = app[metrics_key].gc_pauses
    started = [0.0]

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            queue.append((info["generation"], time.perf_counter() - started[0]))

    gc.callbacks.append(on_gc)
    yield
    gc.callbacks.remove(on_gc)
