"""The SSRF-safe image fetcher against real sockets on 127.0.0.1 - and never anything else.

An autouse guard wraps the connector's socket opener: any attempt to connect anywhere but
127.0.0.1 is recorded and refused, so a blocked case is proven blocked *before* connecting.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import io
import ipaddress
import logging
import ssl
import struct
import threading
import time
import warnings
import zlib
from dataclasses import dataclass, field

import aiohappyeyeballs
import pytest
from aiohttp import web
from PIL import Image

from resolvers.errors import InvalidParameter
from resolvers.fetch import fetcher as fetcher_module
from resolvers.fetch import image_check
from resolvers.fetch.fetcher import RemoteImageFetcher, is_public_address, validate_image_url
from tests.services import self_signed


def _image(fmt: str, size: tuple[int, int] = (64, 48)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 40, 90)).save(buf, fmt)
    return buf.getvalue()


def _bomb_png(width: int, height: int) -> bytes:
    """A solid 1-bit PNG: a few KB on the wire, width*height pixels once decoded."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\0" * (1 + (width + 7) // 8)
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


PNG, JPEG = _image("PNG"), _image("JPEG")


@dataclass
class Canary:
    """A loopback server recording every request it receives."""

    port: int = 0
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    streamed: int = 0
    stream_done: asyncio.Event = field(default_factory=asyncio.Event)

    def paths(self) -> list[str]:
        return [path for path, _ in self.requests]


@functools.cache
def _payload(kind: str) -> tuple[bytes, str]:
    """The body the canary serves at /body/KIND, built once (bombs take a while to build)."""
    payloads = {
        "png": lambda: (PNG, "image/png"),
        "jpeg": lambda: (JPEG, "image/jpeg"),
        "html": lambda: (PNG, "text/html"),
        "svg": lambda: (b'<svg xmlns="http://www.w3.org/2000/svg"/>', "image/svg+xml"),
        "garbage": lambda: (b"definitely not an image", "image/png"),
        "bmp": lambda: (_image("BMP"), "image/png"),
        "bomb": lambda: (_bomb_png(20_000, 20_000), "image/png"),
        "big": lambda: (_bomb_png(8_000, 8_000), "image/png"),
        "warn": lambda: (_bomb_png(10_000, 10_000), "image/png"),
        "mp15": lambda: (_bomb_png(5_000, 3_000), "image/png"),  # under the 16 MP default
        "mp20": lambda: (_bomb_png(5_000, 4_000), "image/png"),  # over it (under the old 40 MP)
        "photo": lambda: (_image("JPEG", (4_000, 3_000)), "image/jpeg"),
    }
    return payloads[kind]()


def _canary_app(canary: Canary) -> web.Application:
    @web.middleware
    async def record(request: web.Request, handler):
        canary.requests.append((request.path_qs, dict(request.headers)))
        return await handler(request)

    async def body(request: web.Request) -> web.Response:
        data, content_type = _payload(request.match_info["kind"])
        return web.Response(body=data, content_type=content_type)

    async def hops(request: web.Request) -> web.Response:
        left = int(request.match_info["n"])
        if left == 0:
            return web.Response(body=PNG, content_type="image/png")
        raise web.HTTPFound(f"../hops/{left - 1}")  # relative Location

    async def redirect_to(request: web.Request) -> web.Response:
        raise web.HTTPFound(request.query["location"])

    async def slow(request: web.Request) -> web.Response:
        delay = float(request.query.get("delay", "30"))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(canary.stop.wait(), delay)
        return web.Response(body=PNG, content_type="image/png")

    async def stream(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "image/png"})
        response.enable_chunked_encoding()  # no Content-Length at all
        await response.prepare(request)
        try:
            while canary.streamed < 200_000_000:
                await response.write(b"\0" * 65_536)
                canary.streamed += 65_536
        except Exception:  # the client hung up: exactly what the test wants
            pass
        finally:
            canary.stream_done.set()
        return response

    app = web.Application(middlewares=[record])
    app.router.add_get("/body/{kind}", body)
    app.router.add_get("/hops/{n}", hops)
    app.router.add_get("/to", redirect_to)
    app.router.add_get("/slow", slow)
    app.router.add_get("/stream", stream)
    return app


