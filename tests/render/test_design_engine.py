"""The design engine (render/design): layers drawn where the design says, with the built-ins'
text fitting; probed by pixels."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from render.card import render_card
from render.design.validate import check_design
from render.spec import CardSpec
from tests.render.conftest import decode
from tests.render.design_strategies import valid_designs

WHITE, RED, BLUE = (255, 255, 255), (255, 0, 0), (0, 0, 255)
FIELDS = {"title": {"type": "string", "required": True}}


def design(*layers, fields=None, **top) -> dict:
    """A 600x300 white design with `layers` and the `fields` they use besides title."""
    d = {
        "width": 600,
        "height": 300,
        "background": "#ffffff",
        "fields": {**FIELDS, **(fields or {})},
        "layers": list(layers),
        **top,
    }
    assert check_design(d) == [], check_design(d)
    return d


def draw(d: dict, title: str = "Hello", images=None, **kw) -> np.ndarray:
    fields = kw.pop("fields", {})
    kw.setdefault("width", d.get("width", 1200))
    kw.setdefault("height", d.get("height", 630))
    spec = CardSpec.build(title, fields=fields, images=images or {}, design=json.dumps(d), **kw)
    return np.asarray(decode(render_card(spec)).convert("RGB")).astype(int)


def ink(arr: np.ndarray, bg=WHITE) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1) of the pixels that differ from `bg`."""
    ys, xs = np.nonzero(np.abs(arr - np.array(bg)).sum(axis=2) > 30)
    return (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1) if len(xs) else None


def png(colour=(200, 30, 30), size=(40, 20)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "PNG")
    return buf.getvalue()


def test_rect_at_its_box_with_field_colours_and_defaults():
    d = design(
        {"type": "rect", "box": [100, 50, 200, 100], "fill": "{{accent}}"},
        fields={"accent": {"type": "color", "default": "#ff0000"}},
    )
    arr = draw(d)
    assert ink(arr) == (100, 50, 300, 150)
    assert tuple(arr[100, 200]) == RED
    assert tuple(draw(d, fields={"accent": "#0000ff"})[100, 200]) == BLUE


def test_text_substitution_wraps_and_stays_in_its_box():
    box = [50, 40, 300, 120]
    d = design(
        {
            "type": "text",
            "box": box,
            "text": "{{title}}!",
            "size": 40,
            "min_size": 20,
            "max_lines": 2,
            "color": "#000000",
        }
    )
    short = draw(d, "Hi")
    long = draw(d, "A much longer title that has to wrap and shrink and finally be cut off " * 3)
    x0, y0, x1, y1 = ink(long)
    assert x0 >= 50 and y0 >= 40 and x1 <= 350 and y1 <= 160
    assert ink(short)[2] < 150 < x1  # the short one is short
    assert ink(draw(d, "Hi")) == ink(short)  # deterministic


def test_if_and_unless():
    d = design(
        {"type": "rect", "box": [0, 0, 100, 100], "fill": "#ff0000", "if": "badge"},
        {"type": "rect", "box": [200, 0, 100, 100], "fill": "#0000ff", "unless": "badge"},
        fields={"badge": {"type": "string"}},
    )
    assert ink(draw(d)) == (200, 0, 300, 100)
    assert ink(draw(d, fields={"badge": "New"})) == (0, 0, 100, 100)
    assert ink(draw(d, fields={"badge": "  "})) == (200, 0, 300, 100)


def test_gradients_follow_the_css_angle():
    d = design(background={"gradient": {"angle": 90, "stops": ["#ff0000", "#0000ff"]}})
    arr = draw(d)
    assert arr[150, 0][0] > 250 and arr[150, 599][2] > 250  # left red, right blue
    assert np.array_equal(arr[0], arr[299])  # 90deg: same in every row
    three = design(
        background={"gradient": {"angle": 180, "stops": ["#ff0000", "#00ff00", "#0000ff"]}}
    )
    arr = draw(three)
    assert arr[0, 300][0] > 245 and arr[150, 300][1] > 245 and arr[299, 300][2] > 245


