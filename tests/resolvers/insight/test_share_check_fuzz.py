"""The share check against hostile pages on loopback (docs/link-previews.md): malformed and
huge HTML, endless redirects, compression bombs, wrong and lying content types, hostile images.
Whatever a page does, the check answers (never an exception but the caller's INVALID_PARAMETER),
within a bounded time and memory.

Scenarios are drawn first (a bounded, derandomised Hypothesis run, as
tests/web/http/test_fuzz_http.py does), then served one by one after the known-hostile ones.
`OGAPI_FUZZ_EXAMPLES` (default 40) sets how many are drawn.
"""

from __future__ import annotations

import asyncio
import gzip
import os
import time
import tracemalloc
import zlib
from dataclasses import dataclass

import pytest
from aiohttp import web
from hypothesis import strategies as st

from resolvers.fetch.fetcher import RemoteImageFetcher
from resolvers.insight.share_check import share_check
from resolvers.insight.share_rules import MESSAGES, PLATFORMS
from tests.web.http.test_fuzz_http import _draw as draw
from tests.web.share_pages import png

EXAMPLES = int(os.environ.get("OGAPI_FUZZ_EXAMPLES", "40"))
pytestmark = pytest.mark.timeout(240 + 3 * EXAMPLES)
MB = 1024 * 1024
TIME_LIMIT = 12.0  # seconds: 5 s for the pages, 5 s for the images, and slack for a busy machine
MEMORY_LIMIT = 120 * MB  # Python allocations at the peak of one check


@dataclass(frozen=True)
class Scenario:
    status: int = 200
    content_type: str = "text/html"
    encoding: str = ""  # "", "gzip", "deflate", "br", "bomb", "corrupt"
    body: bytes = b""
    image: str = ""  # what /img serves: "", "bomb", "truncated", "huge", "text", "slow"
    slow: bool = False  # trickle the body, one byte a second


