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