def test_other_sizes_scale_the_layout():
    d = design({"type": "rect", "box": [100, 50, 200, 100], "fill": "#ff0000"})
    assert ink(draw(d, width=1200, height=600)) == (200, 100, 600, 300)
    assert ink(draw(d, width=300, height=300)) == (50, 50, 150, 150)


def test_theme_tokens():
    d = design(background="$bg", colors={"dark": {"bg": "#000000"}, "light": {"bg": "#ffffff"}})
    assert tuple(draw(d, theme="dark")[5, 5]) == (0, 0, 0)
    assert tuple(draw(d, theme="light")[5, 5]) == WHITE
    one = design(background="$bg", colors={"light": {"bg": "#00ff00"}})
    assert tuple(draw(one, theme="dark")[5, 5]) == (0, 255, 0)


def test_a_column_stack_flows():
    d = design(
        {
            "type": "stack",
            "box": [20, 20, 560, 260],
            "gap": 10,
            "layers": [
                {
                    "type": "text",
                    "text": "{{title}}",
                    "size": 40,
                    "max_lines": 3,
                    "color": "#000000",
                },
                {"type": "rect", "size": [50, 20], "fill": "#ff0000"},
            ],
        }
    )

    def red_top(arr):
        return int(np.nonzero((arr[:, :, 0] > 200) & (arr[:, :, 1] < 50))[0].min())

    one_line = red_top(draw(d, "Short"))
    two_lines = red_top(draw(d, "A title long enough to wrap onto a second line here"))
    assert two_lines - one_line == 48  # one more line of 40 px x 1.2


def test_a_row_stack_places_each_after_the_one_before_and_skips_empty_text():
    d = design(
        {
            "type": "stack",
            "box": [0, 0, 600, 100],
            "direction": "row",
            "gap": 20,
            "align": "center",
            "layers": [
                {"type": "text", "text": "{{name}}", "size": 30, "color": "#000000"},
                {"type": "rect", "size": [40, 40], "fill": "#ff0000"},
            ],
        },
        fields={"name": {"type": "string"}},
    )

    def red_left(arr):
        return int(np.nonzero((arr[:, :, 0] > 200) & (arr[:, :, 1] < 50))[1].min())

    assert red_left(draw(d)) == 0  # the empty name takes no room
    assert red_left(draw(d, fields={"name": "Jane"})) < red_left(
        draw(d, fields={"name": "Jane Doe"})
    )
    assert ink(draw(d))[1:4:2] == (30, 70)  # centred across the row


def test_pills_size_to_their_text():
    d = design(
        {
            "type": "pill",
            "box": [20, 20, 500, 60],
            "text": "{{badge}}",
            "fill": "#0000ff",
            "color": "#ffffff",
        },
        fields={"badge": {"type": "string"}},
    )
    short = ink(draw(d, fields={"badge": "New"}))
    long = ink(draw(d, fields={"badge": "Engineering blog"}))
    assert short[0] == long[0] == 20 and short[2] < long[2] < 520
    right = design({**d["layers"][0], "align": "right"}, fields={"badge": {"type": "string"}})
    assert ink(draw(right, fields={"badge": "New"}))[2] == 520


def test_shadow_opacity_and_alpha_colours():
    d = design(
        {
            "type": "rect",
            "box": [200, 100, 200, 100],
            "fill": "#ffffff",
            "shadow": {"color": "#000000", "blur": 20, "offset": [0, 20]},
        }
    )
    arr = draw(d)
    assert arr[210, 300].sum() < 3 * 200 and tuple(arr[150, 300]) == WHITE
    half = design(
        {"type": "rect", "box": [0, 0, 100, 100], "fill": "#00000080"},
        {"type": "rect", "box": [200, 0, 100, 100], "fill": "#000000", "opacity": 0.5},
    )
    arr = draw(half)
    assert abs(arr[50, 50][0] - 127) <= 1 and abs(arr[50, 250][0] - 127) <= 1