async def _serve(aiohttp_server) -> Canary:
    canary = Canary()
    server = await aiohttp_server(_canary_app(canary), host="127.0.0.1")
    canary.port = server.port
    return canary


@pytest.fixture
async def canary(aiohttp_server):
    canary = await _serve(aiohttp_server)
    yield canary
    canary.stop.set()


@pytest.fixture
async def other_canary(aiohttp_server):
    canary = await _serve(aiohttp_server)
    yield canary
    canary.stop.set()


@pytest.fixture(autouse=True)
def connection_attempts(monkeypatch) -> list[str]:
    """Every address aiohttp tries to open a socket to; anything but 127.0.0.1 is refused."""
    attempts: list[str] = []
    real = aiohappyeyeballs.start_connection

    async def guarded(addr_infos, *args, **kwargs):
        addresses = [info[4][0] for info in addr_infos]
        attempts.extend(addresses)
        if any(address != "127.0.0.1" for address in addresses):
            raise OSError(f"test guard: refusing to connect to {addresses}")
        return await real(addr_infos, *args, **kwargs)

    monkeypatch.setattr(aiohappyeyeballs, "start_connection", guarded)
    return attempts


@pytest.fixture
def fake_dns(monkeypatch) -> dict[str, list[str]]:
    """Names tests point anywhere; `calls` counts lookups. Unknown names use the real DNS."""
    table: dict[str, list[str]] = {"calls": []}
    real = fetcher_module.lookup_addresses

    async def lookup(host: str, port: int) -> list[str]:
        table["calls"].append(host)
        return table[host] if host in table else await real(host, port)

    monkeypatch.setattr(fetcher_module, "lookup_addresses", lookup)
    return table


@pytest.fixture
async def open_fetcher():
    opened: list[RemoteImageFetcher] = []

    async def make(cls=RemoteImageFetcher, **kwargs) -> RemoteImageFetcher:
        kwargs.setdefault("allow_private", True)
        kwargs.setdefault("allow_http", True)
        fetcher = cls(**kwargs)
        await fetcher.start()
        opened.append(fetcher)
        return fetcher

    yield make
    for fetcher in opened:
        await fetcher.close()


# --- validate_image_url -------------------------------------------------------------------

BAD_URLS = [
    "",
    "not a url",
    "example.com/logo.png",
    "//example.com/logo.png",
    "ftp://example.com/logo.png",
    "file:///etc/passwd",
    "javascript:alert(1)",
    "data:image/png;base64,iVBORw0KGgo=",
    "gopher://example.com/",
    "https://",
    "https:///logo.png",
    "https://user:secret@example.com/logo.png",
    "https://user@example.com/logo.png",
    "https://@example.com/logo.png",
    "https://example.com:99999/logo.png",
    "https://exa mple.com/logo.png",
    "https://ex%00ample.com/logo.png",
    "https://-bad-.example.com/logo.png",
    "https://[::1/logo.png",
    "https://evil.example\\@good.example/logo.png",
    " https://example.com/logo.png",
    "https://example.com/lo\ngo.png",
    "https://example.com/" + "a" * 2100,
    "http://example.com/logo.png",  # http only in development
]


@pytest.mark.parametrize("url", BAD_URLS)
def test_validate_rejects_and_names_the_field(url: str) -> None:
    with pytest.raises(InvalidParameter) as caught:
        validate_image_url("logo_url", url, allow_http=False)
    assert caught.value.message.startswith("logo_url ")
    assert (caught.value.code, caught.value.status) == ("INVALID_PARAMETER", 400)


def test_validate_messages() -> None:
    with pytest.raises(InvalidParameter, match=r"^image_url must be an https URL$"):
        validate_image_url("image_url", "ftp://x.example/a.png", allow_http=False)
    with pytest.raises(InvalidParameter, match=r"^image_url must be an http or https URL$"):
        validate_image_url("image_url", "ftp://x.example/a.png", allow_http=True)
    with pytest.raises(InvalidParameter, match="user name or password"):
        validate_image_url("author_avatar_url", "https://a:b@x.example/", allow_http=False)
    with pytest.raises(InvalidParameter, match="at most 2048"):
        validate_image_url("logo_url", "https://x.example/" + "a" * 2048, allow_http=False)


