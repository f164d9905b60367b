"""How far a layer may reach beyond its canvas (docs/templates.md, Limits and errors): a box
ten thousand pixels wide on a 200-pixel design is 120,000 pixels at 2400, and its fill, mask or
shadow tens of gigabytes. A box, with its shadow, lies within a quarter of a canvas width
(height) of its canvas and a stack child's `size` is at most 1.5 times the canvas: then no box
drawn is larger than 3600 pixels a side (a round gradient that size: 4 s and 0.4 GB of one
render process). Glows are exempt: they touch only the card's own pixels
(render.design.decor.glow), and the built-in vibrant puts its glows further out."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeGuard

REACH = 0.25  # canvas widths (heights) a box may reach beyond each edge
SHADOW_PAD = 1.5  # blurs a shadow's image reaches past its shape (render.design.paint.shadow)


def _numbers(value: object, n: int) -> TypeGuard[list[float]]:
    return (
        isinstance(value, list)
        and len(value) == n
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    )


def _shadow(layer: dict[str, Any]) -> tuple[float, float, float] | None:
    """How far the layer's shadow grows past its box on each side, and its offset."""
    sh = layer.get("shadow")
    if not isinstance(sh, dict):
        return None
    spread, blur, off = sh.get("spread", 0), sh.get("blur", 0), sh.get("offset", [0, 0])
    if not (_numbers([spread, blur], 2) and _numbers(off, 2)):
        return None
    return max(0, spread) + SHADOW_PAD * max(0, blur), off[0], off[1]


def problems(layer: dict[str, Any], w: float, h: float) -> Iterator[tuple[str, str]]:
    """(property, message) for the layer's `box` (or its shadow) outside
    [-W/4, 5W/4] x [-H/4, 5H/4] of its W x H canvas, or its `size` larger than 1.5W x 1.5H."""
    if layer.get("type") == "glow":
        return
    lo_x, hi_x, lo_y, hi_y = -REACH * w, (1 + REACH) * w, -REACH * h, (1 + REACH) * h
    area = f"[{lo_x:g}, {hi_x:g}] x [{lo_y:g}, {hi_y:g}]"
    area += f" (a quarter of the {w:g}x{h:g} canvas around it)"
    box, size, shadow = layer.get("box"), layer.get("size"), _shadow(layer)

    def outside(x: float, y: float, bw: float, bh: float) -> bool:
        return x < lo_x or y < lo_y or x + bw > hi_x or y + bh > hi_y

    if _numbers(box, 4):
        x, y, bw, bh = box
        if outside(x, y, bw, bh):
            yield "box", f"the box reaches outside {area}"
        elif shadow is not None:
            g, dx, dy = shadow
            if outside(x + dx - g, y + dy - g, bw + 2 * g, bh + 2 * g):
                yield "shadow", f"the shadow (spread, 1.5 x blur, offset) reaches outside {area}"
    if _numbers(size, 2):
        grow = 2 * shadow[0] if shadow else 0
        if size[0] + grow > hi_x - lo_x or size[1] + grow > hi_y - lo_y:
            what = "the size with its shadow" if grow else "the size"
            yield (
                "size",
                f"{what} is larger than {hi_x - lo_x:g}x{hi_y - lo_y:g}: 1.5 times the canvas",
            )
