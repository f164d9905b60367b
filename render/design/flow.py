"""Stacks: layers that flow in a column (each below the one before) or a row (each after the
one before), so a subtitle moves down when the title wraps (docs/templates.md, stack)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from render.design import paint as pt
from render.design.engine import Layer, Placed

if TYPE_CHECKING:
    from render.design.engine import Scene

_SHARE = {"start": 0.0, "center": 0.5, "end": 1.0}


def place_stack(scene: Scene, layer: Layer, w: float, h: float, fixed: bool) -> Placed | None:
    """Lay the visible children out one after another in w x h; `fixed`: the stack fills its
    box (and `justify` places the children along it), else it takes the room they need."""
    if not fixed and "size" in layer:
        w, h = scene.px(layer["size"][0]), scene.px(layer["size"][1])
        fixed = True
    if layer.get("direction") == "overlay":
        return _overlay(scene, layer, w, h)
    pad_x, pad_y = (scene.px(v) for v in layer.get("padding", (0, 0)))
    w, h = w - 2 * pad_x, h - 2 * pad_y
    column = layer.get("direction", "column") == "column"
    gap = scene.px(layer.get("gap", 0))
    placed: list[Placed] = []
    gaps: list[float] = []  # before each placed layer but the first
    used = 0.0  # along the main axis
    for child in layer["layers"]:
        if not scene.visible(child):
            continue
        space = scene.px(child["space_before"]) if "space_before" in child else gap
        room_w, room_h = (w, h - used) if column else (w - used, h)
        if placed:
            room_w, room_h = (room_w, room_h - space) if column else (room_w - space, room_h)
        if room_w <= 0 or room_h <= 0:
            break
        p = scene.place(child, room_w, room_h, row=not column)
        if p is None:
            continue
        if placed:
            gaps.append(space)
        used += (space if placed else 0) + (p.h if column else p.w)
        placed.append(p)
    if not placed:
        return None
    cross = max(p.w if column else p.h for p in placed)
    own_w = w if fixed or column else used
    own_h = h if fixed or not column else used
    if not fixed:
        own_w, own_h = (w, used) if column else (used, cross)
    align = _SHARE[layer.get("align", "start")]
    start = _SHARE[layer.get("justify", "start")] * ((own_h if column else own_w) - used)

    fill = scene.paint(layer["fill"]) if "fill" in layer else None
    radius = scene.px(layer.get("radius", 0))

    def draw(x: float, y: float) -> None:
        if fill is not None:
            box = (x, y, x + own_w + 2 * pad_x, y + own_h + 2 * pad_y)
            pt.fill(scene.canvas, box, fill, radius)
        x, y = x + pad_x, y + pad_y
        at = start
        for p, space in zip(placed, [*gaps, 0.0], strict=True):
            if column:
                p.draw(x + (own_w - p.w) * align, y + at)
                at += p.h + space
            else:
                p.draw(x + at, y + (own_h - p.h) * align)
                at += p.w + space

    return Placed(own_w + 2 * pad_x, own_h + 2 * pad_y, draw)


def _overlay(scene: Scene, layer: Layer, w: float, h: float) -> Placed | None:
    """Children drawn over each other, each filling the stack's room as a layer fills its box
    (an initials circle: a round rect and a centred text)."""
    if "size" in layer:
        w, h = scene.px(layer["size"][0]), scene.px(layer["size"][1])
    placed = [
        p
        for c in layer["layers"]
        if scene.visible(c)
        if (p := scene.place(c, w, h, fixed=True)) is not None
    ]
    if not placed:
        return None

    def draw(x: float, y: float) -> None:
        for p in placed:
            p.draw(x, y)

    return Placed(w, h, draw)
