"""Stacks: layers that flow in a column (each below the one before) or a row (each after the
one before), so a subtitle moves down when the title wraps (docs/templates.md, stack)."""

from __future__ import annotations

from typing import TYPE_CHECKING

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
    column = layer.get("direction", "column") == "column"
    gap = scene.px(layer.get("gap", 0))
    placed: list[Placed] = []
    used = 0.0  # along the main axis
    for child in layer["layers"]:
        if not scene.visible(child):
            continue
        room_w, room_h = (w, h - used) if column else (w - used, h)
        if placed:
            room_w, room_h = (room_w, room_h - gap) if column else (room_w - gap, room_h)
        if room_w <= 0 or room_h <= 0:
            break
        p = scene.place(child, room_w, room_h)
        if p is None:
            continue
        used += (gap if placed else 0) + (p.h if column else p.w)
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

    def draw(x: float, y: float) -> None:
        at = start
        for p in placed:
            if column:
                p.draw(x + (own_w - p.w) * align, y + at)
                at += p.h + gap
            else:
                p.draw(x + at, y + (own_h - p.h) * align)
                at += p.w + gap

    return Placed(own_w, own_h, draw)
