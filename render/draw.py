"""Drawing on a card: a canvas over a cached background, shapes, text blocks, user images."""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Hashable

import numpy as np
from PIL import Image, ImageDraw, ImageOps

from render import fonts, report
from render import text as tx
from render.layout import Block
from render.memo import Admission, ByteLru, bytes_cached, image_bytes
from render.png import Background

RGB = tuple[int, int, int]
_SS = 4  # supersampling for anti-aliased shapes
_CORNER_MARGIN = 4  # pixels past a corner's arc that its supersampled filter reaches
# Painted backgrounds, one copy each (the pixel array; a PIL view of it is made per use), bounded
# by bytes per render process. One over LARGE_BG bytes (a 2400x2400 one is 17 MB) is kept only
# once its key comes a second time: sizes and colours asked for once never push out the
# backgrounds every default-size card reuses.
BG_CACHE_BYTES = 48 << 20
LARGE_BG = 6 << 20
# The PNG segments of drawn bands (render.png, keyed on their exact rows) take their share of
# the same budget: backgrounds and bands together stay within BG_CACHE_BYTES.
BAND_CACHE_BYTES = 8 << 20
_BG_CACHE: ByteLru[Background] = ByteLru(BG_CACHE_BYTES - BAND_CACHE_BYTES)
PNG_BANDS: ByteLru = ByteLru(BAND_CACHE_BYTES)
_BG_SEEN = Admission()


def hex_rgb(value: str | None, default: RGB) -> RGB:
    v = (value or "").strip().lstrip("#")
    if len(v) == 3:
        v = "".join(c * 2 for c in v)
    try:
        return (int(v[0:2], 16), int(v[2:4], 16), int(v[4:6], 16)) if len(v) in (6, 8) else default
    except ValueError:
        return default


def rgb_hex(c: RGB) -> str:
    """(15, 23, 42) -> "#0f172a"."""
    return "#{:02x}{:02x}{:02x}".format(*c)


def mix(a: RGB, b: RGB, t: float) -> RGB:
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b, strict=True))  # type: ignore[return-value]  # 3 ints


def luminance(c: RGB) -> float:
    return (0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]) / 255


def linear_gradient(w: int, h: int, c0: RGB, c1: RGB) -> np.ndarray:
    """CSS linear-gradient(135deg, c0, c1): colour depends on x + y only (one LUT, one view)."""
    d = math.sqrt(0.5)
    length = (w + h) * d
    k = np.arange(w + h - 1, dtype=np.float64)
    t = np.clip(((k + 1.0 - (w + h) / 2.0) * d) / length + 0.5, 0, 1)[:, None]
    lut = np.rint(np.array(c0, float) + t * (np.array(c1, float) - np.array(c0, float)))
    lut = lut.astype(np.uint8)
    view = np.lib.stride_tricks.as_strided(lut, shape=(h, w, 3), strides=(3, 3, 1))
    return np.ascontiguousarray(view)


