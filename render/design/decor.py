"""Decorations for designs (docs/templates.md, glow and pattern): soft radial glows and dot or
grid patterns. Static ones (no field in them, no condition) are painted once with the card's
background and cached with it (`render.design.engine.Scene.draw`)."""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageDraw

from render.design import engine, refs
from render.design import paint as pt
from render.design.engine import Layer, Placed
from render.design.variant import chosen

if TYPE_CHECKING:
    from render.design.engine import Scene

GLOW_REACH = 1.7  # radii: beyond this a glow changes no pixel (strength * e^-5.78 < 0.5 / 255)
PLACEHOLDER = (0x94, 0xA3, 0xB8, 0x40)  # a failed image: a faint grey box
STATIC_TYPES = ("rect", "glow", "pattern")
_CONDITIONS = ("if", "unless", "if_contains", "unless_contains")


def is_static(layer: Layer) -> bool:
    """A decoration that looks the same on every card of a theme: painted with the background."""
    return (
        layer.get("type") in STATIC_TYPES
        and not any(c in layer for c in _CONDITIONS)
        and "{{" not in repr(layer)
    )


@functools.lru_cache(maxsize=64)
def static_prefix(source: str, width: int, height: int) -> int:
    """How many of the first layers drawn at width x height (the design's, or its variant's)
    are static decorations (render.design.decor)."""
    n = 0
    for layer in chosen(engine.load(source), width, height)["layers"]:
        if not is_static(layer):
            break
        n += 1
    return n


def place_rect(scene: Scene, layer: Layer, w: float, h: float) -> Placed | None:
    fill = scene.paint(layer["fill"])
    if fill is None:
        return None
    radius = scene.px(layer.get("radius", 0))

    def draw(x: float, y: float) -> None:
        if (sh := layer.get("shadow")) and (colour := scene.colour(sh["color"])):
            dx, dy = sh.get("offset", (0, 0))
            pt.shadow(
                scene.canvas,
                (x, y, x + w, y + h),
                colour,
                radius,
                scene.px(sh.get("blur", 0)),
                (scene.px(dx), scene.px(dy)),
                scene.px(sh.get("spread", 0)),
            )
        pt.fill(scene.canvas, (x, y, x + w, y + h), fill, radius)

    return Placed(w, h, draw)


def place_image(scene: Scene, layer: Layer, w: float, h: float) -> Placed | None:
    name = refs.whole_ref(layer["src"]) or ""
    if not scene.value(name).strip():
        return None
    img = scene.image(name)
    radius = scene.px(layer.get("radius", 0))

    def draw(x: float, y: float) -> None:
        if img is None:
            colour = scene.colour(layer.get("placeholder"), PLACEHOLDER) or PLACEHOLDER
            pt.fill(scene.canvas, (x, y, x + w, y + h), colour, radius)
        elif layer.get("fit") == "contain":
            s = min(w / img.width, h / img.height)
            iw, ih = max(1, round(img.width * s)), max(1, round(img.height * s))
            share = {"left": 0.0, "center": 0.5, "right": 1.0}[layer.get("align", "center")]
            cx, cy = x + (w - iw) * share, y + (h - ih) / 2
            scene.canvas.image(img, (cx, cy, cx + iw, cy + ih), min(radius, iw / 2, ih / 2))
        else:
            scene.canvas.image(img, (x, y, x + w, y + h), min(radius, w / 2, h / 2))

    return Placed(w, h, draw)


def moved(placed: Placed, dx: float, dy: float) -> Placed:
    """`placed` drawn `dx`, `dy` away from where it is put (a layer's `offset`)."""
    return Placed(placed.w, placed.h, lambda x, y: placed.draw(x + dx, y + dy))


def place_glow(scene: Scene, layer: Layer, w: float, h: float) -> Placed | None:
    colour = scene.colour(layer["color"])
    if colour is None or w < 1 or h < 1:
        return None
    strength = float(layer.get("strength", 0.5)) * colour[3] / 255

    def draw(x: float, y: float) -> None:
        glow(scene.canvas.im, (x + w / 2, y + h / 2), (w / 2, h / 2), colour[:3], strength)
        scene.canvas.touch(y + h / 2 - GLOW_REACH * h / 2, y + h / 2 + GLOW_REACH * h / 2)

    return Placed(w, h, draw)


def glow(
    im: Image.Image,
    centre: tuple[float, float],
    radii: tuple[float, float],
    colour: tuple[int, int, int],
    strength: float,
) -> None:
    """Blend `colour` in by strength * exp(-2 d^2), d the distance in radii from `centre`."""
    (cx, cy), (rx, ry) = centre, radii
    x0, x1 = (
        max(0, min(im.width, math.floor(v)))
        for v in (cx - GLOW_REACH * rx, cx + GLOW_REACH * rx + 1)
    )
    y0, y1 = (
        max(0, min(im.height, math.floor(v)))
        for v in (cy - GLOW_REACH * ry, cy + GLOW_REACH * ry + 1)
    )
    if x1 <= x0 or y1 <= y0 or strength <= 0:
        return
    arr = np.asarray(im.crop((x0, y0, x1, y1))).astype(np.float32)
    ys = ((np.arange(y0, y1, dtype=np.float32) - cy) / ry) ** 2
    xs = ((np.arange(x0, x1, dtype=np.float32) - cx) / rx) ** 2
    alpha = strength * np.exp(-2 * (ys[:, None] + xs[None, :]))[..., None]
    arr += (np.array(colour, np.float32) - arr) * alpha
    im.paste(Image.fromarray(np.rint(arr).astype(np.uint8)), (x0, y0))


def place_pattern(scene: Scene, layer: Layer, w: float, h: float) -> Placed | None:
    colour = scene.colour(layer["color"])
    if colour is None or w < 1 or h < 1:
        return None
    step = max(2, round(scene.px(float(layer.get("step", 28)))))
    dot = max(0.5, scene.px(float(layer.get("dot", 1.6))))

    def draw(x: float, y: float) -> None:
        im = scene.canvas.im
        x0, y0 = max(0, round(x)), max(0, round(y))
        x1, y1 = min(im.width, round(x + w)), min(im.height, round(y + h))
        if x1 <= x0 or y1 <= y0:
            return
        tile = np.zeros((step, step), np.uint8)
        if layer.get("shape", "dots") == "grid":
            tile[0, :] = tile[:, 0] = colour[3]
        else:  # one dot per tile (a dot wider than the step is cut at its tile's edge)
            c, dot_mask = step // 2, Image.new("L", (step, step), 0)
            ImageDraw.Draw(dot_mask).ellipse((c - dot, c - dot, c + dot, c + dot), fill=colour[3])
            tile = np.asarray(dot_mask)
        sx, sy = (x0 - round(x)) % step, (y0 - round(y)) % step
        reps = ((y1 - y0 + sy) // step + 1, (x1 - x0 + sx) // step + 1)
        lines = np.tile(tile, reps)[sy : sy + y1 - y0, sx : sx + x1 - x0]
        mask = Image.fromarray(np.ascontiguousarray(lines), "L")
        im.paste(colour[:3], (x0, y0, x1, y1), mask)
        scene.canvas.touch(y0, y1)

    return Placed(w, h, draw)


SHAPES = {"rect": place_rect, "glow": place_glow, "pattern": place_pattern}
