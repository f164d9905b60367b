"""Static backgrounds (gradients and decorations): painted once per (template, theme, colours,
size) and cached by `render.draw.background`."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from render.designs.base import Palette, unit
from render.draw import linear_gradient, mix

MINIMAL_DARK = Palette(
    (0x11, 0x11, 0x14),
    (0x11, 0x11, 0x14),
    (0xFA, 0xFA, 0xFA),
    (0xA1, 0xA1, 0xAA),
    (0x71, 0x71, 0x7A),
    (0x22, 0xD3, 0xEE),
    (0x67, 0xE8, 0xF9),
    (0x27, 0x27, 0x2A),
)
MINIMAL_LIGHT = Palette(
    (0xFA, 0xFA, 0xF9),
    (0xFA, 0xFA, 0xF9),
    (0x18, 0x18, 0x1B),
    (0x52, 0x52, 0x5B),
    (0x71, 0x71, 0x7A),
    (0x0E, 0xA5, 0xE9),
    (0x03, 0x69, 0xA1),
    (0xE4, 0xE4, 0xE7),
)
VIBRANT_DARK = Palette(
    (0x4C, 0x1D, 0x95),
    (0xBE, 0x18, 0x5D),
    (255, 255, 255),
    (0xF5, 0xE8, 0xFF),
    (0xE9, 0xD5, 0xFF),
    (0xFB, 0xBF, 0x24),
    (0xFD, 0xE6, 0x8A),
    (0x6D, 0x28, 0xD9),
    (0x1F, 0x12, 0x06),
)
VIBRANT_LIGHT = Palette(
    (0xFD, 0xF2, 0xF8),
    (0xED, 0xE9, 0xFE),
    (0x3B, 0x07, 0x64),
    (0x58, 0x1C, 0x87),
    (0x86, 0x19, 0x8F),
    (0xDB, 0x27, 0x77),
    (0xBE, 0x18, 0x5D),
    (0xFC, 0xE7, 0xF3),
)


def gradient(w: int, h: int, pal: Palette) -> Image.Image:
    return Image.fromarray(linear_gradient(w, h, pal.bg0, pal.bg1))


def flat(w: int, h: int, pal: Palette) -> Image.Image:
    return Image.new("RGB", (w, h), pal.bg0)


def _glow(img: Image.Image, cx: float, cy: float, r: float, colour, strength: float) -> Image.Image:
    """A soft radial glow: alpha = strength * exp(-2 (d / r)^2), blended in float."""
    arr = np.asarray(img).astype(np.float32)
    ys = ((np.arange(img.height, dtype=np.float32) - cy) / r) ** 2
    xs = ((np.arange(img.width, dtype=np.float32) - cx) / r) ** 2
    alpha = strength * np.exp(-2 * (ys[:, None] + xs[None, :]))[..., None]
    arr += (np.array(colour, np.float32) - arr) * alpha
    return Image.fromarray(np.rint(arr).astype(np.uint8))


def vibrant(w: int, h: int, pal: Palette) -> Image.Image:
    img = gradient(w, h, pal)
    u = unit(w, h)
    img = _glow(img, w * 0.95, h * 0.0, 520 * u, pal.accent, 0.5)
    return _glow(img, w * 0.0, h * 1.05, 420 * u, mix(pal.bg1, pal.accent, 0.25), 0.45)


def dots(w: int, h: int, pal: Palette) -> Image.Image:
    img = gradient(w, h, pal)
    u = unit(w, h)
    step, r = max(8, round(28 * u)), max(1.0, 1.6 * u)
    d = ImageDraw.Draw(img)
    colour = mix(pal.bg1, pal.text, 0.12)
    for y in range(step // 2, h, step):
        for x in range(round(w * 0.55) + step // 2, w, step):
            d.ellipse((x - r, y - r, x + r, y + r), fill=colour)
    return img


def grid(w: int, h: int, pal: Palette) -> Image.Image:
    img = np.array(gradient(w, h, pal))
    u = unit(w, h)
    step = max(12, round(48 * u))
    line = np.array(mix(pal.bg0, pal.text, 0.06), np.uint8)
    img[::step, :] = line
    img[:, ::step] = line
    return Image.fromarray(img)


def split(w: int, h: int, pal: Palette) -> Image.Image:
    """Flat card with a tinted right panel (product photo side)."""
    img = Image.new("RGB", (w, h), pal.bg0)
    if w >= h * 1.3:
        img.paste(pal.surface, (round(w * 0.56), 0, w, h))
    else:
        img.paste(pal.surface, (0, round(h * 0.5), w, h))
    return img
