"""Design validation: the JSON Schema, then what a schema cannot say. Every problem is
reported with its JSON Pointer, all at once (docs/templates.md, Errors)."""

from __future__ import annotations

import functools
import json
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator

from render.design import reach, refs
from render.design.schema import (
    DESIGN_SCHEMA,
    LAYERS,
    MAX_BYTES,
    MAX_IMAGE_LAYERS,
    MAX_LAYERS,
    MAX_STACK_DEPTH,
)
from render.fonts import FAMILIES

MAX_MESSAGE = 200
MAX_PROBLEMS = 100  # a design with more is reported with the first hundred
# Layers that work on every pixel of their box (glows, patterns, shadows, gradient fills and
# opacity below 1): a full card of each takes about 0.4 s at 2400x2400 (docs/templates.md).
MAX_EFFECTS = 8


@dataclass(frozen=True)
class Problem:
    path: str  # a JSON Pointer into the design ("" is the design itself)
    message: str


def pointer(parts: Collection[object]) -> str:
    """RFC 6901: '/'-joined, with '~' and '/' escaped."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def design_bytes(design: object) -> int:
    """The size a design is measured by: compact UTF-8 JSON."""
    text = json.dumps(design, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return len(text.encode("utf-8", "surrogatepass"))


@functools.cache
def _validator() -> Draft202012Validator:
    Draft202012Validator.check_schema(DESIGN_SCHEMA)
    return Draft202012Validator(DESIGN_SCHEMA)


_NAME_RULES = {
    "pattern": "names are lower-case letters, digits and _, starting with a letter (at most 40)",
    "not": "this name is reserved for a request parameter",
    "enum": "themes are dark and light",
}


def _short(message: str) -> str:
    return message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - 1] + "…"


def _schema_problems(design: object) -> Iterator[Problem]:
    for err in _validator().iter_errors(design):
        if err.validator in ("allOf", "if"):  # the branch's own errors are reported instead
            continue
        path, message = list(err.absolute_path), err.message
        if "propertyNames" in err.relative_schema_path:  # point at the name itself
            path.append(err.instance)
            message = _NAME_RULES.get(err.validator, message)
        yield Problem(pointer(path), _short(message))


def check_design(design: object, fonts: Collection[str] = ()) -> list[Problem]:
    """Every problem of `design`, sorted by path; [] when it is valid. `fonts` are the
    `font_…` ids the design's owner may use besides the bundled families."""
    try:
        size = design_bytes(design)
    except ValueError:
        return [Problem("", "a design holds only finite numbers (no NaN or Infinity)")]
    except (TypeError, RecursionError):
        return [Problem("", "a design is a JSON object")]
    if size > MAX_BYTES:
        return [Problem("", f"the design is {size} bytes; at most {MAX_BYTES} are allowed")]
    found = list(_schema_problems(design))
    if isinstance(design, dict):
        found.extend(_Semantics(design, fonts).problems)
    unique = sorted(set(found), key=lambda p: (p.path, p.message))
    return unique[:MAX_PROBLEMS]


