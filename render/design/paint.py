"""Paints for designs: colours with alpha, linear gradients at any CSS angle, rounded fills and
soft shadows, composited onto a `render.draw.Canvas`."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

from render.draw import RGB, Canvas, linear_gradient, round_mask

RGBA = tuple[int, int, int, int]


def parse_hex(value: str) -> RGBA | None:
    """#rgb, #rrggbb or #rrggbbaa (already checked by the schema) as RGBA; None otherwise."""
    v = value.strip().lstrip("#")
    if len(v) == 3:
        v = "".join(c * 2 for c in v)
    if len(v) not in (6, 8):
        return None
    try:
        r, g, b = int(v[0:2], 16), int(v[2:4], 16), int(v[4:6], 16)
        return (r, g, b, int(v[6:8], 16) if len(v) == 8 else 255)
    except ValueError:
        return None


@dataclass(frozen=True)
class Gradient:
    angle: float  # CSS degrees: 0 up, 90 right, 180 down
    stops: tuple[RGBA, ...]


Paint = RGBA | Gradient


def gradient_pixels(w: int, h: int, g: Gradient) -> np.ndarray:
    """An (h, w, 4) uint8 array of CSS `linear-gradient(<angle>deg, stops…)`."""
    if len(g.stops) == 2 and g.angle % 360 == 135 and all(s[3] == 255 for s in g.stops):
        rgb = linear_gradient(w, h, g.stops[0][:3], g.stops[1][:3])  # the built-ins' own
        return np.dstack([rgb, np.full((h, w), 255, np.uint8)])
    a = math.radians(g.angle)
    dx, dy = math.sin(a), -math.cos(a)
    length = abs(w * dx) + abs(h * dy) or 1.0
    xs = ((np.arange(w, dtype=np.float32) + 0.5 - w / 2) * dx / length)[None, :]
    ys = ((np.arange(h, dtype=np.float32) + 0.5 - h / 2) * dy / length)[:, None]
    t = np.clip(xs + ys + 0.5, 0.0, 1.0)
    at = np.linspace(0.0, 1.0, len(g.stops))
    stops = np.array(g.stops, np.float32)
    out = np.empty((h, w, 4), np.uint8)
    for c in range(4):
        out[..., c] = np.rint(np.interp(t, at, stops[:, c]))
    return out


def paint_image(w: int, h: int, paint: Paint) -> Image.Image:
    """An RGBA image of `paint` over w x h."""
    if isinstance(paint, Gradient):
        return Image.fromarray(gradient_pixels(w, h, paint), "RGBA")
    return Image.new("RGBA", (w, h), paint)


def opaque_background(w: int, h: int, paint: Paint) -> Image.Image:
    """The card's background (RGB): `paint` over white where it is translucent."""
    img = paint_image(w, h, paint)
    if isinstance(paint, tuple) and paint[3] == 255:
        return img.convert("RGB")
    base = Image.new("RGB", (w, h), (255, 255, 255))
    base.paste(img, (0, 0), img)
    return base


def _alpha_mask(w: int, h: int, radius: float, alpha: float) -> Image.Image | None:
    """The coverage mask of a rounded box times `alpha` (None: fully covered)."""
    mask = round_mask(w, h, min(radius, w / 2, h / 2)) if radius > 0 else None
    if alpha >= 1:
        return mask
    if mask is None:
        return Image.new("L", (w, h), round(255 * alpha))
    return mask.point(lambda v: round(v * alpha))


def fill(
    canvas: Canvas,
    box: tuple[float, float, float, float],
    paint: Paint,
    radius: float = 0,
    opacity: float = 1.0,
) -> None:
    """Fill a (rounded) box with a colour or gradient, blending alpha and opacity."""
    x0, y0, x1, y1 = (round(v) for v in box)
    w, h = x1 - x0, y1 - y0
    if w <= 0 or h <= 0:
        return
    if isinstance(paint, tuple) and paint[3] == 255 and opacity >= 1:
        canvas.rect((x0, y0, x1, y1), paint[:3], radius)  # the built-ins' path
        return
    img = paint_image(w, h, paint)
    coverage = np.asarray(img.getchannel("A"), np.float32) / 255
    mask = _alpha_mask(w, h, radius, opacity)
    if mask is not None:
        coverage *= np.asarray(mask, np.float32) / 255
    alpha = Image.fromarray(np.rint(coverage * 255).astype(np.uint8), "L")
    canvas.im.paste(img.convert("RGB"), (x0, y0), alpha)
    canvas.touch(y0, y1)


def shadow(
    canvas: Canvas,
    box: tuple[float, float, float, float],
    colour: RGBA,
    radius: float,
    blur: float,
    offset: tuple[float, float],
    spread: float,
) -> None:
    """A soft shadow of a rounded box: its shape, grown by `spread`, moved by `offset` and
    blurred (a Gaussian of `blur` / 2, as CSS box-shadow's blur radius)."""
    x0, y0, x1, y1 = box
    x0, y0, x1, y1 = (
        x0 - spread + offset[0],
        y0 - spread + offset[1],
        x1 + spread + offset[0],
        y1 + spread + offset[1],
    )
    w, h = round(x1 - x0), round(y1 - y0)
    if w <= 0 or h <= 0 or colour[3] == 0:
        return
    pad = math.ceil(blur * 1.5) + 1
    shape = Image.new("L", (w + 2 * pad, h + 2 * pad), 0)
    r = max(0.0, radius + spread)
    inner = round_mask(w, h, min(r, w / 2, h / 2)) if r > 0 else Image.new("L", (w, h), 255)
    shape.paste(inner, (pad, pad))
    if blur > 0:
        shape = shape.filter(ImageFilter.GaussianBlur(blur / 2))
    alpha = colour[3] / 255
    if alpha < 1:
        shape = shape.point(lambda v: round(v * alpha))
    left, top = round(x0) - pad, round(y0) - pad
    canvas.im.paste(colour[:3], (left, top, left + shape.width, top + shape.height), shape)
    canvas.touch(top, top + shape.height)


def blended(
    im: Image.Image,
    box: tuple[float, float, float, float],
    draw: Callable[[], None],
    opacity: float,
    pad: float,
) -> None:
    """Draw, then mix what `draw` changed in the box (grown by `pad`) with what was there."""
    if opacity >= 1:
        draw()
        return
    x0, x1 = (max(0, min(im.width, round(v))) for v in (box[0] - pad, box[2] + pad))
    y0, y1 = (max(0, min(im.height, round(v))) for v in (box[1] - pad, box[3] + pad))
    if x1 <= x0 or y1 <= y0:
        return
    before = im.crop((x0, y0, x1, y1))
    draw()
    im.paste(Image.blend(before, im.crop((x0, y0, x1, y1)), opacity), (x0, y0))


def rgb(colour: RGBA) -> RGB:
    return colour[:3]
