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
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from web.appkeys import metrics_key


async def freeze_startup_heap(app: web.Application) -> None:
    """The last start-up step of a served worker (web.app.gunicorn_app). Not for apps built
    in tests: a frozen object is never collected, and a test process builds hundreds of apps."""
    gc.collect()
    gc.freeze()


# Pauses measured by the callback, not yet in the histogram. The callback itself must not touch
# prometheus_client: in multiprocess mode every value shares one non-reentrant lock, and a
# collection can start while this thread holds it (creating a labelled child allocates), so an
# observe() from the callback would wait on its own thread forever. The event loop moves them
# into the histogram instead (`drain_pauses`, from every /metrics scrape and process sample).
_pending: deque[tuple[int, float]] = deque(maxlen=10_000)


def drain_pauses(app: web.Application) -> None:
    """Move the pauses timed so far into `ogapi_gc_pause_seconds` (on the event loop)."""
    histogram = app[metrics_key].gc_pause
    while _pending:
        generation, seconds = _pending.popleft()
        histogram.labels(str(generation)).observe(seconds)


async def gc_pauses_ctx(app: web.Application) -> AsyncIterator[None]:
    """Time each collection while the app runs (into `_pending`: a deque append takes no lock,
    and the collector does not run again while its callbacks do)."""
    started = [0.0]
    for generation in range(3):  # every series present from the start, zero until a pause
        app[metrics_key].gc_pause.labels(str(generation))

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            _pending.append((info["generation"], time.perf_counter() - started[0]))

    def drain() -> None:
        drain_pauses(app)

    app[metrics_key].before_sample.append(drain)
    gc.callbacks.append(on_gc)
    yield
    gc.callbacks.remove(on_gc)
    app[metrics_key].before_sample.remove(drain)
    drain()
