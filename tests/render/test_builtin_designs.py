"""The built-ins are designs (render/builtins) drawn by the one design engine: each looks as its
hand-drawn predecessor did (mean absolute difference at most 2/255 per channel at 1200x630, both
themes, the sample set, the international titles and the colour parameters; the references in
golden/ were drawn by that code before it was retired), and drawing a built-in is drawing its
design."""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bench.samples import INTL, SAMPLES, sample
from render import builtins
from render.card import render_card
from render.design.validate import check_design
from render.spec import CardSpec
from render.templates import TEMPLATES

MAX_MEAN_DIFF = 2.0  # of 255, per channel
GOLDEN = Path(__file__).parent / "golden"
COLOURS = {"bg": {"bg_color": "#7c2d12"}, "text": {"text_color": "#fde047"},
           "accent": {"accent_color": "#10b981"}, "light-bg": {"bg_color": "#fef3c7"}}  # fmt: skip


def pixels(body: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(body)).convert("RGB")).astype(int)


def golden(name: str) -> np.ndarray:
    return np.asarray(Image.open(GOLDEN / f"{name}.webp").convert("RGB")).astype(int)


def mean_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).mean(axis=(0, 1)).max())


def design_card(name: str, spec: CardSpec) -> bytes:
    """`spec` (a built-in's card) drawn from the built-in's design as a custom design."""
    values = dict(spec.fields)
    extra = {"subtitle": spec.subtitle, "bg_color": spec.bg_color,
             "text_color": spec.text_color, "accent_color": spec.accent_color}  # fmt: skip
    values.update({k: v for k, v in extra.items() if v})
    return render_card(
        CardSpec.build(spec.title, fields=values, theme=spec.theme, images=dict(spec.images),
                       design=json.dumps(builtins.design(name)))
    )  # fmt: skip


def test_every_builtin_is_a_valid_design_that_declares_its_parameters():
    assert set(builtins.names()) == set(TEMPLATES) == set(SAMPLES)
    for name, tpl in TEMPLATES.items():
        design = builtins.design(name)
        assert check_design(design) == [], name
        assert tpl.design == design and json.loads(tpl.source) == design
        declared = set(design["fields"])
        assert declared >= {"title", "subtitle", "bg_color", "text_color", "accent_color"}
        assert declared == {f.name for f in tpl.fields}


@pytest.mark.parametrize("name", sorted(SAMPLES))
@pytest.mark.parametrize("theme", ["dark", "light"])
def test_builtins_look_as_they_did(name, theme):
    assert mean_diff(pixels(render_card(sample(name, theme))), golden(f"{name}-{theme}")) <= 2


@pytest.mark.parametrize("key", sorted(INTL))
def test_international_titles_look_as_they_did(key):
    spec = dataclasses.replace(sample("default", "dark"), title=INTL[key])
    assert mean_diff(pixels(render_card(spec)), golden(f"default-dark-{key}")) <= MAX_MEAN_DIFF


@pytest.mark.parametrize("name", ["default", "vibrant", "stats", "product", "event", "caption"])
@pytest.mark.parametrize("key", sorted(COLOURS))
def test_colour_parameters_look_as_they_did_and_forks_keep_them(name, key):
    spec = dataclasses.replace(sample(name, "dark"), **COLOURS[key])
    drawn = pixels(render_card(spec))
    assert mean_diff(drawn, golden(f"{name}-{key}")) <= MAX_MEAN_DIFF
    assert np.array_equal(drawn, pixels(design_card(name, spec)))


@pytest.mark.parametrize("name", sorted(SAMPLES))
@pytest.mark.parametrize("theme", ["dark", "light"])
def test_a_builtin_is_its_design_drawn_with_each_optional_field_left_out(name, theme):
    full = sample(name, theme)
    assert render_card(full) == design_card(name, full)  # one engine: the same bytes
    for left_out in [k for k, _ in full.fields] + ["subtitle"]:
        fields = {k: v for k, v in full.fields if k != left_out}
        subtitle = None if left_out == "subtitle" else full.subtitle
        spec = CardSpec.build(
            full.title, subtitle=subtitle, fields=fields, template=name, theme=theme
        )
        assert render_card(spec) == design_card(name, spec), left_out


def _photo(size=(300, 200)) -> bytes:
    im = Image.new("RGB", size, (200, 60, 40))
    im.paste((30, 90, 200), (0, 0, size[0] // 2, size[1] // 2))
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_image_field_is_drawn(name):
    full = sample(name, "dark")
    urls = [f for f in TEMPLATES[name].uses if f.endswith("_url")]
    fields = {**dict(full.fields), **{f: f"https://example.com/{f}.png" for f in urls}}
    spec = dataclasses.replace(full, fields=tuple(sorted(fields.items())),
                               images=tuple((f, _photo()) for f in urls))  # fmt: skip
    with_images = pixels(render_card(spec))
    assert render_card(spec) == design_card(name, spec)
    if urls:
        red = ((with_images == (200, 60, 40)).all(axis=2)).sum()
        assert red > 100, "the photo is drawn"
