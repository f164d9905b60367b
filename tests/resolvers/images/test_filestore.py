"""IMAGE_STORE=file://…: a miss (every uncached render) is answered on the loop, without a
thread; an object that is there is read in a thread; a store that cannot be read is a miss
with a metric, never an error (resolvers/images/store.py `FileStore`, store_tier.py)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from resolvers.images.cache import CachedImage
from resolvers.images.store import FileStore
from resolvers.images.store_tier import StoreTier

KEY = "a7:" + "cd" * 32


class CountingExecutor(ThreadPoolExecutor):
    """The loop's default executor (what `asyncio.to_thread` uses), counting the calls."""

    def __init__(self) -> None:
        super().__init__(max_workers=1)
        self.calls = 0

    def submit(self, fn, /, *args, **kwargs):
        self.calls += 1
        return super().submit(fn, *args, **kwargs)


@pytest.fixture
async def executor():
    pool = CountingExecutor()
    asyncio.get_running_loop().set_default_executor(pool)
    yield pool
    pool.shutdown()


async def test_a_miss_is_answered_without_a_thread_and_a_hit_is_read_in_one(tmp_path, executor):
    tier = StoreTier(FileStore(tmp_path))
    assert await tier.get(KEY, 1e9) is None
    assert executor.calls == 0  # not there: known on the loop
    assert (tier.stats.misses, tier.stats.errors) == (1, 0)

    image = CachedImage(b"\x89PNG image", "image/png", '"e1"', 9.5)
    await tier.put(KEY, image)
    assert executor.calls == 1  # the write
    got = await tier.get(KEY, 1e9)
    assert executor.calls == 2  # the read of an object that is there: in a thread, as before
    assert got is not None and (got.body, got.etag) == (image.body, image.etag)
    assert (tier.stats.hits, tier.stats.misses, tier.stats.errors) == (1, 1, 0)


async def test_a_store_that_cannot_be_read_is_a_miss_and_an_error(tmp_path, executor):
    blocked = tmp_path / "not-a-directory"
    blocked.write_bytes(b"a file where the store's directory should be")
    tier = StoreTier(FileStore(blocked))
    assert await tier.get(KEY, 1e9) is None  # never raises
    assert (tier.stats.misses, tier.stats.errors) == (0, 1)  # counted as the outage it is
    assert executor.calls == 0
