"""POST /api/share-check (docs/link-previews.md): every problem code against pages served on
loopback, each platform's own User-Agent, blocked URLs, and what a check costs."""

from __future__ import annotations

import pytest

from resolvers.fetch.fetcher import RemoteImageFetcher
from tests.web.share_pages import site
from web.appkeys import image_service_key

pytestmark = pytest.mark.timeout(60)
PLATFORMS = ["facebook", "x", "linkedin", "slack", "discord"]


@pytest.fixture
async def pages(aiohttp_server):
    server = await aiohttp_server(site())
    return f"http://127.0.0.1:{server.port}"


async def check(api, key: str, url) -> dict:
    resp = await api.post("/api/share-check", json={"url": url}, headers={"X-API-Key": key})
    assert resp.status == 200, await resp.text()
    assert resp.headers["Cache-Control"] == "no-store"
    return await resp.json()


def codes(body: dict) -> dict[str, list[str]]:
    return {p["platform"]: [q["code"] for q in p["problems"]] for p in body["platforms"]}


async def test_a_good_page(api, user_factory, pages):
    user = await user_factory()
    body = await check(api, user.api_key, f"{pages}/page/ok")
    assert codes(body) == {p: [] for p in PLATFORMS}
    assert [p["ok"] for p in body["platforms"]] == [True] * 5
    assert body["url"] == body["final_url"] == f"{pages}/page/ok"
    assert body["status"] == 200
    assert body["tags"]["og:title"] == "Launch day"
    assert body["tags"]["og:image"] == f"{pages}/img/card.png"
    assert body["tags"]["twitter:card"] == "summary_large_image"
    assert body["tags"]["title"] == "A page"
    assert body["image"] == {"url": f"{pages}/img/card.png", "status": 200,
                             "content_type": "image/png", "bytes": body["image"]["bytes"],
                             "width": 1200, "height": 630}  # fmt: skip
    assert 0 < body["image"]["bytes"] < 100_000
    assert body["platforms"][0]["title"] == "Launch day"
    assert body["platforms"][0]["image_url"] == f"{pages}/img/card.png"


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        ("bare", {"facebook": ["NO_OG_TITLE", "NO_OG_IMAGE"],
                  "x": ["NO_OG_TITLE", "NO_TWITTER_CARD", "NO_OG_IMAGE"],
                  "linkedin": ["NO_OG_TITLE", "NO_OG_IMAGE"],
                  "slack": ["NO_OG_TITLE", "NO_OG_IMAGE"],
                  "discord": ["NO_OG_TITLE", "NO_OG_IMAGE"]}),
        ("relative", {p: ["IMAGE_URL_RELATIVE"] for p in PLATFORMS}),
        ("no-dims", {"facebook": ["NO_IMAGE_DIMENSIONS"], **{p: [] for p in PLATFORMS[1:]}}),
        ("gone", {p: ["IMAGE_UNREACHABLE"] for p in PLATFORMS}),
        ("small", {"facebook": ["IMAGE_TOO_SMALL"], "x": ["IMAGE_TOO_SMALL"], "linkedin": [],
                   "slack": [], "discord": []}),
        ("narrow", {"facebook": [], "x": ["IMAGE_TOO_SMALL"], "linkedin": [], "slack": [],
                    "discord": []}),
        ("six", {"facebook": [], "x": ["IMAGE_TOO_LARGE"], "linkedin": ["IMAGE_TOO_LARGE"],
                 "slack": [], "discord": []}),
        ("nine", {"facebook": ["IMAGE_TOO_LARGE"], "x": ["IMAGE_TOO_LARGE"],
                  "linkedin": ["IMAGE_TOO_LARGE"], "slack": [], "discord": []}),
        ("svg", {p: ["IMAGE_TYPE"] for p in PLATFORMS}),
        ("fake", {p: ["IMAGE_TYPE"] for p in PLATFORMS}),
        ("bmp", {p: ["IMAGE_TYPE"] for p in PLATFORMS}),
    ],
)  # fmt: skip
async def test_problem_codes(api, user_factory, pages, page, expected):
    user = await user_factory()
    body = await check(api, user.api_key, f"{pages}/page/{page}")
    assert codes(body) == expected
    for platform in body["platforms"]:
        assert platform["ok"] is not platform["problems"]
        for problem in platform["problems"]:
            assert len(problem["message"]) > 40  # what happens, and the fix


