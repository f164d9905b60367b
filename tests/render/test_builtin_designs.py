"""The built-ins as designs (render/builtins): each draws the card its built-in draws, mean
absolute difference at most 2/255 per channel at 1200x630, both themes, over the samples."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from bench.samples import INTL, sample
from render import builtins
from render.card import render_card
from render.design.validate import check_design
from render.spec import CardSpec
from render.templates import TEMPLATES

MAX_MEAN_DIFF = 2.0  # of 255, per channel


def pixels(body: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(body)).convert("RGB")).astype(int)


def design_card(name: str, spec: CardSpec) -> bytes:
    """`spec` (a built-in's card) drawn from the built-in's design instead."""
    values = dict(spec.fields)
    if spec.subtitle:
        values["subtitle"] = spec.subtitle
    return render_card(
        CardSpec.build(
            spec.title, fields=values, theme=spec.theme, design=json.dumps(builtins.design(name))
        )
    )


def test_converted_builtins_are_valid_designs_of_known_templates():
    assert "default" in builtins.names()
    for name in builtins.names():
        assert name in TEMPLATES
        design = builtins.design(name)
        assert check_design(design) == []
        declared = set(design["fields"])
        assert declared >= set(TEMPLATES[name].uses) | {"title", "subtitle"}


@pytest.mark.parametrize("name", builtins.names())
@pytest.mark.parametrize("theme", ["dark", "light"])
@pytest.mark.parametrize("title", [None, *INTL])
def test_designs_draw_what_the_builtins_draw(name, theme, title):
    spec = sample(name, theme)
    if title:
        spec = CardSpec(**{**spec.__dict__, "title": INTL[title]})
    diff = np.abs(pixels(render_card(spec)) - pixels(design_card(name, spec)))
    assert diff.mean(axis=(0, 1)).max() <= MAX_MEAN_DIFF


@pytest.mark.parametrize("name", builtins.names())
@pytest.mark.parametrize("theme", ["dark", "light"])
def test_designs_match_with_each_optional_field_left_out(name, theme):
    full = sample(name, theme)
    for left_out in [k for k, _ in full.fields] + ["subtitle"]:
        fields = {k: v for k, v in full.fields if k != left_out}
        subtitle = None if left_out == "subtitle" else full.subtitle
        spec = CardSpec.build(
            full.title, subtitle=subtitle, fields=fields, template=name, theme=theme
        )
        diff = np.abs(pixels(render_card(spec)) - pixels(design_card(name, spec)))
        assert diff.mean(axis=(0, 1)).max() <= MAX_MEAN_DIFF, left_out


def _photo(size=(300, 200)) -> bytes:
    im = Image.new("RGB", size, (200, 60, 40))
    im.paste((30, 90, 200), (0, 0, size[0] // 2, size[1] // 2))
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.parametrize("name", builtins.names())
@pytest.mark.parametrize("theme", ["dark", "light"])
def test_designs_match_with_every_image_given(name, theme):
    full = sample(name, theme)
    urls = [f for f in TEMPLATES[name].uses if f.endswith("_url")]
    fields = {**dict(full.fields), **{f: f"https://example.com/{f}.png" for f in urls}}
    images = {f: _photo() for f in urls}
    spec = CardSpec.build(
        full.title, subtitle=full.subtitle, fields=fields, images=images, template=name, theme=theme
    )
    values = {**fields, "subtitle": full.subtitle} if full.subtitle else fields
    drawn = CardSpec.build(
        full.title,
        fields=values,
        images=images,
        theme=theme,
        design=json.dumps(builtins.design(name)),
    )
    diff = np.abs(pixels(render_card(spec)) - pixels(render_card(drawn)))
    assert diff.mean(axis=(0, 1)).max() <= MAX_MEAN_DIFF
