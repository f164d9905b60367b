"""The design format's JSON Schema (docs/templates.md), published at
`GET /api/templates/schema.json`. The schema checks shapes and ranges; `render.design.validate`
adds what a schema cannot say (references, counts, fonts)."""

from __future__ import annotations

from typing import Any

MAX_BYTES = 64 * 1024  # the design as compact UTF-8 JSON
MAX_LAYERS = 50  # every layer, those inside stacks included
MAX_FIELDS = 30
MAX_IMAGE_LAYERS = 4
MAX_STACK_DEPTH = 3
MAX_VARIANTS = 4  # layouts besides the design's own
MAX_COORD = 10_000  # |x|, |y|, w, h in design pixels
RESERVED = ("template", "format", "width", "height", "quality", "theme")
FIELD_TYPES = ("string", "url", "color", "number")
NAME = r"[a-z][a-z0-9_]{0,39}"
HEX = r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})"
REF = r"\{\{" + NAME + r"\}\}"  # a whole-value field reference: {{accent}}
TOKEN = r"\$" + NAME  # a per-theme colour token: $text

COLOR: dict[str, Any] = {
    "type": "string",
    "pattern": f"^(?:{HEX}|{REF}|{TOKEN})$",
    "description": "#rgb, #rrggbb or #rrggbbaa; a {{field}} of type color; or a $token.",
}
HEX_COLOR: dict[str, Any] = {"type": "string", "pattern": f"^{HEX}$"}
GRADIENT: dict[str, Any] = {
    "type": "object",
    "required": ["gradient"],
    "additionalProperties": False,
    "properties": {
        "gradient": {
            "type": "object",
            "required": ["stops"],
            "additionalProperties": False,
            "properties": {
                "angle": {"type": "number", "minimum": -360, "maximum": 360, "default": 180},
                "stops": {"type": "array", "items": COLOR, "minItems": 2, "maxItems": 8},
            },
        }
    },
}
_HEX_OR_TOKEN = {"type": "string", "pattern": f"^(?:{HEX}|{TOKEN})$"}
MIX: dict[str, Any] = {
    "type": "object",
    "description": "A token mixed from two colours: [a, b, t] is a + (b - a) * t.",
    "required": ["mix"],
    "additionalProperties": False,
    "properties": {"mix": {"type": "array", "minItems": 3, "maxItems": 3, "prefixItems": [
        _HEX_OR_TOKEN, _HEX_OR_TOKEN, {"type": "number", "minimum": 0, "maximum": 1}]}},
}  # fmt: skip
# A paint: a colour string or {"gradient": ...} (one schema: "pattern" checks strings only,
# "properties" objects only, so every error names its real cause).
PAINT: dict[str, Any] = {
    "type": ["string", "object"],
    "pattern": COLOR["pattern"],
    "required": GRADIENT["required"],
    "additionalProperties": False,
    "properties": GRADIENT["properties"],
}


def _num(low: float, high: float, default: float | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "number", "minimum": low, "maximum": high}
    if default is not None:
        out["default"] = default
    return out


def _int(low: int, high: int, default: int | None = None) -> dict[str, Any]:
    return {**_num(low, high, default), "type": "integer"}


def _pair(low: float, high: float) -> dict[str, Any]:
    return {"type": "array", "prefixItems": [_num(low, high)] * 2, "minItems": 2, "maxItems": 2}


