from __future__ import annotations

import numpy as np
import pytest

from render.png import Background, encode_png
from tests.render.conftest import decode


@pytest.mark.parametrize("shape", [(1, 1), (17, 5), (630, 1200), (33, 250)])
def test_round_trip_random(shape):
    rng = np.random.default_rng(1)
    px = rng.integers(0, 256, (*shape, 3), dtype=np.uint8)
    im = decode(encode_png(px, 6))
    assert im.mode == "RGB" and np.array_equal(np.asarray(im), px)


def test_round_trip_with_reused_background_bands():
    rng = np.random.default_rng(2)
    bg = rng.integers(0, 4, (200, 300, 3), dtype=np.uint8)
    cache = Background(bg)
    for y0, y1 in [(0, 5), (40, 41), (100, 150), (199, 200)]:
        px = bg.copy()
        px[y0:y1, 10:50] = 255
        out = decode(encode_png(px, 6, cache, [(y0, y1)]))
        assert np.array_equal(np.asarray(out), px), (y0, y1)
    # a wrong dirty list must be detectable: the encoder trusts it (cached bands win)
    px = bg.copy()
    px[60, 0] = 255
    assert not np.array_equal(np.asarray(decode(encode_png(px, 6, cache, []))), px)


def test_drawn_bands_are_memoised_by_their_exact_rows(monkeypatch):
    """A band compressed once is not compressed again while its rows (and the row above) are
    the same; a band whose rows changed, even by one pixel, is compressed anew."""
    from render import png
    from render.memo import ByteLru

    rng = np.random.default_rng(7)
    bg = rng.integers(0, 256, (100, 40, 3), dtype=np.uint8)
    card = bg.copy()
    card[10:90, 5:35] = 200
    dirty = [(10, 90)]
    calls: list[int] = []
    real = png._deflate
    monkeypatch.setattr(png, "_deflate", lambda raw, *a: calls.append(len(raw)) or real(raw, *a))
    bands: ByteLru = ByteLru(8 << 20)
    first = encode_png(card, 7, Background(bg), dirty, bands)
    assert np.array_equal(np.asarray(decode(first)), card)
    assert len(calls) == 7  # 6 drawn bands (rows 0-95, 16 each) and the background's last
    assert encode_png(card, 7, Background(bg), dirty, bands) == first
    assert len(calls) == 8  # only the new Background's own band
    other = card.copy()
    other[63, 20] = (1, 2, 3)  # one pixel in the last row of the band of rows 48-63
    body = encode_png(other, 7, Background(bg), dirty, bands)
    assert np.array_equal(np.asarray(decode(body)), other)
    assert len(calls) == 11  # that band, the next (primed with row 63), the background's
    assert bands.size <= 8 << 20 and len(bands) == 8
