"""What drawing costs: rounded shapes and overflowing text cost what they show, not what the
box or the text could hold (render.draw.round_mask, render.layout.fit). Counted in operations
(pixels resampled, characters measured), never in time."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from render import draw, layout
from render import text as tx


def supersampled(w: int, h: int, r: float) -> Image.Image:
    """The reference mask: the whole box drawn 4x larger, then reduced."""
    big = Image.new("L", (w * 4, h * 4), 0)
    ImageDraw.Draw(big).rounded_rectangle((0, 0, w * 4 - 1, h * 4 - 1), r * 4, fill=255)
    return big.resize((w, h), Image.Resampling.LANCZOS)


@pytest.fixture
def resampled(monkeypatch) -> list[int]:
    """The source pixels of every resize while the test runs."""
    seen: list[int] = []
    real = Image.Image.resize

    def spy(self, *args, **kw):
        seen.append(self.width * self.height)
        return real(self, *args, **kw)

    monkeypatch.setattr(Image.Image, "resize", spy)
    return seen


def test_a_large_rounded_mask_supersamples_only_its_corners(resampled):
    mask = draw.round_mask.__wrapped__(2400, 2400, 12.5)  # type: ignore[attr-defined]
    assert mask.size == (2400, 2400)
    assert sum(resampled) < 200_000  # the whole box 4x larger was 92 million pixels


@pytest.mark.parametrize(
    ("w", "h", "r"),
    [(2400, 630, 24), (300, 40, 20), (64, 64, 32), (120, 40, 6.2), (50, 100, 7.5),
     (50, 101, 7.5), (49, 101, 3.3), (700, 90, 44.9), (33, 500, 1.25), (900, 31, 15.5)],
)  # fmt: skip
def test_rounded_masks_are_the_supersampled_ones_pixel_for_pixel(w, h, r):
    fast = np.asarray(draw.round_mask.__wrapped__(w, h, r))  # type: ignore[attr-defined]
    assert np.array_equal(fast, np.asarray(supersampled(w, h, r)))


@pytest.fixture
def measured(monkeypatch) -> list[int]:
    """The length of every string measured while the test runs."""
    seen: list[int] = []
    real = tx.width

    def spy(s: str, *args, **kw):
        seen.append(len(s))
        return real(s, *args, **kw)

    monkeypatch.setattr(tx, "width", spy)
    return seen


def test_an_overflowing_text_measures_what_it_can_show(measured):
    text = "lorem ipsum dolor sit amet " * 2000  # 54,000 characters into 3 lines
    block = layout.fit.__wrapped__(text, 400, 60, 12, 600.0, 3)
    assert len(block.lines) == 3 and block.truncated
    assert block.lines[-1].text.endswith("…") and block.size == 12
    assert all(line.width <= 600 for line in block.lines)
    # Wrapping stops after the lines that can be shown and the ellipsis is cut from the
    # first line after them: a few hundred thousand characters, not the billions of
    # wrapping all of it at every size and cutting words one by one from its end.
    assert sum(measured) < 400_000, sum(measured)


def test_the_ellipsis_line_is_the_same_as_cutting_back_from_the_whole_rest():
    words = ["Über", "naïve", "你好世界", "مرحبا", "بالعالم", "🚀", "a-b-c", "WWWW", "i"]
    for n in (8, 40, 200):
        text = " ".join(words[i % len(words)] for i in range(n * 3))
        for width, lines in ((90.0, 1), (240.0, 2), (410.0, 3)):
            block = layout.fit.__wrapped__(text, 700, 30, 10, width, lines)
            everything = layout.wrap(text, 700, block.size, width, block.rtl)
            if len(everything) <= lines:
                continue
            rest = " ".join(ln.text for ln in everything[lines - 1 :])
            whole = layout._ellipsize(rest, 700, block.size, width, block.rtl)
            assert block.lines[-1] == whole, (n, width)