def test_validate_http_only_in_development_and_normalises() -> None:
    assert validate_image_url("logo_url", "http://x.example/a.png", allow_http=True) == (
        "http://x.example/a.png"
    )
    assert (
        validate_image_url("logo_url", "HTTPS://CDN.Example.COM/a%20b.png#x", allow_http=False)
        == "https://cdn.example.com/a%20b.png"
    )
    idn = validate_image_url("logo_url", "https://bücher.example/ä.png", allow_http=False)
    assert idn == "https://xn--bcher-kva.example/%C3%A4.png"
    assert validate_image_url("logo_url", "https://[2606:4700::1]:8443/", allow_http=False)


# --- the address policy -------------------------------------------------------------------

NON_PUBLIC = [
    "127.0.0.1", "127.255.0.9", "0.0.0.0", "10.0.0.1", "172.16.0.1", "172.31.255.255",
    "192.168.1.1", "169.254.169.254", "100.64.0.1", "224.0.0.1", "239.255.255.250",
    "240.0.0.1", "255.255.255.255", "192.0.2.1", "198.18.0.1", "::", "::1", "fe80::1",
    "fc00::1", "fd12:3456::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
    "::127.0.0.1", "2002:7f00:1::", "2002:a00:1::1", "2001:0:4136:e378:8000:63bf:3fff:fdd2",
    "64:ff9b::a00:1", "2001:db8::1",
]  # fmt: skip
PUBLIC = ["8.8.8.8", "1.1.1.1", "151.101.1.69", "2606:4700:4700::1111", "::ffff:8.8.8.8"]


@pytest.mark.parametrize("address", NON_PUBLIC)
def test_non_public_addresses(address: str) -> None:
    assert not is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses(address: str) -> None:
    assert is_public_address(ipaddress.ip_address(address))


# --- SSRF: nothing reaches the canary, nothing connects anywhere ---------------------------

SSRF_URLS = [
    "http://127.0.0.1:{port}/body/png",
    "http://localhost:{port}/body/png",
    "http://localhost.:{port}/body/png",
    "http://127.1:{port}/body/png",
    "http://2130706433:{port}/body/png",
    "http://0x7f000001:{port}/body/png",
    "http://0x7f.1:{port}/body/png",
    "http://0177.0.0.1:{port}/body/png",
    "http://127.0.0.1.:{port}/body/png",
    "http://[::1]:{port}/body/png",
    "http://[::ffff:127.0.0.1]:{port}/body/png",
    "http://[::127.0.0.1]:{port}/body/png",
    "http://[2002:7f00:1::]:{port}/body/png",
    "http://0.0.0.0:{port}/body/png",
    "http://[::]:{port}/body/png",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/body/png",
    "http://192.168.0.1/body/png",
    "http://100.64.0.1/body/png",
    "http://[fd00::1]/body/png",
    "http://[fe80::1]/body/png",
    "http://images.invalid:{port}/body/png",  # fake_dns: a public-looking name → 127.0.0.1
    "http://images.invalid.:{port}/body/png",
    "http://mixed.invalid:{port}/body/png",  # one public and one private record
]


@pytest.mark.parametrize("template", SSRF_URLS)
async def test_ssrf_blocked_before_connecting(
    template, canary, fake_dns, open_fetcher, connection_attempts, caplog
):
    fake_dns["images.invalid"] = fake_dns["images.invalid."] = ["127.0.0.1"]
    fake_dns["mixed.invalid"] = ["93.184.216.34", "10.1.2.3"]
    fetcher = await open_fetcher(allow_private=False)
    with caplog.at_level(logging.INFO, logger="resolvers.fetch.fetcher"):
        assert await fetcher.fetch(template.format(port=canary.port)) is None
    assert canary.requests == []
    assert connection_attempts == []
    # Whether the real resolver answers `localhost.` depends on the machine; either way the
    # fetch must not get anywhere. Every other case must be refused by the address check.
    unresolved = "localhost." in template and "gaierror" in caplog.text
    assert "blocked" in caplog.text or unresolved


