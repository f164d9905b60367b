"""The design engine: a checked design (docs/templates.md) and field values in, layers drawn on
a canvas; text fitted by `render.layout.fit`, stacks laid out by `render.design.flow`."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from render import fonts, layout, report
from render.design import lettering, palette, refs
from render.design import paint as pt
from render.design.variant import chosen
from render.draw import Canvas, background, decode_image
from render.layout import Block

Layer = dict[str, Any]


@functools.lru_cache(maxsize=64)
def load(text: str) -> dict[str, Any]:
    """A design from its canonical JSON (parsed once per render process)."""
    return json.loads(text)


@dataclass(frozen=True)
class Placed:
    """A layer measured for the room it was given: its size and how to draw it at (x, y)."""

    w: float
    h: float
    draw: Callable[[float, float], None]


@dataclass
class Scene:
    """One render of a design: the values, the theme's tokens, the scale and the canvas."""

    design: Mapping[str, Any]
    values: Mapping[str, str]
    images: Mapping[str, bytes | None]
    theme: str
    width: int
    height: int
    source: str | None = None  # the design's JSON as given: the key of its cached background
    faces: Mapping[str, str] = field(default_factory=dict)  # own font id -> face key
    canvas: Canvas = field(init=False)

    def __post_init__(self) -> None:
        self.sx = self.width / self.design.get("width", 1200)
        self.sy = self.height / self.design.get("height", 630)
        self.k = min(self.sx, self.sy)
        self.tokens: Mapping[str, str] = palette.tokens(self.design, self.theme, self.values)
        self._decoded: dict[str, Image.Image | None] = {}

    def value(self, name: str) -> str:
        return self.values.get(name, "")

    def visible(self, layer: Layer) -> bool:
        """The layer's conditions hold; an image field counts as set only when its image can
        be drawn (a failed avatar leaves room for the initials, a failed logo for the name)."""

        def failed(name: str) -> bool:
            spec = self.design["fields"].get(name)
            return bool(spec and spec["type"] == "url" and self.image(name) is None)

        return refs.visible(layer, refs.Shown(self.values, failed))

    def image(self, name: str) -> Image.Image | None:
        """The decoded image of a url field (decoded once per render; None when it failed)."""
        if name not in self._decoded:
            self._decoded[name] = decode_image(self.images.get(name))
        return self._decoded[name]

    def colour(self, value: object, default: pt.RGBA | None = None) -> pt.RGBA | None:
        if not isinstance(value, str):
            return default
        if (name := refs.whole_ref(value)) is not None:
            value = self.value(name)
        elif (tok := refs.token(value)) is not None:
            value = self.tokens.get(tok, "")
        return pt.parse_hex(value) if value else default

    def paint(self, value: object) -> pt.Paint | None:
        if isinstance(value, dict):
            g = value["gradient"]
            stops = [self.colour(s) for s in g["stops"]]
            if any(s is None for s in stops):
                return None
            return pt.Gradient(float(g.get("angle", 180)), tuple(s for s in stops if s))
        return self.colour(value)

    def px(self, v: float) -> float:
        return v * self.k

    def box(self, layer: Layer) -> tuple[float, float, float, float]:
        """The layer's box at this card's size; `"aspect": "keep"` keeps its shape (scaled by
        the smaller ratio about the centre of its stretched box)."""
        x, y, w, h = layer["box"]
        if layer.get("aspect") == "keep":
            cx, cy = (x + w / 2) * self.sx, (y + h / 2) * self.sy
            return cx - w * self.k / 2, cy - h * self.k / 2, w * self.k, h * self.k
        return x * self.sx, y * self.sy, w * self.sx, h * self.sy

    def draw(self) -> Canvas:
        bg = self.paint(self.design.get("background", "#ffffff")) or (255, 255, 255, 255)
        layers = self.design["layers"]
        from render.design.decor import static_prefix

        n = static_prefix(self.source, self.width, self.height) if self.source is not None else 0
        # With leading static decorations: the background with them, per theme and colours.
        look = (self.source, tuple(self.tokens.items())) if n else (bg,)
        key = ("design", *look, self.width, self.height)

        def paint() -> Image.Image:
            self.canvas = Canvas(pt.opaque_background(self.width, self.height, bg))
            for layer in layers[:n]:
                self.draw_layer(layer)
            return self.canvas.im

        img, cached = background(key, paint)
        self.canvas = Canvas(img, cached)
        for layer in layers[n:]:
            self.draw_layer(layer)
        return self.canvas

    def draw_layer(self, layer: Layer) -> None:
        if self.visible(layer):
            x, y, w, h = self.box(layer)
            placed = self.place(layer, w, h, fixed=True)
            if placed is not None:
                self.blended(layer, (x, y, x + w, y + h), _at(placed, x, y))

    def blended(
        self,
        layer: Layer,
        box: tuple[float, float, float, float],
        draw: Callable[[], None],
        alpha: float = 1.0,
    ) -> None:
        """Draw, then mix the result with what was there by the layer's opacity (and a
        translucent text colour's alpha)."""
        pad = 0.5 * self.px(layer.get("size", 32) if layer["type"] in ("text", "pill") else 0)
        pt.blended(self.canvas.im, box, draw, float(layer.get("opacity", 1)) * alpha, pad)

    def place(
        self, layer: Layer, w: float, h: float, fixed: bool = False, row: bool = False
    ) -> Placed | None:
        """Measure `layer` for a room of w x h; `fixed`: it fills the room (a layer's box);
        `row`: it is in a row (a text then takes its own width, not the room's)."""
        placed = self._place(layer, w, h, fixed, row)
        if placed is None or "offset" not in layer:
            return placed
        from render.design import decor

        return decor.moved(placed, *(self.px(v) for v in layer["offset"]))

    def _place(self, layer: Layer, w: float, h: float, fixed: bool, row: bool) -> Placed | None:
        from render.design import decor, flow

        kind = layer["type"]
        if kind == "stack":
            return flow.place_stack(self, layer, w, h, fixed)
        if not fixed and kind in ("rect", "image", *decor.SHAPES) and "size" in layer:
            w, h = self.px(layer["size"][0]), self.px(layer["size"][1])
        if kind in decor.SHAPES:
            return decor.SHAPES[kind](self, layer, w, h)
        if kind == "image":
            return decor.place_image(self, layer, w, h)
        if kind == "text":
            return self._text(layer, w, h, fixed, row)
        if kind == "pill":
            return self._pill(layer, w, h, fixed)
        from render.design import stars

        return stars.place_rating(self, layer, w, h, fixed)

    def text_of(self, layer: Layer) -> str:
        text = refs.substitute(layer["text"], self.values)
        if "words" in layer:
            text = lettering.words(text, *layer["words"])
        if layer.get("initials"):
            text = lettering.initials(text)
        return text.upper() if layer.get("uppercase") else text

    def face(self, layer: Layer) -> str:
        """The face a text layer's `font` names: a bundled family, or an own font id (one
        deleted since, or never given, is the default family)."""
        name = layer.get("font", "")
        return self.faces.get(name) or fonts.FAMILIES.get(name, fonts.PRIMARY)

    def fit(self, layer: Layer, text: str, w: float, h: float | None, lines: int) -> Block:
        size = max(6, round(self.px(float(layer.get("size", 32)))))
        low = max(6, round(self.px(float(layer.get("min_size", size / self.k)))))
        block = layout.fit(
            text,
            int(layer.get("weight", 400)),
            size,
            min(low, size),
            max(1.0, float(round(w))),
            lines,
            None if h is None else float(round(h)),
            float(layer.get("line_height", layout.LINE_HEIGHT)),
            self.face(layer),
        )
        if report.active() and (names := refs.text_refs(layer.get("text", ""))):
            report.text(names[0], block)
        return block

    def write(self, layer: Layer, block: Block, x: float, y: float, w: float) -> None:
        colour = self.colour(layer.get("color"), (0, 0, 0, 255)) or (0, 0, 0, 255)
        align = layer.get("align", "start")
        if align in ("left", "right"):
            align = "start" if (align == "left") != block.rtl else "end"
        area = (x, y, x + w, y + block.height)

        def draw() -> None:
            self.canvas.text(block, x, y, w, colour[:3], align)
            if layer.get("strike"):
                lettering.strike(self, block, x, y, w, colour[:3], align)

        self.blended(layer, area, draw, colour[3] / 255)

    def _text(self, layer: Layer, w: float, h: float, fixed: bool, row: bool) -> Placed | None:
        text = self.text_of(layer)
        if not text.strip():
            return None
        if "max_height" in layer:
            h = min(h, self.px(layer["max_height"]))
        fit_w = min(w, self.px(layer["max_width"])) if "max_width" in layer else w
        block = self.fit(layer, text, fit_w, h, int(layer.get("max_lines", 20)))
        if not block.lines:
            return None
        valign = layer.get("valign", "top")
        shift = {"top": 0.0, "middle": 0.5, "bottom": 1.0}[valign] * (h - block.height)
        # In a stack a text takes its own width (a row places the next layer after it), unless
        # it is aligned within the room it was given.
        bw = block.width if row and layer.get("align", "start") == "start" else w

        def draw(x: float, y: float) -> None:
            self.write(layer, block, x, y + (shift if fixed else 0), bw)

        return Placed(bw, h if fixed else block.height, draw)

    def _pill(self, layer: Layer, w: float, h: float, fixed: bool) -> Placed | None:
        text = self.text_of(layer)
        if not text.strip():
            return None
        size = self.px(layer.get("size", 20))
        pads = layer.get("padding") or (size / self.k * 0.75, size / self.k * 0.38)
        pad_x, pad_y = self.px(pads[0]), self.px(pads[1])
        block = self.fit({"weight": 600, "size": 20, **layer}, text, w - 2 * pad_x, None, 1)
        pw, ph = block.width + 2 * pad_x, block.height + 2 * pad_y
        fill = self.paint(layer.get("fill", "#e2e8f0"))
        radius = self.px(layer["radius"]) if "radius" in layer else ph / 2
        align = layer.get("align", "start")

        def draw(x: float, y: float) -> None:
            if fixed:
                right = align in ("right", "end") or (align == "start" and block.rtl)
                x += (w - pw) / 2 if align == "center" else (w - pw if right else 0)
                y += (h - ph) / 2
            if fill is not None:
                pt.fill(self.canvas, (x, y, x + pw, y + ph), fill, radius)
            self.write({**layer, "align": "left"}, block, x + pad_x, y + pad_y, block.width + 1)

        return Placed(w if fixed else pw, h if fixed else ph, draw)


def _at(placed: Placed, x: float, y: float) -> Callable[[], None]:
    return lambda: placed.draw(x, y)


def draw_design(
    design: Mapping[str, Any],
    values: Mapping[str, str],
    images: Mapping[str, bytes | None],
    theme: str,
    width: int,
    height: int,
    source: str | None = None,
    faces: Mapping[str, str] | None = None,
) -> Canvas:
    """Draw `design` at width x height with `values` (defaults filled in here); `source`, the
    JSON it was loaded from, keys the cached background with its static decorations; `faces`:
    the face keys of the owner's fonts it names (render.fonts.user_face)."""
    full = {
        name: str(spec["default"]) for name, spec in design["fields"].items() if "default" in spec
    }
    full.update({k: v for k, v in values.items() if v is not None and str(v).strip()})
    return Scene(
        chosen(design, width, height), full, images, theme, width, height, source, faces or {}
    ).draw()
