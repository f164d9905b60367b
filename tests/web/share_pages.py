"""Pages and images for the share-check tests, served by an aiohttp app on loopback."""

from __future__ import annotations

import functools
import gzip
import io

import numpy as np
from aiohttp import web
from PIL import Image

MB = 1024 * 1024


@functools.cache
def png(width: int, height: int, noise: bool = False) -> bytes:
    """A PNG; with `noise`, incompressible (about width * height * 3 bytes)."""
    if noise:
        pixels = np.random.default_rng(7).integers(0, 256, (height, width, 3), dtype=np.uint8)
        image = Image.fromarray(pixels, "RGB")
    else:
        image = Image.new("RGB", (width, height), (30, 90, 200))
    buf = io.BytesIO()
    image.save(buf, "PNG", compress_level=0 if noise else 6)
    return buf.getvalue()


def page(*tags: tuple[str, str], title: str = "A page") -> str:
    metas = "".join(
        f'<meta {"name" if n.startswith("twitter:") else "property"}="{n}" content="{v}">'
        for n, v in tags
    )
    return f"<!doctype html><html><head><title>{title}</title>{metas}</head><body>Hi</body></html>"


def good(image: str = "/img/card.png", *extra: tuple[str, str]) -> tuple[tuple[str, str], ...]:
    """Every tag the five platforms want, with the image at `image` (made absolute by the
    app: `{base}` is replaced)."""
    return (
        ("og:title", "Launch day"),
        ("og:description", "We shipped"),
        ("og:image", "{base}" + image),
        ("og:image:width", "1200"),
        ("og:image:height", "630"),
        ("twitter:card", "summary_large_image"),
        *extra,
    )


IMAGES = {
    "card.png": lambda: (png(1200, 630), "image/png"),
    "small.png": lambda: (png(100, 100), "image/png"),
    "narrow.png": lambda: (png(250, 250), "image/png"),
    "six.png": lambda: (png(1450, 1450, noise=True), "image/png"),  # ~6.0 MB
    "nine.png": lambda: (png(1780, 1780, noise=True), "image/png"),  # ~9.1 MB
    "twelve.png": lambda: (png(2000, 2000, noise=True), "image/png"),  # ~12 MB
    "card.svg": lambda: (
        b'<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="630"/>',
        "image/svg+xml",
    ),
    "fake.png": lambda: (b"not an image at all", "image/png"),
    "card.bmp": lambda: (_bmp(), "image/bmp"),
}


def _bmp() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (1200, 630)).save(buf, "BMP")
    return buf.getvalue()


PAGES = {
    "ok": good(),
    "bare": (),
    "relative": (
        ("og:title", "T"),
        ("og:image", "/img/card.png"),
        ("og:image:width", "1200"),
        ("og:image:height", "630"),
        ("twitter:card", "summary"),
    ),
    "no-dims": tuple(t for t in good() if not t[0].startswith("og:image:")),
    "gone": good("/img/gone.png"),
    "small": good("/img/small.png"),
    "narrow": good("/img/narrow.png"),
    "six": good("/img/six.png"),
    "nine": good("/img/nine.png"),
    "twelve": good("/img/twelve.png"),
    "svg": good("/img/card.svg"),
    "fake": good("/img/fake.png"),
    "bmp": good("/img/card.bmp"),
    "x-own": (
        ("og:title", "OG"),
        ("og:image", "{base}/img/card.png"),
        ("og:image:width", "1"),
        ("og:image:height", "1"),
        ("twitter:card", "summary_large_image"),
        ("twitter:image", "{base}/img/small.png"),
        ("twitter:title", "Tweet"),
    ),
}


def site() -> web.Application:
    """`/page/NAME` (PAGES), `/img/NAME` (IMAGES), and the odd cases."""

    def base(request: web.Request) -> str:
        return f"http://{request.host}"

    async def a_page(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in PAGES:
            raise web.HTTPNotFound()
        tags = [(n, v.replace("{base}", base(request))) for n, v in PAGES[name]]
        return web.Response(text=page(*tags), content_type="text/html")

    async def an_image(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in IMAGES:
            raise web.HTTPNotFound()
        body, content_type = IMAGES[name]()
        return web.Response(body=body, content_type=content_type)

    async def no_bots(request: web.Request) -> web.Response:
        if "facebookexternalhit" in request.headers.get("User-Agent", ""):
            raise web.HTTPForbidden(text="bots not welcome")
        return await a_page(request)

    async def gzipped(request: web.Request) -> web.Response:
        tags = [(n, v.replace("{base}", base(request))) for n, v in good()]
        body = gzip.compress(page(*tags, title="Zipped").encode())
        return web.Response(body=body, headers={"Content-Type": "text/html; charset=utf-8",
                                                "Content-Encoding": "gzip"})  # fmt: skip

    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPFound(request.query.get("to", "/moved"))  # no target: round and round

    app = web.Application()
    app.router.add_get("/page/{name}", a_page)
    app.router.add_get("/img/{name}", an_image)
    app.router.add_get("/no-bots/{name}", no_bots)
    app.router.add_get("/gzipped", gzipped)
    app.router.add_get("/moved", moved)
    return app