async def test_pinned_connection_uses_the_vetted_address_and_the_real_host(
    canary, fake_dns, open_fetcher, connection_attempts
):
    # `.invalid` never resolves: the fetch can only succeed through the pinned address,
    # and one lookup per hop means a rebinding answer has no second lookup to land in.
    fake_dns["images.invalid"] = ["127.0.0.1"]
    fetcher = await open_fetcher()
    assert await fetcher.fetch(f"http://images.invalid:{canary.port}/body/png") == PNG
    assert fake_dns["calls"] == ["images.invalid"]
    assert connection_attempts == ["127.0.0.1"]
    _, headers = canary.requests[0]
    assert headers["Host"] == f"images.invalid:{canary.port}"
    assert headers["User-Agent"] == "OGImageAPI/1.0 (+image fetcher)"
    fake_dns["cdn.invalid."] = ["127.0.0.1"]  # a fully qualified name keeps its pin
    assert await fetcher.fetch(f"http://cdn.invalid.:{canary.port}/body/jpeg") == JPEG


async def test_https_sends_the_hostname_as_sni_to_the_pinned_address(
    tmp_path, fake_dns, open_fetcher, connection_attempts
):
    server_names: list[str | None] = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*self_signed(tmp_path))
    context.sni_callback = lambda _sock, server_name, _ctx: server_names.append(server_name)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
    port = server.sockets[0].getsockname()[1]
    fake_dns["images.invalid"] = ["127.0.0.1"]
    fetcher = await open_fetcher(allow_http=False)
    try:
        # The certificate is untrusted, so the fetch fails - after the ClientHello went out.
        assert await fetcher.fetch(f"https://images.invalid:{port}/logo.png") is None
    finally:
        server.close()
        await server.wait_closed()
    assert server_names == ["images.invalid"]
    assert connection_attempts == ["127.0.0.1"]


# --- redirects ----------------------------------------------------------------------------


async def test_redirects_followed_up_to_the_limit(canary, open_fetcher):
    fetcher = await open_fetcher()
    base = f"http://127.0.0.1:{canary.port}"
    assert await fetcher.fetch(f"{base}/hops/1") == PNG
    assert await fetcher.fetch(f"{base}/hops/3") == PNG
    assert await fetcher.fetch(f"{base}/hops/4") is None
    assert canary.paths()[-4:] == ["/hops/4", "/hops/3", "/hops/2", "/hops/1"]


class _OnlyFirstCanary(RemoteImageFetcher):
    """Production policy, except loopback on one chosen port counts as public."""

    allowed_port = 0

    def _address_allowed(self, ip, port):
        return port == self.allowed_port or super()._address_allowed(ip, port)


@pytest.mark.parametrize(
    "location",
    [
        "http://127.0.0.1:{other}/body/png",
        "http://localhost.:{other}/body/png",
        "http://2130706433:{other}/body/png",
        "http://[::ffff:127.0.0.1]:{other}/body/png",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/body/png",
        "file:///etc/passwd",
        "gopher://127.0.0.1:{other}/",
    ],
)
async def test_redirect_to_a_blocked_target(
    location, canary, other_canary, open_fetcher, connection_attempts
):
    fetcher = await open_fetcher(_OnlyFirstCanary, allow_private=False)
    fetcher.allowed_port = canary.port
    start = f"http://127.0.0.1:{canary.port}/body/png"
    assert await fetcher.fetch(start) == PNG  # the allowed origin itself works
    target = location.format(other=other_canary.port)
    result = await fetcher.fetch(f"http://127.0.0.1:{canary.port}/to?location={target}")
    assert result is None
    assert other_canary.requests == []
    assert set(connection_attempts) == {"127.0.0.1"}  # only ever the allowed origin


