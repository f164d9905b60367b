"""Render memory is bounded by bytes (docs/rendering.md, Memory): backgrounds, glyph runs and
masks; large one-off backgrounds are not kept."""

from __future__ import annotations

import pytest

from render import draw, fonts, text
from render.card import render_card
from render.memo import ByteLru
from render.spec import CardSpec


@pytest.fixture
def empty_caches():
    draw._BG_CACHE.clear()
    draw._BG_SEEN._seen.clear()
    yield
    draw._BG_CACHE.clear()


def test_byte_lru_keeps_the_budget_and_refuses_what_cannot_fit():
    lru: ByteLru[str] = ByteLru(100)
    for i in range(10):
        lru.put(i, f"v{i}", 30)
        assert lru.size <= 100
    assert len(lru) == 3 and lru.get(9) == "v9" and lru.get(0) is None
    lru.get(7)  # recently used: survives the next insertion
    lru.put("big", "x", 101)
    assert lru.get("big") is None and lru.size == 90
    lru.put(10, "v10", 30)
    assert lru.get(7) == "v7" and lru.get(8) is None


def test_large_backgrounds_are_kept_only_when_asked_for_again(empty_caches, monkeypatch):
    monkeypatch.setattr(draw, "LARGE_BG", 2 << 20)  # 6 MB in production: keep the test small
    big = [CardSpec.build(f"Big {i}", width=1200, height=900, bg_color=f"#1{i}3a8a")
           for i in range(3)]  # fmt: skip
    for spec in big:
        render_card(spec)
    assert len(draw._BG_CACHE) == 0  # three large one-offs: none kept
    render_card(big[0])
    assert len(draw._BG_CACHE) == 1  # asked for twice: worth keeping
    assert draw._BG_CACHE.size <= draw.BG_CACHE_BYTES
    small = CardSpec.build("Small", width=800, height=418)
    render_card(small)
    assert len(draw._BG_CACHE) == 2  # small backgrounds are kept at once
    key = next(iter(draw._BG_CACHE._items))
    img, bg = draw.background(key, lambda: pytest.fail("cached: never painted again"))
    assert img.size == (bg.pixels.shape[1], bg.pixels.shape[0]) and not bg.pixels.flags.writeable


def test_the_background_cache_stays_within_its_bytes(empty_caches, monkeypatch):
    monkeypatch.setattr(draw._BG_CACHE, "max_bytes", 4 << 20)  # 48 MB in production
    for i in range(8):  # distinct sizes of ~1 MB: an entry count would keep them all
        spec = CardSpec.build("Budget", width=600 + 20 * i, height=500)
        render_card(spec)
        assert draw._BG_CACHE.size <= 4 << 20
    assert 0 < len(draw._BG_CACHE) < 8


def test_glyph_runs_and_fonts_are_bounded(monkeypatch):
    memo = text.render_piece.memo
    memo.clear()
    monkeypatch.setattr(memo, "max_bytes", 256 << 10)  # 32 MB in production
    for i in range(6):
        render_card(CardSpec.build(f"A title that wraps and shrinks to fit, take {i} " * 3,
                                   subtitle="東京 مرحبا ✨🚀"))  # fmt: skip
        assert memo.size <= 256 << 10
    assert len(memo) > 0
    assert fonts._open.cache_info().currsize <= 64
    assert fonts.get_font("emoji", 400, 20) is fonts.get_font("emoji", 700, 90)
