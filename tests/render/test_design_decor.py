"""The design format's decorations and flow aids (render/design/decor.py, palette.py,
lettering.py): glows, patterns, mixed tokens, the built-ins' colour parameters, `space_before`,
`offset`, `words`, `strike` and `if_contains`; probed by pixels."""

from __future__ import annotations

import json

import numpy as np

from render.card import render_card
from render.design import engine
from render.design.validate import check_design
from render.draw import _BG_CACHE
from render.spec import CardSpec
from tests.render.test_design_engine import WHITE, design, draw, ink

TEXT = {"type": "text", "text": "{{title}}", "size": 40, "max_lines": 1, "color": "#000000"}


def test_a_glow_fades_from_its_centre_and_stops_at_its_reach():
    d = design({"type": "glow", "box": [100, 50, 200, 200], "color": "#ff0000", "strength": 0.5})
    arr = draw(d)
    assert tuple(arr[150, 200]) == (255, 128, 128)  # half red at the centre
    edge = arr[150, 300]  # one radius out: 0.5 * e^-2 of the way to red
    assert tuple(edge) == (255, round(255 - 255 * 0.5 * np.exp(-2)), 238)
    x0, _, x1, y1 = ink(arr, WHITE)
    assert x0 >= 200 - 170 and x1 <= 200 + 171 and y1 <= 150 + 171  # 1.7 radii


def test_patterns_of_dots_and_grid_lines_fill_their_box():
    dots = draw(design({"type": "pattern", "box": [100, 0, 200, 100], "step": 20, "dot": 2,
                        "color": "#000000"}))  # fmt: skip
    assert tuple(dots[10, 110]) == (0, 0, 0)  # a dot at the centre of each 20 px tile
    assert tuple(dots[10, 130]) == (0, 0, 0) and tuple(dots[20, 120]) == WHITE
    assert ink(dots) == (108, 8, 293, 93)
    grid = draw(design({"type": "pattern", "shape": "grid", "box": [0, 0, 600, 300], "step": 50,
                        "color": "#0000ff"}))  # fmt: skip
    assert tuple(grid[0, 7]) == (0, 0, 255) and tuple(grid[100, 7]) == (0, 0, 255)
    assert tuple(grid[7, 50]) == (0, 0, 255) and tuple(grid[7, 7]) == WHITE


def test_mixed_tokens_and_the_builtins_colour_parameters():
    colours = {"dark": {"bg0": "#000000", "text": "#ffffff",
                        "half": {"mix": ["$bg0", "$text", 0.5]}}}  # fmt: skip
    d = design(
        {"type": "rect", "box": [0, 0, 100, 100], "fill": "$half"},
        background="$bg0",
        colors=colours,
        fields={"bg_color": {"type": "color"}},
    )
    assert tuple(draw(d)[50, 50]) == (128, 128, 128)
    red = draw(d, fields={"bg_color": "#ff0000"})  # bg0 red; text stays white (contrast)
    assert tuple(red[200, 300]) == (255, 0, 0) and tuple(red[50, 50]) == (255, 128, 128)
    undeclared = {k: v for k, v in d.items() if k != "fields"} | {"fields": design()["fields"]}
    assert tuple(draw(undeclared, fields={})[200, 300]) == (0, 0, 0)


def test_space_before_and_offset():
    d = design({"type": "stack", "box": [0, 0, 600, 300], "gap": 10, "layers": [
        {"type": "rect", "size": [50, 20], "fill": "#ff0000"},
        {"type": "rect", "size": [50, 20], "fill": "#0000ff", "space_before": 60},
        {"type": "rect", "size": [50, 20], "fill": "#00ff00", "offset": [100, 5]}]})  # fmt: skip
    arr = draw(d)
    assert ink(arr) == (0, 0, 150, 135)
    assert tuple(arr[85, 10]) == (0, 0, 255) and tuple(arr[75, 10]) == WHITE
    assert tuple(arr[120, 110]) == (0, 255, 0) and tuple(arr[112, 10]) == WHITE