COORD = _num(-MAX_COORD, MAX_COORD)
BOX: dict[str, Any] = {
    "type": "array",
    "description": "[x, y, width, height] in design pixels.",
    "prefixItems": [COORD, COORD, _num(0, MAX_COORD), _num(0, MAX_COORD)],
    "minItems": 4,
    "maxItems": 4,
}
SIZE: dict[str, Any] = {**_pair(0, MAX_COORD), "description": "[width, height] in a stack."}
_NAMED = {"type": "string", "pattern": f"^{NAME}$"}
CONDITION: dict[str, Any] = {**_NAMED, "type": ["string", "array"], "items": _NAMED}
CONDITION.update(minItems=1, maxItems=8)
CONTAINS: dict[str, Any] = {
    "type": "object",
    "required": ["fields", "any"],
    "additionalProperties": False,
    "properties": {
        "fields": {"type": "array", "items": {"type": "string", "pattern": f"^{NAME}$"},
                   "minItems": 1, "maxItems": 8},
        "any": {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 16},
                "minItems": 1, "maxItems": 16},
    },
}  # fmt: skip
PAIR: dict[str, Any] = {**SIZE, "prefixItems": [COORD, COORD], "description": "[dx, dy]"}
WORDS: dict[str, Any] = {"type": "array", "prefixItems": [_int(0, 100), _int(0, 100)],
                         "minItems": 1, "maxItems": 2, "description": "[from, to]: only these "
                         "words of the text (split at spaces and commas)."}  # fmt: skip
COMMON: dict[str, Any] = {
    "type": {"type": "string"},
    "name": {"type": "string", "maxLength": 80, "description": "A label for editors."},
    "box": BOX,
    "size": SIZE,
    "if": {**CONDITION, "description": "Drawn when the field (every field listed) is set."},
    "unless": {**CONDITION, "description": "Drawn when the field (every field listed) is empty."},
    "if_contains": {
        **CONTAINS,
        "description": "Drawn when one of the fields holds one of "
        "the strings in `any` (plain substring tests).",
    },
    "unless_contains": {
        **CONTAINS,
        "description": "Drawn unless one of the fields holds one of the strings in `any`.",
    },
    "opacity": _num(0, 1, 1),
    "offset": {**PAIR, "description": "[dx, dy]: drawn moved by this much, in design pixels."},
    "space_before": {**_num(0, MAX_COORD), "description": "In a stack: the gap before it."},
    "aspect": {"enum": ["stretch", "keep"], "default": "stretch"},  # keep: its shape too
}
TEXT_STYLE: dict[str, Any] = {
    "text": {"type": "string", "maxLength": 2000},
    "font": {"type": "string", "maxLength": 64, "default": "Inter"},
    "weight": _int(100, 900, 400),
    "size": _num(6, 400, 32),
    "min_size": _num(6, 400),
    "max_lines": _int(1, 20),
    "line_height": _num(0.8, 3, 1.2),
    "color": COLOR,
    "align": {"enum": ["left", "center", "right", "start", "end"], "default": "start"},
    "valign": {"enum": ["top", "middle", "bottom"], "default": "top"},
    "uppercase": {"type": "boolean", "default": False},
    "initials": {"type": "boolean", "default": False, "description": "Jane Doe -> JD"},
    "max_height": _num(0, MAX_COORD),
    "max_width": _num(0, MAX_COORD),
    "words": WORDS,
    "strike": {"type": "boolean", "default": False, "description": "A line through the text."},
}
SHADOW: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["color"],
    "properties": {
        "color": COLOR,
        "blur": _num(0, 200, 0),
        "offset": PAIR,
        "spread": _num(-500, 500, 0),
    },
}
LAYERS: dict[str, dict[str, Any]] = {
    "rect": {"fill": PAINT, "radius": _num(0, MAX_COORD, 0), "shadow": SHADOW},
    "text": TEXT_STYLE,
    "image": {
        "src": {"type": "string", "pattern": f"^{REF}$"},
        "fit": {"enum": ["cover", "contain"], "default": "cover"},
        "align": {"enum": ["left", "center", "right"], "default": "center"},
        "radius": _num(0, MAX_COORD, 0),
        "placeholder": COLOR,
    },
    "pill": {
        **TEXT_STYLE,
        "fill": PAINT,
        "padding": _pair(0, 200),
        "radius": _num(0, MAX_COORD),
    },
    "rating": {
        "value": {"type": ["number", "string"], "pattern": f"^{REF}$", "minimum": 0},
        "max": _int(1, 10, 5),
        "color": COLOR,
        "empty_color": COLOR,
        "gap": _num(0, 200, 4),
    },
    "glow": {
        "color": COLOR,
        "strength": {**_num(0, 1, 0.5), "description": "The colour's share at the centre."},
    },
    "pattern": {
        "shape": {"enum": ["dots", "grid"], "default": "dots"},
        "color": COLOR,
        "step": _num(2, 1000, 28),
        "dot": {**_num(0.5, 100, 1.6), "description": "The radius of a dot."},
    },
    "stack": {
        "direction": {"enum": ["column", "row", "overlay"], "default": "column"},
        "gap": _num(0, MAX_COORD, 0),
        "align": {"enum": ["start", "center", "end"], "default": "start"},
        "justify": {"enum": ["start", "center", "end"], "default": "start"},
        "layers": {"type": "array", "items": {"$ref": "#/$defs/layer"}, "maxItems": 50},
        "fill": PAINT,
        "padding": _pair(0, 500),
        "radius": _num(0, MAX_COORD, 0),
    },
}
REQUIRED: dict[str, list[str]] = {
    "rect": ["fill"],
    "text": ["text"],
    "image": ["src"],
    "pill": ["text"],
    "rating": ["value"],
    "glow": ["color"],
    "pattern": ["color"],
    "stack": ["layers"],
}


