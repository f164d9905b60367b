"""Hypothesis strategies for designs the validator accepts, at the edges of every range: the
engine must draw each of them (tests/render/test_design_engine.py, the HTTP fuzz)."""

from __future__ import annotations

import math

from hypothesis import strategies as st

from render.design import reach

FIELDS = {
    "title": {"type": "string", "required": True},
    "tag": {"type": "string"},
    "logo": {"type": "url"},
    "n": {"type": "number", "default": 3.5},
    "accent": {"type": "color", "default": "#3b82f6"},
}
coord = st.integers(-300, 2500) | st.floats(-300, 2500, allow_nan=False)
length = st.integers(0, 2500) | st.floats(0, 2500, allow_nan=False)
box = st.tuples(coord, coord, length, length).map(list)
size = st.tuples(length, length).map(list)
hexes = st.from_regex(r"#(?:[0-9a-f]{3}|[0-9a-f]{6}|[0-9a-f]{8})", fullmatch=True)
colour = hexes | st.sampled_from(["{{accent}}", "$ink"])
gradient = st.fixed_dictionaries({
    "gradient": st.fixed_dictionaries(
        {"stops": st.lists(colour, min_size=2, max_size=8)},
        optional={"angle": st.floats(-360, 360, allow_nan=False)},
    )
})  # fmt: skip
paint = colour | gradient
texts = st.sampled_from(["{{title}}", "{{tag}} · {{title}}", "", "{{n}} ★"]) | st.text(max_size=40)
contains = st.fixed_dictionaries({
    "fields": st.lists(st.sampled_from(["tag", "title", "n"]), min_size=1, max_size=3),
    "any": st.lists(st.text(min_size=1, max_size=4), min_size=1, max_size=4),
})  # fmt: skip
common = {
    "if": st.sampled_from(["tag", "logo", "title"]),
    "unless": st.sampled_from(["tag", "logo"]),
    "if_contains": contains,
    "unless_contains": contains,
    "opacity": st.floats(0, 1),
    "offset": st.tuples(coord, coord).map(list),
    "space_before": length,
    "aspect": st.sampled_from(["stretch", "keep"]),
}
text_style = {
    "font": st.just("Inter"),
    "weight": st.integers(1, 9).map(lambda w: w * 100),
    "size": st.floats(6, 400),
    "max_lines": st.integers(1, 20),
    "line_height": st.floats(0.8, 3),
    "color": colour,
    "align": st.sampled_from(["left", "center", "right", "start", "end"]),
    "valign": st.sampled_from(["top", "middle", "bottom"]),
    "uppercase": st.booleans(),
    "strike": st.booleans(),
    "words": st.lists(st.integers(0, 100), min_size=1, max_size=2),
}


def _layer(kind: str, required: dict, optional: dict, in_stack: bool):
    place = {"size": size} if in_stack else {"box": box}
    if in_stack and kind not in ("rect", "image", "glow", "pattern"):
        place = {}  # texts and pills size to their content ("size" is their font size)
        if kind in ("rating", "stack"):
            optional = {**optional, "size": size}
    return st.fixed_dictionaries(
        {"type": st.just(kind), **place, **required}, optional={**common, **optional}
    )


def layers(in_stack: bool, depth: int = 1):
    kinds = [
        _layer("rect", {"fill": paint}, {"radius": length, "shadow": st.fixed_dictionaries(
            {"color": colour}, optional={"blur": st.floats(0, 200), "offset": st.tuples(
                coord, coord).map(list), "spread": st.floats(-500, 500)})}, in_stack),
        _layer("text", {"text": texts}, {**text_style, "min_size": st.just(6)}, in_stack),
        _layer("pill", {"text": texts}, {**text_style, "fill": paint, "radius": length,
               "padding": st.tuples(st.floats(0, 200), st.floats(0, 200)).map(list)}, in_stack),
        _layer("rating", {"value": st.floats(0, 20) | st.just("{{n}}")},
               {"max": st.integers(1, 10), "color": colour, "empty_color": colour,
                "gap": st.floats(0, 200)}, in_stack),
        _layer("glow", {"color": colour}, {"strength": st.floats(0, 1)}, in_stack),
        _layer("pattern", {"color": colour}, {"shape": st.sampled_from(["dots", "grid"]),
               "step": st.floats(2, 1000), "dot": st.floats(0.5, 100)}, in_stack),
        _layer("image", {"src": st.just("{{logo}}")},
               {"fit": st.sampled_from(["cover", "contain"]), "radius": length,
                "placeholder": colour}, in_stack),
    ]  # fmt: skip
    if depth < 3:
        kinds.append(
            _layer("stack", {"layers": st.lists(layers(True, depth + 1), max_size=4)},
                   {"direction": st.sampled_from(["column", "row"]), "gap": length,
                    "align": st.sampled_from(["start", "center", "end"]),
                    "justify": st.sampled_from(["start", "center", "end"])}, in_stack)
        )  # fmt: skip
    return st.one_of(kinds)


