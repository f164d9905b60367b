"""Helpers for the image API tests: a counting/failing render pool and account tweaks."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime

import numpy as np
from PIL import Image

from render.pool import RenderError, RenderPool
from render.spec import CardSpec
from resolvers.metering import quota
from tests.conftest import User, new_user
from tests.conftest import set_account as set_account  # tests import it from here too
from web.appkeys import image_service_key


class CountingPool:
    """Wraps an inline RenderPool: counts renders, can slow them down or make them fail."""

    def __init__(self, delay: float = 0.0, fail: bool = False) -> None:
        self.inner = RenderPool(0)
        self.processes = 0
        self.renders = 0
        self.fallbacks = 0
        self.reports = 0  # render reports (drawn, never counted as renders)
        self.delay, self.fail = delay, fail
        self.specs: list[CardSpec] = []

    async def _counted(self, spec: CardSpec) -> None:
        self.renders += 1
        self.specs.append(spec)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail:
            raise RenderError("boom")

    async def render(self, spec: CardSpec) -> bytes:
        await self._counted(spec)
        return await self.inner.render(spec)

    async def render_warned(self, spec: CardSpec) -> tuple[bytes, str]:
        await self._counted(spec)
        return await self.inner.render_warned(spec)

    async def report(self, spec: CardSpec) -> dict:
        self.reports += 1
        return await self.inner.report(spec)

    async def inspect_font(self, data: bytes):
        return await self.inner.inspect_font(data)

    async def render_draft(self, spec: CardSpec) -> bytes:
        return await self.inner.render_draft(spec)

    def start_drafts(self) -> None:
        self.inner.start_drafts()

    async def render_fallback(
        self, width: int = 1200, height: int = 630, fmt: str = "png"
    ) -> bytes:
        self.fallbacks += 1
        return await self.inner.render_fallback(width, height, fmt)

    async def __aexit__(self, *exc) -> None:
        await self.inner.__aexit__(*exc)


async def client_with_pool(aiohttp_client, make_app, pool: CountingPool, **settings):
    app = make_app(**settings)
    app[image_service_key].pool = pool  # before startup: the app uses (and closes) it
    return await aiohttp_client(app)


async def used(user_id: int, now: datetime | None = None) -> int:
    return await quota.used_this_month(user_id, now or datetime.now(UTC))


def decode(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def red_pixels(data: bytes) -> int:
    """Pixels that are (nearly) pure red: the test image served by the loopback server."""
    arr = np.asarray(decode(data).convert("RGB")).astype(int)
    return int(((arr[..., 0] > 220) & (arr[..., 1] < 40) & (arr[..., 2] < 40)).sum())


class Host:
    """Starts app processes ("restarts") on the test's database and image store."""

    def __init__(self, aiohttp_client, make_app) -> None:
        self.aiohttp_client, self.make_app = aiohttp_client, make_app

    async def start(self, **settings):
        pool = CountingPool()
        return await client_with_pool(self.aiohttp_client, self.make_app, pool, **settings), pool


async def api_user(client, email: str, plan: str = "publishing") -> User:
    """Sign up `email` on `client` on `plan`, with its key (tests/conftest.py `new_user`)."""
    return await new_user(client, email, plan=plan)


async def card(client, user: User, **params) -> tuple[str, bytes]:
    resp = await client.get("/api/generate", params=params, headers={"X-API-Key": user.api_key})
    assert resp.status == 200, await resp.text()
    return resp.headers["X-Cache"], await resp.read()