def _layer_schema() -> dict[str, Any]:
    """One `if type == X then X's properties` per layer type: errors name the real property."""

    def then(kind: str) -> dict[str, Any]:
        props = {**COMMON, **LAYERS[kind]}
        return {"properties": props, "required": REQUIRED[kind], "additionalProperties": False}

    branches = [
        {"if": {"properties": {"type": {"const": k}}, "required": ["type"]}, "then": then(k)}
        for k in LAYERS
    ]
    return {
        "type": "object",
        "required": ["type"],
        "properties": {"type": {"enum": list(LAYERS)}},
        "allOf": branches,
    }


FIELD: dict[str, Any] = {
    "type": "object",
    "required": ["type"],
    "additionalProperties": False,
    "properties": {
        "type": {"enum": list(FIELD_TYPES)},
        "required": {"type": "boolean", "default": False},
        "max_length": _int(1, 1000),
        "default": {"type": ["string", "number"], "maxLength": 2048},
        "description": {"type": "string", "maxLength": 200},
    },
}

VARIANT: dict[str, Any] = {
    "type": "object",
    "required": ["aspect", "width", "height", "layers"],
    "additionalProperties": False,
    "properties": {
        "aspect": {**_pair(0, 100), "description": "[low, high): width / height in it."},
        "width": _num(200, 2400),
        "height": _num(200, 2400),
        "layers": {"type": "array", "items": {"$ref": "#/$defs/layer"}, "maxItems": MAX_LAYERS},
    },
}

DESIGN_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "/api/templates/schema.json",
    "title": "OG Image API template design",
    "description": "A card as data: fields and layers drawn in order (docs/templates.md).",
    "type": "object",
    "required": ["fields", "layers"],
    "additionalProperties": False,
    "properties": {
        "width": _int(200, 2400, 1200),
        "height": _int(200, 2400, 630),
        "background": PAINT,
        "colors": {
            "type": "object",
            "description": "Per-theme colour tokens, used as $name.",
            "propertyNames": {"enum": ["dark", "light"]},
            "minProperties": 1,
            "additionalProperties": {
                "type": "object",
                "propertyNames": {"pattern": f"^{NAME}$"},
                "maxProperties": 40,
                "additionalProperties": {
                    **MIX,
                    "type": ["string", "object"],
                    "pattern": f"^{HEX}$",
                },
            },
        },
        "fields": {
            "type": "object",
            "maxProperties": MAX_FIELDS,
            "propertyNames": {"pattern": f"^{NAME}$", "not": {"enum": list(RESERVED)}},
            "additionalProperties": FIELD,
        },
        "layers": {"type": "array", "items": {"$ref": "#/$defs/layer"}, "maxItems": MAX_LAYERS},
        "variants": {
            "type": "array",
            "description": "Layouts for other shapes: the first whose aspect holds w/h is drawn.",
            "maxItems": MAX_VARIANTS,
            "items": VARIANT,
        },
    },
    "$defs": {"layer": _layer_schema()},
}
