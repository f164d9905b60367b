from __future__ import annotations

import pytest

from bench.samples import STANDARD
from render.pool import RenderError, RenderPool
from render.spec import CardSpec
from tests.render.conftest import decode

BAD = CardSpec(title=12345)  # type: ignore[arg-type]  # not a str: the render raises


async def test_renders_in_a_subprocess_and_propagates_errors():
    async with RenderPool(1) as pool:
        im = decode(await pool.render(STANDARD))
        assert im.size == (1200, 630)
        assert decode(await pool.render_fallback(400, 300)).size == (400, 300)
        with pytest.raises(RenderError, match="TypeError"):
            await pool.render(BAD)
        assert decode(await pool.render(STANDARD)).size == (1200, 630), "pool survives errors"


async def test_inline_mode():
    pool = RenderPool(0)
    try:
        assert decode(await pool.render(STANDARD)).size == (1200, 630)
        with pytest.raises(RenderError):
            await pool.render(BAD)
    finally:
        pool.close()
