"""POST /api/batch (docs/rest-api.md) over real HTTP: the ZIP and JSON answers, per-item
failures, exact metering (also with concurrent batches), idempotent replays, rate tokens and
bad shapes."""

from __future__ import annotations

import asyncio
import io
import json
import shutil
import time
import zipfile

import pytest

from tests.web.conftest import T0
from tests.web.imaging import CountingPool, client_with_pool, decode, used
from web.appkeys import image_service_key, settings_key
from web.routes.batch import wants_json

pytestmark = [pytest.mark.timeout(120), pytest.mark.both_stacks]
JSON = {"Accept": "application/json"}


def small(title: str, **extra) -> dict:
    return {"title": title, "width": 300, "height": 200, **extra}


async def post(api, user, items, headers=None, **kwargs):
    hdrs = {"X-API-Key": user.api_key, **(headers or {})}
    return await api.post("/api/batch", json={"items": items}, headers=hdrs, **kwargs)


def unzip(data: bytes) -> tuple[dict[str, bytes], list[dict]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        files = {name: archive.read(name) for name in archive.namelist()}
    return files, json.loads(files.pop("manifest.json"))


async def test_zip_answer_holds_each_image_and_the_manifest(api, user_factory, pool):
    user = await user_factory()
    cut = {"title": "A caption far too long to fit on its card " * 4, "template": "caption"}
    items = [small("One"), small("Two", format="jpeg", width=400), {"subtitle": "no title"},
             small("One"), small("Three", format="webp"), cut]  # fmt: skip
    resp = await post(api, user, items)
    assert resp.status == 200, await resp.text()
    assert resp.headers["Content-Type"] == "application/zip"
    files, manifest = unzip(await resp.read())
    assert sorted(files) == ["001.png", "002.jpeg", "004.png", "005.webp", "006.png"]
    assert (
        decode(files["002.jpeg"]).size == (400, 200) and decode(files["002.jpeg"]).format == "JPEG"
    )
    assert decode(files["005.webp"]).format == "WEBP"
    assert files["001.png"] == files["004.png"]
    assert [m["status"] for m in manifest] == ["ok", "ok", "error", "ok", "ok", "ok"]
    assert manifest[2] == {"index": 3, "status": "error", "code": "MISSING_TITLE",
                           "message": "title is required", "file": None, "cache": None,
                           "warnings": None}  # fmt: skip
    assert manifest[5]["warnings"] == "title=truncated"  # as X-Render-Warnings says
    assert {k: v for k, v in manifest[0].items() if k != "cache"} == {
        "index": 1,
        "status": "ok",
        "code": None,
        "message": None,
        "file": "001.png",
        "warnings": "",
    }
    # Items 1 and 4 are the same card, drawn in parallel: whichever ran first rendered it
    # (counted once), the other was a hit.
    assert sorted([manifest[0]["cache"], manifest[3]["cache"]]) == ["HIT", "MISS"]
    assert pool.renders == 4 and await used(user.id, T0) == 4


async def test_json_answer_has_signed_urls_that_serve_hits(api, user_factory, pool):
    user = await user_factory()
    resp = await post(api, user, [small("Alpha"), small("Beta", theme="x")], JSON)
    assert resp.status == 200 and resp.headers["Content-Type"].startswith("application/json")
    assert resp.headers["X-Quota-Used"] == "1"
    results = (await resp.json())["results"]
    assert results[1] == {"index": 2, "status": "error", "code": "INVALID_THEME",
                          "message": results[1]["message"], "url": None, "cache": None,
                          "warnings": None}  # fmt: skip
    ok = results[0]
    assert ok["status"] == "ok" and ok["cache"] == "MISS" and "/api/signed/image?" in ok["url"]
    assert ok["warnings"] == ""
    assert "exp=" not in ok["url"]
    path = ok["url"].removeprefix("http://testserver")
    image = await api.get(path)  # no key
    assert image.status == 200 and image.headers["X-Cache"] == "HIT"
    assert decode(await image.read()).size == (300, 200)
    assert pool.renders == 1 and await used(user.id, T0) == 1


@pytest.mark.parametrize(
    ("accept", "json_wanted"),
    [("", False), ("*/*", False), ("application/zip", False), ("application/json", True),
     ("application/json, */*;q=0.1", True), ("application/zip, application/json;q=0.5", False),
     ("application/json;q=0", False), ("text/html", False)],
)  # fmt: skip
def test_accept(accept, json_wanted):
    assert wants_json(accept) is json_wanted


async def test_hits_are_free_and_failures_count_nothing(aiohttp_client, make_app, user_factory):
    pool = CountingPool(fail=True)
    failing = await client_with_pool(aiohttp_client, make_app, pool)
    user = await user_factory()
    resp = await post(failing, user, [small(f"f{i}") for i in range(3)], JSON)
    results = (await resp.json())["results"]
    assert {r["code"] for r in results} == {"GENERATION_FAILED"}
    assert await used(user.id, T0) == 0


async def test_cached_items_are_hits_and_free(api, user_factory, pool):
    user = await user_factory(custom_quota=2)
    key = {"X-API-Key": user.api_key}
    for title in ("a", "b"):
        assert (await api.post("/api/generate", json=small(title), headers=key)).status == 200
    resp = await post(api, user, [small("a"), small("c"), small("b")], JSON)
    results = (await resp.json())["results"]
    assert [(r["status"], r["cache"], r["code"]) for r in results] == [
        ("ok", "HIT", None), ("error", None, "QUOTA_EXCEEDED"), ("ok", "HIT", None)]  # fmt: skip
    assert results[1]["message"] == "Monthly quota exceeded. Limit: 2 images."
    assert pool.renders == 2 and await used(user.id, T0) == 2


async def test_exactly_the_remaining_quota_renders(api, user_factory, pool):
    user = await user_factory(custom_quota=5)
    resp = await post(api, user, [small(f"q{i}") for i in range(8)])
    _, manifest = unzip(await resp.read())
    assert [m["status"] for m in manifest].count("ok") == 5
    assert {m["code"] for m in manifest if m["status"] == "error"} == {"QUOTA_EXCEEDED"}
    assert pool.renders == 5 and await used(user.id, T0) == 5


async def test_concurrent_batches_and_requests_share_the_quota_exactly(aiohttp_client, make_app,
                                                                       user_factory):  # fmt: skip
    pool = CountingPool(delay=0.02)
    api = await client_with_pool(aiohttp_client, make_app, pool)
    user = await user_factory(custom_quota=13)
    batches = [post(api, user, [small(f"b{b}-{i}") for i in range(9)], JSON) for b in range(3)]
    singles = [api.post("/api/generate", json=small(f"s{i}"), headers={"X-API-Key": user.api_key})
               for i in range(4)]  # fmt: skip
    answers = await asyncio.gather(*batches, *singles)
    ok = 0
    for resp in answers[:3]:
        results = (await resp.json())["results"]
        ok += sum(r["status"] == "ok" for r in results)
        assert {r["code"] for r in results} <= {None, "QUOTA_EXCEEDED"}
    ok += sum(r.status == 200 for r in answers[3:])
    assert ok == 13 and pool.renders == 13 and await used(user.id, T0) == 13


async def test_idempotent_replay_counts_nothing_again(api, user_factory, pool):
    user = await user_factory()
    items = [small("i1"), small("i2", format="jpeg"), {"title": ""}]
    once = {"Idempotency-Key": "build-42"}
    first = await post(api, user, items, once)
    files, manifest = unzip(await first.read())
    again = await post(api, user, items, once)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert unzip(await again.read()) == (files, manifest)
    as_json = await post(api, user, items, {**once, **JSON})
    results = (await as_json.json())["results"]
    assert [(r["status"], r["cache"]) for r in results] == [("ok", "MISS"), ("ok", "MISS"),
                                                           ("error", None)]  # fmt: skip
    assert pool.renders == 2 and await used(user.id, T0) == 2
    # The caches dropped the images: the replay reads them from the image store.
    cache = api.app[image_service_key].cache
    cache.memory = type(cache.memory)(1 << 20)
    if cache.backend is not None:
        await cache.backend.clear()
    later = await post(api, user, items, once)
    assert unzip(await later.read()) == (files, manifest)
    assert pool.renders == 2 and await used(user.id, T0) == 2
    # The store lost them too: the replay draws them again, counting nothing.
    cache.memory = type(cache.memory)(1 << 20)
    if cache.backend is not None:
        await cache.backend.clear()
    shutil.rmtree(api.app[settings_key].image_store.removeprefix("file://"))
    latest = await post(api, user, items, once)
    assert unzip(await latest.read()) == (files, manifest)
    assert pool.renders == 4 and await used(user.id, T0) == 2
    conflict = await post(api, user, items[:2], once)
    assert conflict.status == 409 and (await conflict.json())["code"] == "IDEMPOTENCY_CONFLICT"
    other = await user_factory()  # keys are per account
    fresh = await post(api, other, items, {**once, **JSON})
    assert "Idempotent-Replayed" not in fresh.headers and await used(other.id, T0) == 2


async def test_one_rate_token_per_ten_items(api, user_factory):
    # The counts are exact only if the three requests fall within one token's refill (0.2 s at
    # 5 a second); a loaded machine can be slower, so a slow attempt is tried again afresh.
    for _attempt in range(10):
        user = await user_factory(plan="starter")  # 5 requests per second
        start = time.monotonic()
        first = await post(api, user, [{"subtitle": "x"}] * 21, JSON)  # 3 tokens, nothing drawn
        second = await post(api, user, [{"subtitle": "x"}] * 30, JSON)  # 3 more: over the burst
        refused = await post(api, user, [{"subtitle": "x"}], JSON)
        if time.monotonic() - start < 0.2:
            break
    assert first.status == 200 and first.headers["X-RateLimit-Remaining"] == "2"
    assert second.status == 200 and second.headers["X-RateLimit-Remaining"] == "0"
    assert refused.status == 429 and (await refused.json())["code"] == "RATE_LIMITED"
    assert int(refused.headers["Retry-After"]) >= 1


@pytest.mark.parametrize(
    "body",
    [{}, {"items": []}, {"items": "x"}, {"items": {"title": "a"}}, {"items": None},
     {"items": [{"title": "a"}] * 101}, {"items": [{"title": "a"}], "extra": 1}],
)  # fmt: skip
async def test_bad_shapes_are_400_naming_items(api, user_factory, body):
    user = await user_factory()
    resp = await api.post("/api/batch", json=body, headers={"X-API-Key": user.api_key})
    assert resp.status == 400
    answer = await resp.json()
    assert answer["code"] == "INVALID_PARAMETER" and "items" in answer["message"]


async def test_bad_items_fail_alone_and_bad_bodies_are_json_errors(api, user_factory, pool):
    user = await user_factory()
    items = ["x", 3, None, [], {"title": "ok"}, {"title": "a", "nope": 1}, {"title": "a" * 201}]
    results = (await (await post(api, user, items, JSON)).json())["results"]
    assert [r["code"] for r in results] == ["INVALID_PARAMETER"] * 4 + [
        None, "INVALID_PARAMETER", "TITLE_TOO_LONG"]  # fmt: skip
    assert "items[1]" in results[0]["message"]
    key = {"X-API-Key": user.api_key}
    resp = await api.post("/api/batch", data=b"{nope", headers=key)
    assert resp.status == 400 and (await resp.json())["code"] == "INVALID_JSON"
    resp = await api.post("/api/batch", json={"items": [small("a")]})
    assert resp.status == 401 and (await resp.json())["code"] == "MISSING_API_KEY"
    resp = await post(api, user, [small("a")], {"Idempotency-Key": "x" * 300})
    assert resp.status == 400 and (await resp.json())["code"] == "INVALID_PARAMETER"
    assert pool.renders == 1


def _bodies() -> list:
    from hypothesis import strategies as st

    from resolvers.images.params import PARAMS
    from tests.web.http.test_fuzz_http import _draw

    scalars = st.one_of(st.none(), st.booleans(), st.integers(-(10**20), 10**20),
                        st.floats(allow_nan=False), st.text(max_size=12))  # fmt: skip
    values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                          | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                          max_leaves=6)  # fmt: skip
    params = st.dictionaries(st.sampled_from(sorted(PARAMS)), values, max_size=4)
    items = st.lists(st.one_of(params, values), max_size=4)
    bodies = st.one_of(
        st.fixed_dictionaries({"items": items}),
        st.dictionaries(st.sampled_from(["items", "Items", "item", ""]), values, max_size=2),
        values,
    )
    return _draw(bodies, 40)


async def test_fuzzed_bodies_never_answer_500(api, user_factory, stack):
    if stack != "sqlite+memory":
        pytest.skip("the shapes are parsed before any store is touched: one stack is enough")
    user = await user_factory()
    for body in _bodies():
        for accept in ("application/json", "*/*"):
            headers = {"X-API-Key": user.api_key, "Accept": accept}
            resp = await api.post("/api/batch", data=json.dumps(body).encode(), headers=headers)
            payload = await resp.read()
            assert resp.status in (200, 400, 429), (body, resp.status, payload[:300])
            if resp.status != 200:
                codes = {"INVALID_PARAMETER", "INVALID_JSON", "RATE_LIMITED"}
                assert json.loads(payload)["code"] in codes
            elif accept == "*/*":
                unzip(payload)
