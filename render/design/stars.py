"""Star ratings: `max` stars filled to `value` (halves and other fractions included), sized to
the height they are given (docs/templates.md, rating)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageDraw

from render.design import refs
from render.design.engine import Layer, Placed
from render.memo import bytes_cached, image_bytes

if TYPE_CHECKING:
    from render.design.engine import Scene

_SS = 4
EMPTY = (0x64, 0x74, 0x8B, 0x66)


@bytes_cached(4 << 20, image_bytes)
def star_mask(d: int) -> Image.Image:
    """An anti-aliased five-pointed star in a d x d square."""
    big = Image.new("L", (d * _SS, d * _SS), 0)
    c, r_out = d * _SS / 2, d * _SS / 2
    r_in = r_out * 0.5
    pts = []
    for i in range(10):
        a = -math.pi / 2 + i * math.pi / 5
        r = r_out if i % 2 == 0 else r_in
        pts.append((c + r * math.cos(a), c + r * math.sin(a) + r_out * 0.06))
    ImageDraw.Draw(big).polygon(pts, fill=255)
    return big.resize((d, d), Image.Resampling.LANCZOS)


def rating_value(scene: Scene, layer: Layer) -> float | None:
    raw = layer["value"]
    if (name := refs.whole_ref(raw)) is not None:
        raw = scene.value(name)
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def place_rating(scene: Scene, layer: Layer, w: float, h: float, fixed: bool) -> Placed | None:
    value = rating_value(scene, layer)
    if value is None:
        return None
    count = int(layer.get("max", 5))
    if not fixed:
        h = scene.px(layer["size"][1]) if "size" in layer else scene.px(32)
    gap = scene.px(layer.get("gap", 4))
    d = max(2, round(min(h, (w - gap * (count - 1)) / count)))
    full = scene.colour(layer.get("color"), (0xFB, 0xBF, 0x24, 255)) or (0xFB, 0xBF, 0x24, 255)
    empty = scene.colour(layer.get("empty_color"), EMPTY) or EMPTY
    total = count * d + (count - 1) * gap
    filled = max(0.0, min(float(count), value))

    def draw(x: float, y: float) -> None:
        mask = star_mask(d)
        top = round(y + (h - d) / 2)
        for i in range(count):
            left = round(x + i * (d + gap))
            share = max(0.0, min(1.0, filled - i))
            for colour, lo, hi in ((full, 0.0, share), (empty, share, 1.0)):
                if hi <= lo:
                    continue
                part = np.asarray(mask).copy()
                part[:, : round(d * lo)] = 0
                part[:, round(d * hi) :] = 0
                a = colour[3] / 255
                part = np.rint(part * a).astype(np.uint8)
                scene.canvas.im.paste(
                    colour[:3], (left, top, left + d, top + d), Image.fromarray(part, "L")
                )
            scene.canvas.touch(top, top + d)

    return Placed(w if fixed else total, h, draw)