async def test_https_only_redirect_downgrade_rejected(canary, open_fetcher):
    fetcher = await open_fetcher(_OnlyFirstCanary, allow_private=False, allow_http=False)
    fetcher.allowed_port = canary.port
    # The first hop is http, so validation already refuses it in production mode.
    assert await fetcher.fetch(f"http://127.0.0.1:{canary.port}/body/png") is None
    assert canary.requests == []


# --- timeouts and byte caps ---------------------------------------------------------------


async def test_slow_server_times_out(canary, open_fetcher):
    fetcher = await open_fetcher(timeout=0.5)
    started = time.monotonic()
    assert await fetcher.fetch(f"http://127.0.0.1:{canary.port}/slow") is None
    assert time.monotonic() - started < 1.5


async def test_chunked_body_without_length_is_cut_off(canary, open_fetcher):
    fetcher = await open_fetcher(max_bytes=1_000_000)
    started = time.monotonic()
    assert await fetcher.fetch(f"http://127.0.0.1:{canary.port}/stream") is None
    assert time.monotonic() - started < 3
    await asyncio.wait_for(canary.stream_done.wait(), 5)
    assert canary.streamed < 40_000_000  # of 200 MB: the client hung up early


@pytest.fixture
async def liar():
    """A raw HTTP server whose Content-Length lies; records how much it managed to send."""
    sent = {"bytes": 0}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await reader.readuntil(b"\r\n\r\n")
        declared = request.split(b" ")[1].decode().rsplit("/", 1)[1]
        writer.write(
            f"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: {declared}\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        try:
            writer.write(PNG)
            while sent["bytes"] < 200_000_000:
                writer.write(b"\0" * 65_536)
                await writer.drain()
                sent["bytes"] += 65_536
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield port, sent
    server.close()
    await server.wait_closed()


@pytest.mark.parametrize("declared", [100, 10_000_000_000])
async def test_lying_content_length(declared, liar, open_fetcher):
    port, sent = liar
    fetcher = await open_fetcher(max_bytes=1_000_000)
    started = time.monotonic()
    assert await fetcher.fetch(f"http://127.0.0.1:{port}/{declared}") is None
    assert time.monotonic() - started < 3
    await asyncio.sleep(0.2)
    assert sent["bytes"] < 40_000_000


# --- content checks -----------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["html", "svg", "garbage", "bmp", "bomb", "big"])
async def test_not_an_acceptable_image(kind, canary, open_fetcher):
    fetcher = await open_fetcher()
    assert await fetcher.fetch(f"http://127.0.0.1:{canary.port}/body/{kind}") is None


async def test_pillow_bomb_warning_is_an_error_even_with_a_generous_limit(
    canary, open_fetcher, caplog
):
    fetcher = await open_fetcher(max_pixels=10**12)
    assert len(_bomb_png(10_000, 10_000)) < 200_000
    # pytest turns warnings into errors; production does not. Ignore it out here so that only
    # the fetcher's own filter can turn Pillow's DecompressionBombWarning into a rejection.
    with warnings.catch_warnings(), caplog.at_level(logging.INFO, logger="resolvers.fetch.fetcher"):
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        assert await fetcher.fetch(f"http://127.0.0.1:{canary.port}/body/warn") is None
        assert await fetcher.fetch(f"http://127.0.0.1:{canary.port}/body/bomb") is None
    assert caplog.text.count("rejected: decompression bomb") == 2


async def test_default_pixel_cap_is_16_megapixels(canary, open_fetcher, caplog):
    fetcher = await open_fetcher()
    base = f"http://127.0.0.1:{canary.port}/body"
    assert await fetcher.fetch(f"{base}/mp15") is not None
    with caplog.at_level(logging.INFO, logger="resolvers.fetch.fetcher"):
        assert await fetcher.fetch(f"{base}/mp20") is None
    assert "5000x4000 exceeds 16000000 pixels" in caplog.text


@pytest.fixture
def decodes(monkeypatch) -> dict:
    """Wraps the fetcher's decode step: how many run at once, and each image's decoded size."""
    seen: dict = {"running": 0, "peak": 0, "sizes": []}
    lock = threading.Lock()
    real = image_check._decode

    def spy(image: Image.Image) -> None:
        with lock:
            seen["running"] += 1
            seen["peak"] = max(seen["peak"], seen["running"])
        try:
            time.sleep(0.05)
            real(image)
            seen["sizes"].append(image.size)
        finally:
            with lock:
                seen["running"] -= 1

    monkeypatch.setattr(image_check, "_decode", spy)
    return seen


async def test_concurrent_decodes_are_bounded(canary, open_fetcher, decodes):
    # A generous timeout: the decodes queue on purpose, and a loaded CI must not turn the queue
    # into placeholders (what is measured here is the peak, not the time).
    fetcher = await open_fetcher(timeout=60)
    urls = [f"http://127.0.0.1:{canary.port}/body/png?n={i}" for i in range(8)]
    assert await asyncio.gather(*(fetcher.fetch(url) for url in urls)) == [PNG] * 8
    assert decodes["peak"] == 2  # 8 downloads in flight, never more than 2 bitmaps
    decodes["peak"] = 0
    one = await open_fetcher(max_decodes=1, timeout=60)
    await asyncio.gather(*(one.fetch(url) for url in urls))
    assert decodes["peak"] == 1 and len(decodes["sizes"]) == 16


async def test_jpeg_is_checked_at_the_renderers_draft_scale(canary, open_fetcher, decodes):
    fetcher = await open_fetcher()
    assert await fetcher.fetch(f"http://127.0.0.1:{canary.port}/body/photo") is not None
    assert decodes["sizes"] == [(2_000, 1_500)]  # DCT-scaled by 1/2, not 12 MP decoded


@pytest.mark.parametrize(("kind", "expected"), [("png", PNG), ("jpeg", JPEG)])
async def test_valid_image_bytes_returned(kind, expected, canary, open_fetcher):
    fetcher = await open_fetcher()
    assert await fetcher.fetch(f"http://127.0.0.1:{canary.port}/body/{kind}") == expected


# --- cache and coalescing -----------------------------------------------------------------


async def test_cache_serves_repeats_and_failures(canary, open_fetcher):
    fetcher = await open_fetcher()
    good, bad = (f"http://127.0.0.1:{canary.port}/body/{k}" for k in ("png", "html"))
    assert await fetcher.fetch(good) == PNG
    assert await fetcher.fetch(good) == PNG
    assert await fetcher.fetch(bad) is None
    assert await fetcher.fetch(bad) is None
    assert canary.paths() == ["/body/png", "/body/html"]


async def test_cache_entries_expire(canary, open_fetcher):
    fetcher = await open_fetcher(success_ttl=0.05)
    url = f"http://127.0.0.1:{canary.port}/body/png"
    assert await fetcher.fetch(url) == PNG
    await asyncio.sleep(0.1)
    assert await fetcher.fetch(url) == PNG
    assert len(canary.requests) == 2


async def test_concurrent_fetches_share_one_request(canary, open_fetcher):
    fetcher = await open_fetcher()
    url = f"http://127.0.0.1:{canary.port}/slow?delay=0.2"
    results = await asyncio.gather(*(fetcher.fetch(url) for _ in range(10)))
    assert results == [PNG] * 10
    assert len(canary.requests) == 1


async def test_fetch_many(canary, open_fetcher):
    fetcher = await open_fetcher()
    base = f"http://127.0.0.1:{canary.port}/body"
    got = await fetcher.fetch_many(
        {"logo_url": f"{base}/png", "image_url": f"{base}/jpeg", "author_avatar_url": "nope"}
    )
    assert got == {"logo_url": PNG, "image_url": JPEG, "author_avatar_url": None}


async def test_context_manager_and_unstarted_use(canary):
    async with RemoteImageFetcher(allow_private=True, allow_http=True) as fetcher:
        assert await fetcher.fetch(f"http://127.0.0.1:{canary.port}/body/png") == PNG
    with pytest.raises(RuntimeError):
        await fetcher.fetch(f"http://127.0.0.1:{canary.port}/body/png")