async def test_problem_messages_name_the_fix(api, user_factory, pages):
    user = await user_factory()
    body = await check(api, user.api_key, f"{pages}/page/relative")
    message = body["platforms"][0]["problems"][0]["message"]
    assert "'/img/card.png'" in message and f"{pages}/img/card.png" in message
    nine = await check(api, user.api_key, f"{pages}/page/nine")
    message = nine["platforms"][0]["problems"][0]["message"]
    assert "Facebook takes at most 8.0 MB" in message
    assert nine["image"]["width"] == 1780 and nine["image"]["bytes"] > 9_000_000


async def test_an_image_past_the_read_limit(api, user_factory, pages):
    """12 MB: read up to 10 MB only, reported as more than that; too large everywhere."""
    user = await user_factory()
    body = await check(api, user.api_key, f"{pages}/page/twelve")
    assert codes(body)["facebook"] == ["IMAGE_TOO_LARGE"]
    assert "more than" in body["platforms"][0]["problems"][0]["message"]
    assert body["image"]["bytes"] >= 10 * 1024 * 1024
    assert (body["image"]["width"], body["image"]["height"]) == (2000, 2000)  # from the header


async def test_x_reads_its_own_tags_first(api, user_factory, pages):
    user = await user_factory()
    body = await check(api, user.api_key, f"{pages}/page/x-own")
    by = {p["platform"]: p for p in body["platforms"]}
    assert by["x"]["image_url"].endswith("/img/small.png") and by["x"]["title"] == "Tweet"
    assert [q["code"] for q in by["x"]["problems"]] == ["IMAGE_TOO_SMALL"]
    assert by["facebook"]["image_url"].endswith("/img/card.png")
    assert by["facebook"]["problems"] == []


async def test_each_platform_reads_with_its_own_user_agent(api, user_factory, pages):
    user = await user_factory()
    body = await check(api, user.api_key, f"{pages}/no-bots/ok")
    assert codes(body)["facebook"] == ["PAGE_UNREACHABLE"]
    assert "HTTP 403" in body["platforms"][0]["problems"][0]["message"]
    assert all(codes(body)[p] == [] for p in PLATFORMS[1:])
    assert body["status"] == 200 and body["tags"]["og:title"] == "Launch day"  # X's read


async def test_unreachable_pages(api, user_factory, pages, unused_tcp_port_factory):
    user = await user_factory()
    down = await check(api, user.api_key, f"http://127.0.0.1:{unused_tcp_port_factory()}/")
    assert codes(down) == {p: ["PAGE_UNREACHABLE"] for p in PLATFORMS}
    assert down["status"] is None and down["tags"] == {} and down["image"] is None
    missing = await check(api, user.api_key, f"{pages}/page/nope")
    assert codes(missing) == {p: ["PAGE_UNREACHABLE"] for p in PLATFORMS}
    assert missing["status"] == 404
    image = await check(api, user.api_key, f"{pages}/img/card.png")
    assert "not an HTML page" in image["platforms"][0]["problems"][0]["message"]


async def test_redirects_and_compression(api, user_factory, pages):
    user = await user_factory()
    body = await check(api, user.api_key, f"{pages}/moved?to=/gzipped")
    assert codes(body) == {p: [] for p in PLATFORMS}
    assert body["final_url"] == f"{pages}/gzipped" and body["tags"]["title"] == "Zipped"
    loop = await check(api, user.api_key, f"{pages}/moved")
    assert codes(loop) == {p: ["PAGE_UNREACHABLE"] for p in PLATFORMS}
    assert "redirects" in loop["platforms"][0]["problems"][0]["message"]


class _OnlyPort(RemoteImageFetcher):
    """The production rule (public addresses only), except for one loopback port that stands
    for a public site."""

    allowed_port = 0

    def _address_allowed(self, ip, port):
        return port == self.allowed_port or super()._address_allowed(ip, port)


