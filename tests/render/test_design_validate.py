"""The design format's checks: the published schema plus the rules across properties; every
problem with its JSON Pointer; limits; fuzzed for crashes."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from render.design.schema import DESIGN_SCHEMA
from render.design.validate import Problem, check_design, pointer
from resolvers.templates.designs import InvalidDesign, require_valid

EXAMPLE = {
    "width": 1200,
    "height": 630,
    "background": "#0b1020",
    "fields": {
        "title": {"type": "string", "required": True, "max_length": 120},
        "tagline": {"type": "string", "max_length": 200},
        "logo": {"type": "url"},
        "accent": {"type": "color", "default": "#3b82f6"},
    },
    "layers": [
        {"type": "rect", "box": [0, 0, 1200, 16], "fill": "{{accent}}"},
        {"type": "text", "box": [80, 120, 1040, 300], "text": "{{title}}", "font": "Inter",
         "weight": 700, "size": 72, "min_size": 36, "max_lines": 3, "color": "#ffffff",
         "align": "left"},
        {"type": "text", "box": [80, 440, 1040, 60], "text": "{{tagline}}", "size": 32,
         "color": "#cbd5e1"},
        {"type": "image", "box": [80, 520, 64, 64], "src": "{{logo}}", "fit": "cover",
         "radius": 32, "if": "logo"},
    ],
}  # fmt: skip


def paths(problems: list[Problem]) -> set[str]:
    return {p.path for p in problems}


def test_the_documented_example_and_the_extensions_are_valid():
    assert check_design(EXAMPLE) == []
    rich = copy.deepcopy(EXAMPLE)
    rich["colors"] = {"dark": {"text": "#fff", "muted": "#94a3b8"},
                      "light": {"text": "#0f172a", "muted": "#475569"}}  # fmt: skip
    rich["fields"]["rating"] = {"type": "number", "default": 4.5}
    rich["background"] = {"gradient": {"angle": 135, "stops": ["#0f172a", "{{accent}}"]}}
    rich["layers"].append({
        "type": "stack", "box": [80, 80, 1040, 400], "gap": 16, "layers": [
            {"type": "text", "text": "{{title}}", "color": "$text", "max_lines": 3},
            {"type": "pill", "text": "New", "fill": "{{accent}}", "color": "$text"},
            {"type": "rating", "value": "{{rating}}", "size": [160, 28], "color": "#fbbf24"},
            {"type": "stack", "direction": "row", "layers": [
                {"type": "rect", "size": [40, 40], "fill": "$muted", "radius": 20,
                 "shadow": {"color": "#00000080", "blur": 12, "offset": [0, 4]}}]},
        ]})  # fmt: skip
    assert check_design(rich) == []


def test_variants_are_checked_like_the_layers_with_their_pointers():
    ok = copy.deepcopy(EXAMPLE)
    ok["variants"] = [{"aspect": [0.8, 1.3], "width": 1200, "height": 1200,
                       "layers": copy.deepcopy(EXAMPLE["layers"])}]  # fmt: skip
    assert check_design(ok) == []
    bad = copy.deepcopy(ok)
    bad["variants"][0]["layers"][1]["text"] = "{{author}}"
    bad["variants"][0]["aspect"] = [2, 1]
    bad["variants"].append({"aspect": [0, 1], "width": 100, "layers": [{"type": "rect"}]})
    assert paths(check_design(bad)) == {
        "/variants/0/layers/1/text", "/variants/0/aspect", "/variants/1",
        "/variants/1/width", "/variants/1/layers/0", }  # fmt: skip


def test_every_problem_is_listed_with_its_pointer():
    bad = copy.deepcopy(EXAMPLE)
    bad["fields"]["Title"] = {"type": "text"}
    bad["fields"]["width"] = {"type": "string"}
    bad["fields"]["a/b"] = {"type": "string"}
    bad["fields"]["accent"]["default"] = "blue"
    bad["layers"][0]["fill"] = "{{tagline}}"
    bad["layers"][1].update(size=1000, min_size=50, text="{{ title }} by {{author}}", font="Comic")
    bad["layers"][2]["box"] = [1, 2, 3]
    bad["layers"][3].update(fit="stretch", src="{{tagline}}", **{"if": "missing"})
    bad["layers"].append({"type": "circle", "box": [0, 0, 1, 1]})
    bad["layers"].append({"type": "text", "box": [0, 0, 9, 9], "text": "x", "colour": "#fff"})
    bad["layers"].append({"type": "rect", "box": [0, 0, 9, 9], "fill": "$brand"})
    found = check_design(bad)
    assert paths(found) == {
        "/fields/Title", "/fields/Title/type", "/fields/width", "/fields/a~1b",
        "/fields/accent/default", "/layers/0/fill", "/layers/1/size", "/layers/1/text",
        "/layers/1/font", "/layers/2/box", "/layers/3/fit", "/layers/3/src", "/layers/3/if",
        "/layers/4/type", "/layers/5", "/layers/6/fill",
    }  # fmt: skip
    text = {p.message for p in found if p.path == "/layers/1/text"}
    assert text == {"{{ and }} only wrap a field name, such as {{title}}",
                    "{{author}} is not a declared field"}  # fmt: skip
    assert any("tagline is a string field" in p.message for p in found)


def test_title_is_a_required_string():
    design = copy.deepcopy(EXAMPLE)
    del design["fields"]["title"]
    assert check_design(design) == [
        Problem("/fields", "every design declares a title field"),
        Problem("/layers/1/text", "{{title}} is not a declared field"),
    ]
    design["fields"]["title"] = {"type": "string"}
    assert paths(check_design(design)) == {"/fields/title"}


def test_limits():
    big = copy.deepcopy(EXAMPLE)
    big["layers"][1]["name"] = "x" * 70_000
    assert check_design(big) == [
        Problem("", f"the design is {len(json.dumps(big, separators=(',', ':')))} bytes; "
                "at most 65536 are allowed")]  # fmt: skip
    many = copy.deepcopy(EXAMPLE)
    many["layers"] = [{"type": "rect", "box": [0, 0, 1, 1], "fill": "#fff"}] * 51
    assert paths(check_design(many)) == {"/layers"}
    fields = copy.deepcopy(EXAMPLE)
    fields["fields"].update({f"f{i}": {"type": "string"} for i in range(27)})
    assert paths(check_design(fields)) == {"/fields"}
    images = copy.deepcopy(EXAMPLE)
    images["layers"] += [images["layers"][3]] * 3 + [
        {"type": "stack", "box": [0, 0, 9, 9], "layers": [{**images["layers"][3], "size": [9, 9]}]}
    ]
    del images["layers"][-1]["layers"][0]["box"]
    assert [p.message for p in check_design(images)] == ["5 image layers; at most 4"]
    nested = {"type": "text", "text": "deep"}
    for _ in range(4):
        nested = {"type": "stack", "box": [0, 0, 9, 9], "layers": [nested]}
    deep = {**copy.deepcopy(EXAMPLE), "layers": [nested]}
    assert paths(check_design(deep)) == {"/layers/0/layers/0/layers/0/layers"}


def test_effects_are_counted_per_layout_in_stacks_too():
    glow = {"type": "glow", "box": [0, 0, 1200, 630], "color": "#3b82f6", "if": "title"}
    effects = [
        glow,
        {"type": "pattern", "box": [0, 0, 1200, 630], "color": "#fff"},
        {"type": "rect", "box": [0, 0, 9, 9], "fill": "#fff", "shadow": {"color": "#000"}},
        {"type": "rect", "box": [0, 0, 9, 9], "fill": {"gradient": {"stops": ["#000", "#fff"]}}},
        {"type": "text", "box": [0, 0, 9, 9], "text": "{{title}}", "opacity": 0.5},
        {"type": "stack", "box": [0, 0, 9, 9], "direction": "overlay", "layers": [glow] * 3},
    ]  # eight effects: the most a layout may have
    eight = {**copy.deepcopy(EXAMPLE), "layers": effects}
    assert check_design(eight) == []
    nine = {**copy.deepcopy(EXAMPLE), "layers": [*effects, glow]}
    assert [(p.path, p.message) for p in check_design(nine)] == [
        (
            "/layers",
            ("9 effects (glows, patterns, shadows, gradient fills, opacity below 1); at most 8"),
        )
    ]
    variant = {"aspect": [0, 1], "width": 1200, "height": 630, "layers": [*effects, glow]}
    both = {**copy.deepcopy(EXAMPLE), "layers": effects, "variants": [variant]}
    assert paths(check_design(both)) == {"/variants/0/layers"}


def test_boxes_sizes_and_shadows_reach_a_quarter_canvas_beyond_it():
    rect = {"type": "rect", "box": [-300, -157.5, 1800, 945], "fill": "#fff"}  # at the edge
    sized = {"type": "rect", "size": [1800, 945], "fill": "#fff"}
    shadow = {"color": "#000", "blur": 20, "spread": 10, "offset": [0, 40]}  # grows by 40 px
    shaded = {"type": "rect", "box": [-260, -117.5, 1720, 825], "fill": "#fff", "shadow": shadow}
    glow = {"type": "glow", "box": [-10000, -10000, 10000, 10000], "color": "#fff"}  # exempt
    stack = {"type": "stack", "box": [0, 0, 600, 300], "layers": [sized]}
    at_edge = {**copy.deepcopy(EXAMPLE), "layers": [rect, shaded, glow, stack]}
    assert check_design(at_edge) == []
    past = copy.deepcopy(at_edge)
    past["layers"][0]["box"][2] = 1800.5  # its right edge at 1500.5
    past["layers"][1]["shadow"]["offset"] = [0, 40.5]
    past["layers"][3]["layers"][0]["size"][1] = 946
    area = "[-300, 1500] x [-157.5, 787.5] (a quarter of the 1200x630 canvas around it)"
    assert [(p.path, p.message) for p in check_design(past)] == [
        ("/layers/0/box", f"the box reaches outside {area}"),
        ("/layers/1/shadow", f"the shadow (spread, 1.5 x blur, offset) reaches outside {area}"),
        ("/layers/3/layers/0/size", "the size is larger than 1800x945: 1.5 times the canvas"),
    ]
    huge = {**copy.deepcopy(EXAMPLE), "width": 200, "height": 200}  # 120,000 px at 2400x2400
    huge["layers"] = [{"type": "rect", "box": [0, 0, 10000, 10000], "fill": "#fff", "radius": 9}]
    assert [(p.path, p.message) for p in check_design(huge)] == [
        ("/layers/0/box", "the box reaches outside [-50, 250] x [-50, 250] (a quarter of the "
         "200x200 canvas around it)")
    ]  # fmt: skip
    variant = {"aspect": [0, 1], "width": 400, "height": 800, "layers": [rect]}  # its own size
    assert paths(check_design({**copy.deepcopy(EXAMPLE), "variants": [variant]})) == {
        "/variants/0/layers/0/box"
    }


def test_nothing_executes_references_are_plain_names():
    for text in ("{{title.upper()}}", "{{__class__}}", "{%print(1)%}{{", "{{title|safe}}"):
        design = copy.deepcopy(EXAMPLE)
        design["layers"][1]["text"] = text
        assert paths(check_design(design)) == {"/layers/1/text"}, text
    design = copy.deepcopy(EXAMPLE)
    design["layers"][1]["html"] = "<b>hi</b>"
    assert paths(check_design(design)) == {"/layers/1"}


def test_pointer_escapes():
    assert pointer(["a/b", "c~d", 0]) == "/a~1b/c~0d/0"


def test_invalid_design_error_lists_every_problem():
    with pytest.raises(InvalidDesign) as info:
        require_valid({"fields": {}, "layers": "no"})
    err = info.value
    assert (err.code, err.status) == ("INVALID_DESIGN", 400)
    assert err.extra["errors"] == [
        {"path": "/fields", "message": "every design declares a title field"},
        {"path": "/layers", "message": "'no' is not of type 'array'"},
    ]
    assert require_valid(EXAMPLE) is EXAMPLE


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=30,
)
KEYS = st.sampled_from(
    [
        "type",
        "box",
        "fill",
        "text",
        "src",
        "if",
        "layers",
        "size",
        "color",
        "gradient",
        "stops",
        "default",
        "required",
        "font",
        "value",
        "shadow",
    ]
)


def _mutate(design, data):
    """Replace one value somewhere inside `design` by arbitrary JSON, or add a key."""
    node = design
    while isinstance(node, dict | list) and node and data.draw(st.booleans()):
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        child = node[data.draw(st.sampled_from(keys))]
        if not isinstance(child, dict | list) or not child:
            break
        node = child
    if isinstance(node, dict):
        node[data.draw(KEYS | st.text(max_size=6))] = data.draw(JSON)
    elif isinstance(node, list) and node:
        node[data.draw(st.integers(0, len(node) - 1))] = data.draw(JSON)


def _resolves(design, path: str) -> bool:
    node = design
    for part in path.split("/")[1:]:
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False
    return True


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_fuzzed_designs_never_crash_and_point_at_real_places(data):
    design = copy.deepcopy(EXAMPLE)
    for _ in range(data.draw(st.integers(1, 4))):
        _mutate(design, data)
    problems = check_design(design)
    assert all(isinstance(p.message, str) and p.message for p in problems)
    for p in problems:  # a name that breaks a rule is pointed at as a member of its object
        assert _resolves(design, p.path), p


@settings(max_examples=100, deadline=None)
@given(JSON)
def test_any_json_value_is_answered(value):
    problems = check_design(value)
    assert (problems == []) is False or isinstance(value, dict)


def test_the_schema_is_draft_2020_12():
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(DESIGN_SCHEMA)
    assert Draft202012Validator(DESIGN_SCHEMA).is_valid(EXAMPLE)


def test_the_documented_example_designs_are_valid():
    from pathlib import Path

    examples = sorted((Path(__file__).parents[2] / "docs" / "examples").glob("*.json"))
    assert len(examples) == 3
    own = ("font_dejavuserifbold0",)  # podcast.json's uploaded font (bench/design_sheet.py)
    for path in examples:
        assert check_design(json.loads(path.read_text()), own) == [], path.name
    podcast = json.loads((examples[0].parent / "podcast.json").read_text())
    assert [p.path for p in check_design(podcast)] == ["/layers/3/layers/2/font"]