def test_rating_fills_to_its_value():
    d = design(
        {
            "type": "rating",
            "box": [0, 0, 5 * 40 + 4 * 10, 40],
            "value": "{{stars}}",
            "gap": 10,
            "color": "#ff0000",
            "empty_color": "#0000ff",
        },
        fields={"stars": {"type": "number"}},
    )
    arr = draw(d, fields={"stars": "3.5"})
    red = np.nonzero((arr[:, :, 0] > 200) & (arr[:, :, 2] < 60))[1]
    blue = np.nonzero((arr[:, :, 2] > 200) & (arr[:, :, 0] < 60))[1]
    assert red.max() < 3 * 50 + 20 < blue.min() + 5 and blue.max() > 200
    assert ink(draw(d)) is None and ink(draw(d, fields={"stars": "many"})) is None


def test_images_cover_contain_and_placeholder():
    d = design(
        {"type": "image", "box": [100, 100, 100, 100], "src": "{{pic}}", "fit": "contain"},
        fields={"pic": {"type": "url"}},
    )
    url = {"pic": "https://example.com/p.png"}
    assert ink(draw(d, fields=url, images={"pic": png()})) == (100, 125, 200, 175)
    cover = design({**d["layers"][0], "fit": "cover"}, fields={"pic": {"type": "url"}})
    assert ink(draw(cover, fields=url, images={"pic": png()})) == (100, 100, 200, 200)
    failed = draw(cover, fields=url, images={"pic": None})
    assert ink(failed) == (100, 100, 200, 200) and tuple(failed[150, 150]) != (200, 30, 30)
    assert ink(draw(cover)) is None  # no URL given: nothing drawn


def test_rtl_text_starts_on_the_right_and_cjk_emoji_draw():
    d = design(
        {
            "type": "text",
            "box": [20, 20, 560, 100],
            "text": "{{title}}",
            "size": 40,
            "color": "#000000",
        }
    )
    arabic = ink(draw(d, "مرحبا بالعالم"))
    latin = ink(draw(d, "Hello world"))
    assert arabic[2] > 570 and latin[0] < 30
    emoji = draw(d, "你好 🚀")
    assert ink(emoji) is not None
    colourful = np.abs(emoji.max(axis=2) - emoji.min(axis=2)) > 80
    assert colourful.sum() > 50  # the rocket is a colour glyph, not tofu


@pytest.mark.timeout(600)  # 60 renders of up to 50 layers: past 120 s once on CI's loaded cores
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(valid_designs, st.sampled_from(["dark", "light"]), st.integers(200, 700))
def test_every_valid_design_draws(d, theme, width):
    assert check_design(d) == [], check_design(d)
    values = {"tag": "Nouveau 新", "logo": "https://example.com/l.png"}
    spec = CardSpec.build(
        "Fuzz ✓ مرحبا 🚀",
        fields=values,
        images={"logo": png()},
        theme=theme,
        width=width,
        height=300,
        design=json.dumps(d),
    )
    assert decode(render_card(spec)).size == (width, 300)


def test_the_variant_for_the_cards_shape_is_drawn_at_its_own_reference_size():
    wide = {"type": "rect", "box": [0, 0, 300, 300], "fill": "#ff0000"}
    tall = {"type": "rect", "box": [0, 0, 100, 100], "fill": "#0000ff"}
    d = design(wide, variants=[{"aspect": [0, 0.8], "width": 200, "height": 400,
                                "layers": [tall]}])  # fmt: skip
    assert ink(draw(d)) == (0, 0, 300, 300)  # 600x300: the design's own layers
    portrait = draw(d, width=400, height=800)  # 0.5: the variant, scaled by 2 from 200x400
    assert ink(portrait) == (0, 0, 200, 200) and tuple(portrait[10, 10]) == BLUE
    assert ink(draw(d, width=800, height=1000)) == (0, 0, 400, 1000)  # 0.8: not in [0, 0.8)


