"""What a process keeps in memory (resolvers/memo.py): concurrent misses share one load (and
the callers built on it: the image cache, the quota-header snapshot), and the two bounded-map
policies."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from models import PlanId
from resolvers.images.cache import CachedImage, ImageCache
from resolvers.images.memory_lru import MemoryLru
from resolvers.memo import BoundedMap, LruMap, SingleFlight
from resolvers.metering import quota
from resolvers.metering.quota_headers import QuotaSnapshot


class Loads:
    """A load that counts its runs and waits for `release` before it answers."""

    def __init__(self, result: object = "value", error: Exception | None = None) -> None:
        self.runs = 0
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.result, self.error = result, error

    async def __call__(self) -> object:
        self.runs += 1
        self.started.set()
        await self.release.wait()
        if self.error is not None:
            raise self.error
        return self.result


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_concurrent_misses_share_one_load():
    flights: SingleFlight[str, object] = SingleFlight()
    load = Loads()
    callers = [asyncio.create_task(flights.run("k", load)) for _ in range(10)]
    await load.started.wait()
    assert len(flights) == 1
    load.release.set()
    assert await asyncio.gather(*callers) == ["value"] * 10
    assert load.runs == 1 and len(flights) == 0


async def test_other_keys_load_on_their_own():
    flights: SingleFlight[str, object] = SingleFlight()
    a, b = Loads("a"), Loads("b")
    a.release.set()
    b.release.set()
    assert await asyncio.gather(flights.run("a", a), flights.run("b", b)) == ["a", "b"]
    assert (a.runs, b.runs) == (1, 1)


async def test_a_failed_load_wakes_every_waiter_with_its_error_and_the_next_call_retries():
    flights: SingleFlight[str, object] = SingleFlight()
    failing = Loads(error=ConnectionError("database down"))
    callers = [asyncio.create_task(flights.run("k", failing)) for _ in range(5)]
    await failing.started.wait()
    failing.release.set()
    results = await asyncio.gather(*callers, return_exceptions=True)
    assert [type(r) for r in results] == [ConnectionError] * 5
    assert failing.runs == 1 and len(flights) == 0
    retry = Loads("back")
    retry.release.set()
    assert await flights.run("k", retry) == "back"
    assert retry.runs == 1


async def test_a_cancelled_leader_leaves_no_follower_stranded():
    flights: SingleFlight[str, object] = SingleFlight()
    load = Loads()
    leader = asyncio.create_task(flights.run("k", load))
    await load.started.wait()
    followers = [asyncio.create_task(flights.run("k", load)) for _ in range(4)]
    await _settle()
    leader.cancel()
    await _settle()
    assert load.runs == 2  # one follower took the load over
    load.release.set()
    assert await asyncio.wait_for(asyncio.gather(*followers), 2) == ["value"] * 4
    assert leader.cancelled() and len(flights) == 0


async def test_a_cancelled_follower_leaves_the_load_running():
    flights: SingleFlight[str, object] = SingleFlight()
    load = Loads()
    leader = asyncio.create_task(flights.run("k", load))
    await load.started.wait()
    quitter = asyncio.create_task(flights.run("k", load))
    stayer = asyncio.create_task(flights.run("k", load))
    await _settle()
    quitter.cancel()
    await _settle()
    load.release.set()
    assert await asyncio.gather(leader, stayer) == ["value", "value"]
    assert quitter.cancelled() and load.runs == 1


async def test_a_failure_without_waiters_is_not_logged_as_unretrieved(caplog):
    flights: SingleFlight[str, object] = SingleFlight()
    failing = Loads(error=ValueError("bad"))
    failing.release.set()
    with pytest.raises(ValueError, match="bad"):
        await flights.run("k", failing)
    import gc

    gc.collect()
    await _settle()
    assert "never retrieved" not in caplog.text


# --- the image cache: the leader's failure is its own, its cancellation nobody's ----------


def _image(body: bytes = b"png") -> CachedImage:
    return CachedImage.of(body, "image/png")


async def test_image_cache_waiters_render_themselves_when_the_leader_fails():
    cache = ImageCache(None, 0)
    own_quota = Loads(error=ValueError("the leader's account is out of quota"))
    mine = Loads(_image())
    mine.release.set()
    leader = asyncio.create_task(cache.get_or_create("k", own_quota))
    await own_quota.started.wait()
    follower = asyncio.create_task(cache.get_or_create("k", mine))
    await _settle()
    own_quota.release.set()
    with pytest.raises(ValueError, match="out of quota"):
        await leader
    assert await follower == (_image(), False)  # rendered by the follower: not a hit
    assert mine.runs == 1


async def test_image_cache_waiters_outlive_a_cancelled_leader():
    cache = ImageCache(None, 0)
    gone = Loads(_image())
    leader = asyncio.create_task(cache.get_or_create("k", gone))
    await gone.started.wait()
    waiters = [Loads(_image()) for _ in range(3)]
    tasks = [asyncio.create_task(cache.get_or_create("k", w)) for w in waiters]
    await _settle()
    leader.cancel()
    await _settle()
    for w in waiters:
        w.release.set()
    results = await asyncio.wait_for(asyncio.gather(*tasks), 2)
    assert sorted(hit for _, hit in results) == [False, True, True]  # one rendered, two waited
    assert sum(w.runs for w in waiters) == 1
    assert cache.peek("k") == _image()


# --- the quota-header snapshot: one read of `used` for concurrent requests -----------------


async def test_quota_headers_of_concurrent_requests_share_one_read(monkeypatch):
    reads = Loads(7)
    monkeypatch.setattr(quota, "used_in_month", lambda account_id, month: reads())
    snapshot = QuotaSnapshot()
    owner = SimpleNamespace(id=1, plan=PlanId.FREE, custom_quota=100)
    now = datetime(2026, 3, 1, tzinfo=UTC)
    asks = [asyncio.create_task(snapshot.usage(owner, now)) for _ in range(5)]
    await reads.started.wait()
    reads.release.set()
    answers = await asyncio.gather(*asks)
    assert set(answers) == {(100, 7)} and reads.runs == 1
    assert await snapshot.usage(owner, now) == (100, 7)
    assert reads.runs == 1  # the snapshot answers now


# --- bounded maps --------------------------------------------------------------------------


def test_bounded_map_drops_the_oldest_insertion_and_reads_reorder_nothing():
    m: BoundedMap[str, int] = BoundedMap(3)
    for i, k in enumerate("abc"):
        m.put(k, i)
    assert m.get("a") == 0 and "a" in m and m["a"] == 0  # reads: no reordering
    m.put("b", 10)  # a key already there keeps its place
    m.put("d", 3)
    assert list(m.items()) == [("b", 10), ("c", 2), ("d", 3)]
    m.put("e", 4)
    assert list(m) == ["c", "d", "e"] and len(m) == 3


def test_lru_map_drops_the_least_recently_used():
    m: LruMap[str, int] = LruMap(max_entries=3)
    for i, k in enumerate("abc"):
        m.put(k, i)
    assert m.get("a") == 0  # a use: "b" is now the least recently used
    assert m.peek("b") == 1  # not a use
    m.put("d", 3)
    assert [m.get(k) for k in "abcd"] == [0, None, 2, 3]
    assert m.get("b", -1) == -1 and m.peek("b", -1) == -1


def test_lru_map_bounded_by_bytes():
    m: LruMap[str, bytes] = LruMap(max_bytes=10, cost=lambda _k, v: len(v))
    m.put("a", b"1234")
    m.put("b", b"5678")
    assert m.size == 8
    m.get("a")
    m.put("c", b"90")  # exactly the budget
    assert (len(m), m.size) == (3, 10)
    m.put("d", b"x")  # past it: "b" (least recently used) goes
    assert m.get("b") is None and m.size == 7 and len(m) == 3
    m.put("a", b"12345678901")  # larger than the whole budget: not kept, the old value gone
    assert m.get("a") is None and m.size == 3
    m.clear()
    assert (len(m), m.size) == (0, 0)


async def test_lru_map_entries_put_with_a_ttl_expire():
    m: LruMap[str, str] = LruMap(max_entries=10)
    m.put("brief", "x", ttl=0.05)
    m.put("kept", "y")
    assert m.get("brief") == "x" and m.peek("brief") == "x"
    await asyncio.sleep(0.08)
    assert m.peek("brief") is None and m.get("brief") is None and len(m) == 1
    assert m.get("kept") == "y"


def test_the_image_memory_tier_prices_an_image_by_its_body_and_key():
    tier = MemoryLru(2 * (1000 + 3 + 200))
    tier.put("k:1", _image(b"x" * 1000))
    tier.put("k:2", _image(b"y" * 1000))
    assert tier.size == 2 * 1203 and len(tier) == 2
    tier.put("k:3", _image(b"z" * 1000))
    assert tier.get("k:1") is None and len(tier) == 2