def background(key: Hashable, paint: Callable[[], Image.Image]) -> tuple[Image.Image, Background]:
    """The painted background for `key` (template, theme, colours, size): a read-only PIL view
    of the one cached pixel array, and the array with its compressed bands (render.png)."""
    bg = _BG_CACHE.get(key)
    if bg is None:
        pixels = np.asarray(paint().convert("RGB"))  # the only copy kept
        pixels.flags.writeable = False
        bg = Background(pixels)
        if pixels.nbytes <= LARGE_BG or _BG_SEEN.again(key):
            _BG_CACHE.put(key, bg, pixels.nbytes * 5 // 4)  # + its compressed bands, about
    return Image.fromarray(bg.pixels), bg


def _supersampled_mask(w: int, h: int, r: float) -> Image.Image:
    """The mask drawn _SS times larger and reduced: the reference every mask equals."""
    big = Image.new("L", (w * _SS, h * _SS), 0)
    ImageDraw.Draw(big).rounded_rectangle((0, 0, w * _SS - 1, h * _SS - 1), r * _SS, fill=255)
    return big.resize((w, h), Image.Resampling.LANCZOS)


@bytes_cached(16 << 20, image_bytes)
def round_mask(w: int, h: int, r: float) -> Image.Image:
    """Anti-aliased rounded-rectangle (or circle, r = h / 2) mask. Only the corners are
    drawn supersampled (the same pixels as `_supersampled_mask`, at a cost that grows with
    the radius, not the box): away from them every pixel is 255."""
    c = math.ceil(r) + _CORNER_MARGIN  # a corner block: its arc and the filter's reach
    if w <= 2 * c + 2 or h <= 2 * c + 2:
        return _supersampled_mask(w, h, r)
    # Pillow reduces a box taller than twice its width rows first, others columns first (each
    # pass rounds): the small box is of the same kind, so its corners round alike.
    sw = 2 * c + 2
    sh = 2 * sw + 1 if h > 2 * w else sw
    small = _supersampled_mask(sw, sh, r)
    mask = Image.new("L", (w, h), 255)
    for sx, sy, dx, dy in ((0, 0, 0, 0), (sw - c, 0, w - c, 0), (0, sh - c, 0, h - c)):
        mask.paste(small.crop((sx, sy, sx + c, sy + c)), (dx, dy))
    mask.paste(small.crop((sw - c, sh - c, sw, sh)), (w - c, h - c))
    return mask


def decode_image(data: bytes | None) -> Image.Image | None:
    """A user image as RGBA, or None when missing or undecodable."""
    if not data:
        return None
    try:
        with Image.open(io.BytesIO(data)) as opened:
            opened.draft("RGB", (1200, 1200))
            im = ImageOps.exif_transpose(opened)
            im.thumbnail((2400, 2400))
            decoded = im.convert("RGBA")
    except Exception:  # any broken image becomes a placeholder
        report.image(data, False)
        return None
    report.image(data, True)
    return decoded


class Canvas:
    """An RGB card being drawn; remembers which rows it touched for the PNG writer."""

    def __init__(self, img: Image.Image, bg: Background | None = None):
        self.im = img.copy()
        self.bg = bg
        self.w, self.h = img.size
        self.dirty: list[tuple[int, int]] = []
        self._draw = ImageDraw.Draw(self.im)

    def touch(self, y0: float, y1: float) -> None:
        self.dirty.append((max(0, math.floor(y0)), min(self.h, math.ceil(y1) + 1)))

    def rect(self, box: tuple[float, float, float, float], fill: RGB, radius: float = 0) -> None:
        x0, y0, x1, y1 = (round(v) for v in box)
        if x1 <= x0 or y1 <= y0:
            return
        if radius <= 0:
            self.im.paste(fill, (x0, y0, x1, y1))
        else:
            r = min(radius, (x1 - x0) / 2, (y1 - y0) / 2)
            self.im.paste(fill, (x0, y0, x1, y1), round_mask(x1 - x0, y1 - y0, r))
        self.touch(y0, y1)

    def image(
        self, img: Image.Image, box: tuple[float, float, float, float], radius: float = 0
    ) -> None:
        """Paste `img` cover-fitted into box, with rounded corners."""
        x0, y0, x1, y1 = (round(v) for v in box)
        if x1 - x0 < 2 or y1 - y0 < 2:
            return
        fitted = ImageOps.fit(img, (x1 - x0, y1 - y0), Image.Resampling.LANCZOS)
        mask = fitted.getchannel("A")
        if radius > 0:
            mask = Image.fromarray(
                np.minimum(np.asarray(mask), np.asarray(round_mask(x1 - x0, y1 - y0, radius)))
            )
        self.im.paste(fitted.convert("RGB"), (x0, y0), mask)
        self.touch(y0, y1)

    def line_pieces(
        self,
        x: float,
        baseline: float,
        pieces: tuple[tx.Piece, ...],
        weight: int,
        size: int,
        fill: RGB,
    ) -> None:
        for p in pieces:
            img, dx, dy = tx.render_piece(p, weight, size)
            px, py = round(x) + dx, round(baseline) + dy
            if img.mode == "RGBA":
                self.im.paste(img, (px, py), img)
            else:
                self.im.paste(fill, (px, py, px + img.width, py + img.height), img)
            self.touch(py, py + img.height)
            x += p.width

    def text(
        self, block: Block, x: float, y: float, w: float, fill: RGB, align: str = "start"
    ) -> None:
        """Draw `block` with its top at y, in a box [x, x + w]; align start|center|end."""
        m = fonts.vmetrics()
        lh = block.size * block.line_height
        for i, line in enumerate(block.lines):
            baseline = (
                y + i * lh + (lh - (m.ascent + m.descent) * block.size) / 2 + m.ascent * block.size
            )
            right = (align == "start") == block.rtl if align != "center" else None
            lx = x + (w - line.width) / 2 if right is None else (x + w - line.width if right else x)
            pieces = tx.pieces(line.text, block.weight, block.size, block.rtl, block.face)
            self.line_pieces(lx, baseline, pieces, block.weight, block.size, fill)

    def pixels(self) -> np.ndarray:
        return np.asarray(self.im)