aspects = st.tuples(st.floats(0, 50), st.floats(0, 50)).map(sorted).filter(lambda a: a[0] < a[1])
variants = st.lists(
    st.fixed_dictionaries(
        {
            "aspect": aspects.map(list),
            "width": st.integers(200, 2400),
            "height": st.integers(200, 2400),
            "layers": st.lists(layers(False), max_size=4),
        }
    ),
    max_size=2,
)
designs = st.fixed_dictionaries(
    {"fields": st.just(FIELDS), "layers": st.lists(layers(False), min_size=1, max_size=6),
     "colors": st.just({"dark": {"ink": "#ffffff", "bg": "#000"},
                        "light": {"ink": {"mix": ["$bg", "#3b82f6", 0.5]}, "bg": "#fff"}})},
    optional={"width": st.integers(200, 2400), "height": st.integers(200, 2400),
              "background": paint, "variants": variants},
)  # fmt: skip


def count_images(layer_list: list) -> int:
    return sum(
        (layer["type"] == "image") + count_images(layer.get("layers", [])) for layer in layer_list
    )


def _effect(layer: dict) -> bool:
    """Glows, patterns, shadows, gradient fills and opacity below 1 (at most 8 a layout)."""
    return (
        layer["type"] in ("glow", "pattern")
        or "shadow" in layer
        or isinstance(layer.get("fill"), dict)
        or layer.get("opacity", 1) < 1
    )


def _trim_effects(layer_list: list, room: list[int]) -> list:
    """The layers without those past the layout's effects limit (`room`: how many are left)."""
    kept = []
    for layer in layer_list:
        if _effect(layer):
            if room[0] == 0:
                continue
            room[0] -= 1
        if "layers" in layer:
            layer = {**layer, "layers": _trim_effects(layer["layers"], room)}
        kept.append(layer)
    return kept


def _span(start: float, length: float, extent: float) -> tuple[float, float]:
    """start and length moved into [-extent / 4, 5 * extent / 4] (render.design.reach)."""
    low, high = -extent / 4, 1.25 * extent
    start = min(max(start, low), high)
    length = min(length, high - start)
    while start + length > high:  # a float's last bit
        length = math.nextafter(length, 0)
    return start, length


def _reach(layer_list: list, w: float, h: float) -> list:
    """The layers with their boxes and sizes within reach of the w x h canvas."""
    out = []
    for layer in layer_list:
        layer = dict(layer)
        if "box" in layer:
            (x, bw), (y, bh) = (
                _span(layer["box"][0], layer["box"][2], w),
                _span(layer["box"][1], layer["box"][3], h),
            )
            layer["box"] = [x, y, bw, bh]
        if isinstance(layer.get("size"), list):
            layer["size"] = [min(layer["size"][0], 1.5 * w), min(layer["size"][1], 1.5 * h)]
        if any(True for _ in reach.problems(layer, w, h)):  # its shadow reaches too far
            del layer["shadow"]
        if "layers" in layer:
            layer["layers"] = _reach(layer["layers"], w, h)
        out.append(layer)
    return out


def _layout(layout: dict) -> list:
    w, h = layout.get("width", 1200), layout.get("height", 630)
    return _reach(_trim_effects(layout["layers"], [8]), w, h)


def _within_limits(d: dict) -> dict:
    out = {**d, "layers": _layout(d)}
    if "variants" in d:
        out["variants"] = [{**v, "layers": _layout(v)} for v in d["variants"]]
    return out


valid_designs = designs.map(_within_limits).filter(
    lambda d: all(count_images(v["layers"]) <= 4 for v in [d, *d.get("variants", [])])
)