def test_condition_lists_overlay_initials_and_max_height():
    both = design(
        {"type": "rect", "box": [0, 0, 100, 100], "fill": "#ff0000", "if": ["a", "b"]},
        {"type": "rect", "box": [200, 0, 100, 100], "fill": "#0000ff", "unless": ["a", "b"]},
        fields={"a": {"type": "string"}, "b": {"type": "string"}},
    )
    assert ink(draw(both, fields={"a": "x"})) is None  # one set: neither drawn
    assert ink(draw(both, fields={"a": "x", "b": "y"})) == (0, 0, 100, 100)
    assert ink(draw(both)) == (200, 0, 300, 100)
    avatar = design(
        {
            "type": "stack",
            "box": [10, 10, 300, 100],
            "direction": "row",
            "align": "center",
            "layers": [
                {
                    "type": "stack",
                    "direction": "overlay",
                    "size": [80, 80],
                    "layers": [
                        {"type": "rect", "fill": "#0000ff", "radius": 40},
                        {
                            "type": "text",
                            "text": "{{who}}",
                            "initials": True,
                            "size": 30,
                            "weight": 700,
                            "align": "center",
                            "valign": "middle",
                            "color": "#ffffff",
                        },
                    ],
                }
            ],
        },
        fields={"who": {"type": "string"}},
    )
    arr = draw(avatar, fields={"who": "jane doe"})
    assert ink(arr) == (10, 20, 90, 100)
    white = np.nonzero(arr[20:100, 10:90].min(axis=2) > 200)
    assert 20 < white[1].mean() < 60 and 20 < white[0].mean() < 60  # "JD", centred
    capped = design(
        {
            "type": "stack",
            "box": [0, 0, 600, 300],
            "gap": 0,
            "layers": [
                {
                    "type": "text",
                    "text": "{{title}}",
                    "size": 40,
                    "min_size": 10,
                    "max_lines": 5,
                    "max_height": 48,
                    "color": "#000000",
                },
                {"type": "rect", "size": [10, 10], "fill": "#ff0000"},
            ],
        }
    )
    arr = draw(capped, "A long title that would wrap onto several lines when there is room")
    red_top = int(np.nonzero((arr[:, :, 0] > 200) & (arr[:, :, 1] < 50))[0].min())
    assert red_top <= 48


def test_contained_images_align():
    d = design(
        {
            "type": "image",
            "box": [100, 100, 200, 100],
            "src": "{{pic}}",
            "fit": "contain",
            "align": "right",
        },
        fields={"pic": {"type": "url"}},
    )
    got = ink(draw(d, fields={"pic": "https://e.com/p.png"}, images={"pic": png()}))
    assert got == (100, 100, 300, 200)  # 2:1 into 2:1 fills it
    square = png(size=(20, 20))
    got = ink(draw(d, fields={"pic": "https://e.com/p.png"}, images={"pic": square}))
    assert got == (200, 100, 300, 200)


def test_a_design_at_the_reach_limit_draws_nothing_larger_than_one_and_a_half_cards(monkeypatch):
    """At 2400x2400 a 200x200 design's boxes scale x12: at the limit (a quarter of the canvas
    past each edge) every image made while drawing is at most 3600 pixels a side."""
    grad = {"gradient": {"stops": ["#ff0000", "#0000ff"]}}
    edge = [-50, -50, 300, 300]
    d = design(
        {"type": "rect", "box": edge, "fill": grad, "radius": 8, "opacity": 0.5},
        {"type": "image", "box": edge, "src": "{{logo}}", "radius": 8},
        {"type": "stack", "box": [0, 0, 200, 200], "direction": "overlay",
         "layers": [{"type": "rect", "size": [300, 300], "fill": "#00ff0080"}]},
        fields={"logo": {"type": "url"}}, width=200, height=200,
    )  # fmt: skip
    sizes: list[tuple[int, int]] = []
    made = Image.Image._new

    def counted(self, im):
        sizes.append(im.size)
        return made(self, im)

    monkeypatch.setattr(Image.Image, "_new", counted)
    logo = {"logo": "https://example.com/l.png"}
    card = draw(d, fields=logo, images={"logo": png(size=(300, 200))}, width=2400, height=2400)
    assert card.shape == (2400, 2400, 3)
    assert max(w for w, _ in sizes) == max(h for _, h in sizes) == 3600