class _Semantics:
    """The rules across properties: title, references, fonts, counts and nesting."""

    def __init__(self, design: dict[str, Any], fonts: Collection[str]) -> None:
        self.fonts = set(fonts)
        raw = design.get("fields")
        self.fields: dict[str, Any] = raw if isinstance(raw, dict) else {}
        self.types = {k: v.get("type") for k, v in self.fields.items() if isinstance(v, dict)}
        colors = design.get("colors")
        themes = (
            [t for t in colors.values() if isinstance(t, dict)] if isinstance(colors, dict) else []
        )
        self.tokens = set.intersection(*(set(t) for t in themes)) if themes else set()
        self.problems: list[Problem] = []
        if isinstance(colors, dict):
            self._mixes(colors)
        self._fields()
        self._paint(design.get("background"), ("background",))
        self._layout(design, ())
        variants = design.get("variants")
        for i, variant in enumerate(variants if isinstance(variants, list) else []):
            if isinstance(variant, dict):
                self._layout(variant, ("variants", i))

    def _layout(self, layout: dict[str, Any], path: tuple[object, ...]) -> None:
        """The design's layers, or a variant's: each layout within the counts on its own."""
        self.layers = self.images = self.effects = 0
        size = (layout.get("width", 1200), layout.get("height", 630))
        sane = all(isinstance(v, int | float) and v > 0 for v in size)
        self.canvas = size if sane else None  # the layout's W x H, when it has one
        layers, where = layout.get("layers"), (*path, "layers")
        if isinstance(layers, list):
            self._layers(layers, where, 1)
        if self.effects > MAX_EFFECTS:
            self.add(
                where,
                f"{self.effects} effects (glows, patterns, shadows, gradient fills, opacity "
                f"below 1); at most {MAX_EFFECTS}",
            )
        if self.layers > MAX_LAYERS:
            self.add(where, f"{self.layers} layers in all; at most {MAX_LAYERS}")
        if self.images > MAX_IMAGE_LAYERS:
            self.add(where, f"{self.images} image layers; at most {MAX_IMAGE_LAYERS}")
        aspect = layout.get("aspect")
        if not isinstance(aspect, list) or len(aspect) != 2:
            return
        if all(isinstance(a, int | float) for a in aspect) and not aspect[0] < aspect[1]:
            self.add((*path, "aspect"), "the aspect range is [low, high) with low < high")

    def add(self, path: tuple[object, ...], message: str) -> None:
        self.problems.append(Problem(pointer(path), message))

    def _mixes(self, colors: dict[str, Any]) -> None:
        """A mixed token mixes hex colours or tokens that are hex colours in every theme."""
        for theme, tokens in colors.items():
            if not isinstance(tokens, dict):
                continue
            for name, value in tokens.items():
                parts = value.get("mix") if isinstance(value, dict) else None
                for i, part in enumerate(parts[:2] if isinstance(parts, list) else []):
                    tok = refs.token(part)
                    if tok is None:
                        continue
                    plain = all(
                        isinstance(t, dict) and isinstance(t.get(tok), str) for t in colors.values()
                    )
                    if tok not in self.tokens or not plain:
                        where = ("colors", theme, name, "mix", i)
                        self.add(where, f"${tok} is not a hex colour in every theme of colors")

    def _fields(self) -> None:
        title = self.fields.get("title")
        if not isinstance(title, dict):
            self.add(("fields",), "every design declares a title field")
        elif title.get("type") != "string" or title.get("required") is not True:
            self.add(("fields", "title"), 'title must be {"type": "string", "required": true}')
        for name, spec in self.fields.items():
            if isinstance(spec, dict) and "default" in spec:
                self._default(name, spec.get("type"), spec["default"])

    def _default(self, name: str, kind: object, value: object) -> None:
        path = ("fields", name, "default")
        if kind == "color" and not (isinstance(value, str) and refs.HEX.fullmatch(value)):
            self.add(path, "the default of a color field is a hex colour such as #3b82f6")
        elif kind == "number" and not isinstance(value, int | float):
            self.add(path, "the default of a number field is a number")
        elif kind == "url" and not (
            isinstance(value, str) and value.startswith(("https://", "http://"))
        ):
            self.add(path, "the default of a url field is an https:// URL")
        elif kind == "string" and not isinstance(value, str):
            self.add(path, "the default of a string field is a string")

    def _field(self, path: tuple[object, ...], name: str, kinds: tuple[str, ...]) -> None:
        kind = self.types.get(name)
        if name not in self.fields:
            self.add(path, f"{{{{{name}}}}} is not a declared field")
        elif kinds and kind not in kinds:
            self.add(path, f"{name} is a {kind} field; this needs a {' or '.join(kinds)} field")

    def _colour(self, value: object, path: tuple[object, ...]) -> None:
        if (name := refs.whole_ref(value)) is not None:
            self._field(path, name, ("color",))
        elif (tok := refs.token(value)) is not None and tok not in self.tokens:
            self.add(path, f"${tok} is not defined in every theme of colors")

    def _paint(self, value: object, path: tuple[object, ...]) -> None:
        if isinstance(value, dict):
            grad = value.get("gradient")
            stops = grad.get("stops") if isinstance(grad, dict) else None
            for i, stop in enumerate(stops if isinstance(stops, list) else []):
                self._colour(stop, (*path, "gradient", "stops", i))
        else:
            self._colour(value, path)

    def _layers(
        self, layers: list[Any], path: tuple[object, ...], depth: int, overlay: bool = False
    ) -> None:
        for i, layer in enumerate(layers):
            if isinstance(layer, dict):
                self._layer(layer, (*path, i), depth, overlay)

    def _layer(
        self, layer: dict[str, Any], path: tuple[object, ...], depth: int, overlay: bool
    ) -> None:
        self.layers += 1
        kind = layer.get("type") if isinstance(layer.get("type"), str) else None
        opacity = layer.get("opacity", 1)
        self.effects += (
            kind in ("glow", "pattern")
            or "shadow" in layer
            or isinstance(layer.get("fill"), dict)
            or (isinstance(opacity, int | float) and opacity < 1)
        )
        for cond in ("if", "unless"):
            names = layer.get(cond)
            listed = names if isinstance(names, list) else [names]
            for i, name in enumerate(listed):
                where = (*path, cond, i) if isinstance(names, list) else (*path, cond)
                if isinstance(name, str) and name not in self.fields:
                    self.add(where, f"{name} is not a declared field")
        for cond in ("if_contains", "unless_contains"):
            spec = layer.get(cond)
            names = spec.get("fields") if isinstance(spec, dict) else None
            for i, name in enumerate(names if isinstance(names, list) else []):
                if isinstance(name, str) and name not in self.fields:
                    self.add((*path, cond, "fields", i), f"{name} is not a declared field")
        for prop, message in reach.problems(layer, *self.canvas) if self.canvas else ():
            self.add((*path, prop), message)
        if depth == 1 and kind in LAYERS and "box" not in layer:
            self.add(path, "a layer outside a stack needs a box")
        sized = ("rect", "image", "glow", "pattern")
        if depth > 1 and not overlay and kind in sized and "size" not in layer:
            self.add(path, f"a {kind} in a column or row needs a size")
        for prop in ("fill",):
            if prop in layer:
                self._paint(layer[prop], (*path, prop))
        for prop in ("color", "empty_color", "placeholder"):
            if prop in layer:
                self._colour(layer[prop], (*path, prop))
        if isinstance(shadow := layer.get("shadow"), dict) and "color" in shadow:
            self._colour(shadow["color"], (*path, "shadow", "color"))
        if isinstance(text := layer.get("text"), str):
            self._text(text, (*path, "text"))
        font = layer.get("font")
        if isinstance(font, str) and font not in FAMILIES and font not in self.fonts:
            self.add(
                (*path, "font"),
                f"unknown font {font[:64]!r}: use a family of "
                "GET /api/fonts or one of your font_… ids",
            )
        size, low = layer.get("size", 32), layer.get("min_size")
        if isinstance(size, int | float) and isinstance(low, int | float) and low > size:
            self.add((*path, "min_size"), "min_size is larger than size")
        if kind == "image":
            self.images += 1
            if (name := refs.whole_ref(layer.get("src"))) is not None:
                self._field((*path, "src"), name, ("url",))
        if kind == "rating" and (name := refs.whole_ref(layer.get("value"))) is not None:
            self._field((*path, "value"), name, ("number",))
        if kind == "stack" and isinstance(children := layer.get("layers"), list):
            if depth >= MAX_STACK_DEPTH:
                self.add((*path, "layers"), f"stacks nest at most {MAX_STACK_DEPTH} deep")
            else:
                overlaid = layer.get("direction") == "overlay"
                self._layers(children, (*path, "layers"), depth + 1, overlaid)

    def _text(self, text: str, path: tuple[object, ...]) -> None:
        if refs.stray_braces(text):
            self.add(path, "{{ and }} only wrap a field name, such as {{title}}")
        for name in dict.fromkeys(refs.text_refs(text)):
            self._field(path, name, ())