def test_words_strike_and_contains():
    fields = {"date": {"type": "string"}, "trend": {"type": "string"}}
    d = design(
        {**TEXT, "box": [0, 0, 600, 60], "text": "{{date}}", "words": [0, 2]},
        {**TEXT, "box": [0, 100, 600, 60], "text": "{{date}}", "words": [2], "strike": True},
        {"type": "rect", "box": [0, 200, 50, 50], "fill": "#ff0000",
         "if_contains": {"fields": ["trend"], "any": ["↓", "-"]}},
        {"type": "rect", "box": [100, 200, 50, 50], "fill": "#00ff00",
         "unless_contains": {"fields": ["trend"], "any": ["↓", "-"]}},
        fields=fields,
    )  # fmt: skip
    whole = draw(design({**TEXT, "box": [0, 0, 600, 60], "text": "Apr 24"}, fields=fields))
    arr = draw(d, fields={"date": "Apr 24, 2026", "trend": "-3%"})
    assert np.array_equal(arr[:60], whole[:60])
    struck = arr[100:160]
    assert ink(struck)[0] == 0 and (struck[int(48 * 0.55)] < 60).all(axis=1).sum() > 60
    assert tuple(arr[225, 25]) == (255, 0, 0) and tuple(arr[225, 125]) == WHITE
    up = draw(d, fields={"date": "Apr 24", "trend": "+3%"})
    assert ink(up[100:160]) is None  # no third word
    assert tuple(up[225, 25]) == WHITE and tuple(up[225, 125]) == (0, 255, 0)


def test_static_leading_decorations_are_painted_with_the_cached_background():
    d = design(
        {"type": "rect", "box": [0, 0, 600, 20], "fill": "#0000ff"},
        {"type": "glow", "box": [0, 0, 300, 300], "color": "$ink"},
        {**TEXT, "box": [0, 100, 600, 60]},
        colors={"dark": {"ink": "#ff0000"}},
    )
    source = json.dumps(d)
    assert engine.load(source) == d
    spec = CardSpec.build("Hello", design=source, width=600, height=300)
    first = render_card(spec)
    assert len([k for k in _BG_CACHE._items if source in k]) == 1
    assert render_card(spec) == first  # from the cached background: the same bytes
    canvas = engine.draw_design(d, {"title": "Hello"}, {}, "dark", 600, 300)  # not cached
    assert np.array_equal(np.asarray(canvas.im), draw(d).astype(np.uint8))


def test_the_new_parts_are_checked_with_pointers():
    bad = {
        "fields": {"title": {"type": "string", "required": True}},
        "colors": {"dark": {"a": "#000", "m": {"mix": ["$nope", "#fff", 0.5]},
                            "n": {"mix": ["$m", "#fff", 2]}}},
        "layers": [
            {"type": "glow", "box": [0, 0, 10, 10], "color": "$a", "strength": 2},
            {"type": "pattern", "box": [0, 0, 10, 10], "color": "$a", "shape": "waves"},
            {"type": "stack", "box": [0, 0, 10, 10], "layers": [{"type": "glow", "color": "$a"}]},
            {**TEXT, "box": [0, 0, 10, 10], "words": [-1], "offset": [1],
             "if_contains": {"fields": ["nope"], "any": []}},
        ],
    }  # fmt: skip
    paths = {p.path for p in check_design(bad)}
    assert paths >= {
        "/colors/dark/m/mix/0",
        "/colors/dark/n/mix/0",
        "/colors/dark/n/mix/2",
        "/layers/0/strength",
        "/layers/1/shape",
        "/layers/2/layers/0",
        "/layers/3/words/0",
        "/layers/3/offset",
        "/layers/3/if_contains/any",
        "/layers/3/if_contains/fields/0",
    }, paths


def test_aspect_keep_holds_a_shape_at_other_sizes():
    circle = {"type": "rect", "box": [250, 100, 100, 100], "fill": "#ff0000", "radius": 50}
    d = design(circle, {**circle, "box": [0, 0, 100, 100], "aspect": "keep"})
    assert ink(draw(d)) == (0, 0, 350, 200)  # at its own size: the same as stretched
    tall = draw(d, width=600, height=600)  # twice as tall: stretched 100 x 200, kept 100 x 100
    stretched, kept = ink(tall[:, 200:]), ink(tall[:, :200])
    assert stretched == (50, 200, 150, 400)
    assert kept == (0, 50, 100, 150)  # centred where the stretched box's centre is