@pytest.fixture
async def guarded(aiohttp_client, make_app, pages):
    """A client whose fetcher refuses private addresses (as in production), `pages` aside."""
    fetcher = _OnlyPort(allow_private=False, allow_http=True)
    fetcher.allowed_port = int(pages.rsplit(":", 1)[1])
    app = make_app(allow_private_fetch=False)
    app[image_service_key].fetcher = fetcher
    return await aiohttp_client(app)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/",
        "http://localhost/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://2130706433/",
        "http://10.0.0.1/",
        "ftp://example.com/",
        "not a url",
        "https://user:pw@example.com/",
        "",
        None,
        42,
    ],
)
async def test_blocked_and_malformed_urls(guarded, signup, url):
    user = await signup()
    resp = await guarded.post("/api/share-check", json={"url": url},
                              headers={"X-API-Key": user.api_key})  # fmt: skip
    assert resp.status == 400, await resp.text()
    body = await resp.json()
    assert body["code"] == "INVALID_PARAMETER" and body["message"].startswith("url ")


async def test_a_redirect_to_a_private_address_is_blocked(guarded, signup, pages):
    user = await signup(plan="publishing")
    ok = await guarded.post("/api/share-check", json={"url": f"{pages}/page/ok"},
                            headers={"X-API-Key": user.api_key})  # fmt: skip
    assert ok.status == 200  # the stand-in public site itself is fine
    inward = f"{pages}/moved?to=http://127.0.0.1:9/admin"
    resp = await guarded.post("/api/share-check", json={"url": inward},
                              headers={"X-API-Key": user.api_key})  # fmt: skip
    assert resp.status == 400 and (await resp.json())["code"] == "INVALID_PARAMETER"


async def test_https_only_in_production(aiohttp_client, make_app, signup, pages):
    user = await signup()
    production = await aiohttp_client(make_app(env="production"))
    resp = await production.post("/api/share-check", json={"url": f"{pages}/page/ok"},
                                 headers={"X-API-Key": user.api_key})  # fmt: skip
    assert resp.status == 400
    assert await resp.json() | {"request_id": ""} == {
        "error": True, "code": "INVALID_PARAMETER", "message": "url must be an https URL",
        "request_id": ""}  # fmt: skip


async def test_one_rate_limit_request_one_api_call_never_an_image(api, user_factory, pages):
    from datetime import UTC, datetime

    from models import DailyUsage
    from tests.web.imaging import used
    from web.appkeys import meter_key

    user = await user_factory(plan="free")  # 1 request a second
    first = await api.post("/api/share-check", json={"url": f"{pages}/page/ok"},
                           headers={"X-API-Key": user.api_key})  # fmt: skip
    assert first.status == 200 and first.headers["X-RateLimit-Limit"] == "1"
    again = await api.post("/api/share-check", json={"url": f"{pages}/page/ok"},
                           headers={"X-API-Key": user.api_key})  # fmt: skip
    assert again.status == 429 and (await again.json())["code"] == "RATE_LIMITED"
    assert "Retry-After" in again.headers
    await api.app[meter_key].flush()
    rows = await DailyUsage.filter(account_id=user.id).values("images", "api_calls")
    assert sum(r["api_calls"] for r in rows) == 2 and sum(r["images"] for r in rows) == 0
    assert await used(user.id, datetime.now(UTC)) == 0


async def test_with_the_dashboard_session(api, user_factory, pages, aiohttp_client, make_app):
    from web.appkeys import meter_key

    user = await user_factory()  # `api` now holds this account's session cookie
    resp = await api.post("/api/share-check", json={"url": f"{pages}/page/ok"})
    assert resp.status == 200, await resp.text()
    await api.app[meter_key].flush()
    from models import DailyUsage

    rows = await DailyUsage.filter(account_id=user.id).values("api_calls")
    assert sum(r["api_calls"] for r in rows) == 1  # an API call whoever asks
    cross = await api.post("/api/share-check", json={"url": f"{pages}/page/ok"},
                           headers={"Origin": "https://evil.example"})  # fmt: skip
    assert cross.status == 403
    form = await api.post("/api/share-check", data={"url": f"{pages}/page/ok"})
    assert form.status == 415
    stranger = await aiohttp_client(make_app())
    nobody = await stranger.post("/api/share-check", json={"url": f"{pages}/page/ok"})
    assert nobody.status == 401 and (await nobody.json())["code"] == "UNAUTHENTICATED"
