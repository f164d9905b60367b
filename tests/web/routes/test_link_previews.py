"""Who fetched your cards (docs/link-previews.md): signed-image fetches counted per account,
day and platform in memory, flushed every few seconds; GraphQL `linkPreviews`."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from models import CardFetch, CardFetchDay
from resolvers.insight import fetch_log
from tests.schema.conftest import GQL, codes
from tests.web.conftest import T0
from web.appkeys import fetch_log_key

pytestmark = [pytest.mark.timeout(60), pytest.mark.both_stacks]

FB = "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)"
X = "Twitterbot/1.0"
SLACK = "Slack-ImgProxy (+https://api.slack.com/robots)"
CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0"
QUERY = """query($days: Int, $first: Int) { linkPreviews(days: $days) {
  total platforms { platform fetches lastSeen } daily { date platform fetches }
  recent(first: $first) { at platform userAgent title status cacheHit } } }"""


async def signed_path(api, key: str, title: str) -> str:
    resp = await api.get("/api/signed/generate", params={"title": title},
                         headers={"X-API-Key": key})  # fmt: skip
    assert resp.status == 200, await resp.text()
    parts = urlsplit((await resp.json())["url"])
    return f"{parts.path}?{parts.query}"


async def fetch(api, path: str, ua: str, **headers) -> int:
    resp = await api.get(path, headers={"User-Agent": ua, **headers})
    await resp.read()
    return resp.status


async def previews(api, key: str, days: int = 30, first: int = 20) -> dict:
    body = await GQL(api).key(key, QUERY, {"days": days, "first": first})
    assert "errors" not in body, body
    return body["data"]["linkPreviews"]


async def test_fetches_counted_per_platform_off_the_request_path(api, user_factory):
    alice, bob = await user_factory(), await user_factory()
    path = await signed_path(api, alice.api_key, "Launch day")
    first = await api.get(path, headers={"User-Agent": FB})
    assert first.status == 200 and first.headers["X-Cache"] == "MISS"
    etag = first.headers["ETag"]
    assert await fetch(api, path, FB, **{"If-None-Match": etag}) == 304
    assert await fetch(api, path, X) == 200
    assert await fetch(api, path, X) == 200
    assert await fetch(api, path, SLACK) == 200
    assert await fetch(api, path, CHROME) == 200
    assert await fetch(api, path.replace("sig=", "sig=0"), FB) == 403  # refused: not counted
    # Nothing was written on the way: the counts are in the worker's memory.
    assert await CardFetchDay.all().count() == 0 and await CardFetch.all().count() == 0

    await api.app[fetch_log_key].flush()
    got = await previews(api, alice.api_key)
    assert got["total"] == 6
    assert got["platforms"] == [
        {"platform": "facebook", "fetches": 2, "lastSeen": "2026-05-10T12:00:00Z"},
        {"platform": "x", "fetches": 2, "lastSeen": "2026-05-10T12:00:00Z"},
        {"platform": "browser", "fetches": 1, "lastSeen": "2026-05-10T12:00:00Z"},
        {"platform": "slack", "fetches": 1, "lastSeen": "2026-05-10T12:00:00Z"},
    ]
    assert got["daily"] == [
        {"date": "2026-05-10", "platform": p, "fetches": n}
        for p, n in (("browser", 1), ("facebook", 2), ("slack", 1), ("x", 2))
    ]
    # One sample per card and platform this minute: the first of each.
    recent = {r["platform"]: r for r in got["recent"]}
    assert sorted(recent) == ["browser", "facebook", "slack", "x"]
    assert recent["facebook"] == {"at": "2026-05-10T12:00:00Z", "platform": "facebook",
                                  "userAgent": FB, "title": "Launch day", "status": 200,
                                  "cacheHit": False}  # fmt: skip
    assert recent["x"]["cacheHit"] is True and recent["x"]["status"] == 200

    # Own account only: Bob sees none of Alice's fetches, with his key or his session.
    assert await previews(api, bob.api_key) == {"total": 0, "platforms": [], "daily": [],
                                                 "recent": []}  # fmt: skip
    session = await GQL(api).data("{ linkPreviews { total } }")  # the client's session: Bob
    assert session == {"linkPreviews": {"total": 0}}


async def test_counts_show_within_five_seconds_without_asking(api, user_factory):
    """The app's own flusher writes the counts; nothing calls flush()."""
    alice = await user_factory()
    path = await signed_path(api, alice.api_key, "Soon")
    await asyncio.gather(*(fetch(api, path, FB) for _ in range(10)))
    sent = time.monotonic()
    while (await previews(api, alice.api_key))["total"] != 10:
        assert time.monotonic() - sent < 5.0, "counts not visible within 5 s"
        await asyncio.sleep(0.1)


async def test_samples_one_per_card_platform_and_minute_and_the_window(api, user_factory, clock):
    alice = await user_factory()
    launch = await signed_path(api, alice.api_key, "Launch")
    other = await signed_path(api, alice.api_key, "Other")
    for _ in range(3):
        await fetch(api, launch, FB)
    await fetch(api, other, FB)
    clock.set(T0 + timedelta(seconds=61))  # the next minute: a new sample
    await fetch(api, launch, FB)
    clock.set(T0 - timedelta(days=40))  # outside a 30-day window, inside a 60-day one
    await fetch(api, launch, "Mozilla/5.0 (compatible; bingbot/2.0)")
    clock.set(T0 + timedelta(seconds=61))
    await api.app[fetch_log_key].flush()

    got = await previews(api, alice.api_key)
    assert got["total"] == 5
    assert [(r["title"], r["at"]) for r in got["recent"]] == [
        ("Launch", "2026-05-10T12:01:01Z"), ("Other", "2026-05-10T12:00:00Z"),
        ("Launch", "2026-05-10T12:00:00Z"),
    ]  # fmt: skip
    assert [r["title"] for r in (await previews(api, alice.api_key, first=1))["recent"]] == [
        "Launch"
    ]
    wide = await previews(api, alice.api_key, days=60)
    assert wide["total"] == 6
    assert wide["daily"][0] == {"date": "2026-03-31", "platform": "bing", "fetches": 1}
    assert wide["platforms"][-1] == {"platform": "bing", "fetches": 1,
                                     "lastSeen": "2026-03-31T12:00:00Z"}  # fmt: skip
    assert len(wide["recent"]) == 4


async def test_each_account_keeps_its_newest_samples(api, user_factory, monkeypatch):
    """Trimmed to KEEP_RECENT once an account has written KEEP_RECENT / 2 samples since its
    last trim, however the writes fall into flushes (the app's own flusher runs too): never
    KEEP_RECENT * 1.5 rows or more, the newest ones."""
    monkeypatch.setattr(fetch_log, "KEEP_RECENT", 4)
    alice = await user_factory()
    for i in range(12):
        await fetch(api, await signed_path(api, alice.api_key, f"Card {i}"), FB)
    await api.app[fetch_log_key].flush()
    kept = await CardFetch.filter(account_id=alice.id).values_list("title", flat=True)
    assert 4 <= len(kept) <= 5
    assert set(kept) <= {f"Card {i}" for i in range(7, 12)}
    titles = [r["title"] for r in (await previews(api, alice.api_key))["recent"]]
    assert sorted(titles) == sorted(kept)


@pytest.mark.parametrize("days", [0, 367])
async def test_days_out_of_range(api, user_factory, days):
    alice = await user_factory()
    body = await GQL(api).key(alice.api_key, QUERY, {"days": days, "first": 20})
    assert codes(body) == ["INVALID_PARAMETER"]