def _bomb(size: int) -> bytes:
    """`size` bytes of zeros, gzipped (about size / 1000 on the wire)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = b"\0" * MB
    return b"".join(packer.compress(chunk) for _ in range(size // MB)) + packer.flush()


def _metas(image: str = "/img") -> bytes:
    return (f'<meta property="og:title" content="T"><meta property="og:image" content="{image}">'
            '<meta name="twitter:card" content="summary">').encode()  # fmt: skip


KNOWN = [
    Scenario(body=b"<div>" * 400_000 + _metas()),  # 2 MB of open tags: the 1 MB cut
    Scenario(body=b"<" * 3 * MB),
    Scenario(body=b"\0\xff" * 300_000),
    Scenario(encoding="bomb", body=_bomb(1024 * MB)),  # 1 GB of zeros in 1 MB
    Scenario(encoding="corrupt", body=b"\x1f\x8b\x08\x00garbage"),
    Scenario(encoding="br", body=b"\x0b\x02\x80hello\x03"),
    Scenario(encoding="deflate", body=zlib.compress(_metas())),
    Scenario(encoding="deflate", body=zlib.compress(_metas())[2:-4]),  # raw deflate
    Scenario(status=302),  # endless redirects (to itself)
    Scenario(status=301, content_type=""),  # a redirect without a Location
    Scenario(content_type="image/png", body=png(10, 10)),
    Scenario(content_type="application/json", body=b'{"og:image": "x"}'),
    Scenario(content_type="text/html; charset=bogus-42", body=_metas()),
    Scenario(content_type="text/html; charset=utf-16", body=_metas().decode().encode("utf-16")),
    Scenario(body=b'<meta charset="shift_jis">' + "題名".encode("shift_jis") + _metas()),
    Scenario(body=_metas(), image="bomb"),
    Scenario(body=_metas(), image="truncated"),
    Scenario(body=_metas(), image="huge"),
    Scenario(body=_metas(), image="text"),
    Scenario(body=_metas("javascript:alert(1)")),
    Scenario(body=_metas("http://[::1/x")),
    Scenario(body=_metas("//" + "a" * 3000)),
    Scenario(
        body=b"".join(
            b'<meta property="og:x%d" content="%s">' % (i, b"v" * 5000) for i in range(150)
        )
    ),
    Scenario(slow=True, body=_metas()),
    Scenario(body=_metas(), image="slow"),
]

tags = st.sampled_from([b"<html>", b"<head>", b"</head>", b"<body>", b"<meta", b">", b"/>",
                        b'property="og:image"', b'name="twitter:card"', b'content="', b'"',
                        b"<title>", b"</title>", b"<!--", b"-->", b"<script>", b"</script>",
                        b"<![CDATA[", b"<svg>", b"&amp;", b"&#0;", b"\0", b"\xff\xfe", b" ",
                        b'content="/img"', b'content="https://127.0.0.1:1/"'])  # fmt: skip
scenarios = st.builds(
    Scenario,
    status=st.sampled_from([200, 200, 200, 203, 204, 206, 404, 410, 500, 503]),
    content_type=st.sampled_from(["text/html", "text/html; charset=utf-8", "application/xhtml+xml",
                                  "text/plain", "", "image/svg+xml", "text/html; charset=latin-1"]),
    encoding=st.sampled_from(["", "", "gzip", "deflate", "corrupt", "identity", "x-gzip"]),
    body=st.one_of(st.binary(max_size=3000),
                   st.lists(tags | st.binary(max_size=20), max_size=300).map(b"".join)),
    image=st.sampled_from(["", "", "text", "truncated"]),
)  # fmt: skip


def _encode(s: Scenario) -> tuple[bytes, str]:
    if s.encoding in ("gzip", "x-gzip"):
        return gzip.compress(s.body), s.encoding
    if s.encoding == "deflate" and not s.body.startswith(b"x"):
        return zlib.compress(s.body), "deflate"
    if s.encoding == "bomb":
        return s.body, "gzip"
    if s.encoding == "corrupt":
        return s.body, "gzip"
    return s.body, s.encoding


def hostile_site(state: dict) -> web.Application:
    async def page(request: web.Request) -> web.StreamResponse:
        s: Scenario = state["scenario"]
        if s.status in (301, 302):
            location = {} if s.content_type == "" else {"Location": "/"}
            return web.Response(status=s.status, headers=location)
        body, encoding = _encode(s)
        headers = {"Content-Type": s.content_type} if s.content_type else {}
        if encoding:
            headers["Content-Encoding"] = encoding
        response = web.StreamResponse(status=s.status, headers=headers)
        await response.prepare(request)
        if s.slow:
            for byte in body:
                await response.write(bytes([byte]))
                await asyncio.sleep(1)
        elif s.status not in (204,):
            await response.write(body)
        return response

    async def image(request: web.Request) -> web.StreamResponse:
        kind = state["scenario"].image
        if kind == "bomb":  # 20000 x 20000 in a few KB
            return web.Response(body=_bomb_png(), content_type="image/png")
        if kind == "truncated":
            return web.Response(body=png(1200, 630)[:200], content_type="image/png")
        if kind == "huge":  # endless: the 10 MB read limit stops it
            response = web.StreamResponse(headers={"Content-Type": "image/png"})
            await response.prepare(request)
            with_header = png(1200, 630)
            await response.write(with_header)
            for _ in range(40):
                await response.write(b"\0" * MB)
            return response
        if kind == "slow":
            await asyncio.sleep(30)
        if kind == "text":
            return web.Response(text="<html>not an image</html>", content_type="image/png")
        return web.Response(body=png(1200, 630), content_type="image/png")

    app = web.Application()
    app.router.add_get("/", page)
    app.router.add_get("/img", image)
    return app


def _bomb_png() -> bytes:
    from tests.resolvers.fetch.test_fetcher import _bomb_png as bomb

    return bomb(20_000, 20_000)


@pytest.fixture
async def fetcher():
    async with RemoteImageFetcher(allow_private=True, allow_http=True) as f:
        yield f


async def test_hostile_pages(aiohttp_server, fetcher):
    state: dict = {}
    server = await aiohttp_server(hostile_site(state))
    url = f"http://127.0.0.1:{server.port}/"
    slowest, heaviest = 0.0, 0
    for s in [*KNOWN, *draw(scenarios)]:
        state["scenario"] = s
        tracemalloc.start()
        started = time.monotonic()
        try:
            result = await share_check(url, fetcher, owner=1)
        finally:
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        took = time.monotonic() - started
        assert took < TIME_LIMIT, (s, took)
        assert peak < MEMORY_LIMIT, (s, peak)
        slowest, heaviest = max(slowest, took), max(heaviest, peak)
        assert [p["platform"] for p in result["platforms"]] == list(PLATFORMS)
        for verdict in result["platforms"]:
            assert verdict["ok"] is (verdict["problems"] == [])
            assert all(p["code"] in MESSAGES for p in verdict["problems"])
        assert isinstance(result["tags"], dict) and len(result["tags"]) <= 101
        assert all(len(v) <= 2000 for v in result["tags"].values())
    print(f"slowest check {slowest:.1f} s, peak Python memory {heaviest / MB:.0f} MB")
