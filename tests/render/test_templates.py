from __future__ import annotations

import pytest

from bench.samples import sample
from render.card import RENDER_VERSION, render_card, render_fallback
from render.spec import CardSpec
from render.templates import TEMPLATES, get_template
from tests.render.conftest import card, decode, ink_bbox

REQUIRED = {
    "default",
    "minimal",
    "vibrant",
    "blog",
    "product",
    "event",
    "stats",
    "real_estate",
    "quote",
}
SIZES = [(1200, 630), (400, 400), (2400, 600), (200, 200), (600, 2400)]


def test_registry_has_the_spec_templates_with_schemas():
    assert set(TEMPLATES) >= REQUIRED
    for name, tpl in TEMPLATES.items():
        assert get_template(name) is tpl and tpl.description
        fields = {f.name: f for f in tpl.fields}
        assert fields["title"].required and fields["title"].max_length == 200
        assert fields["subtitle"].max_length == 300 and not fields["subtitle"].required
        assert {"bg_color", "text_color", "accent_color"} <= set(fields)
        assert all(f.type in {"string", "url", "color", "number"} for f in tpl.fields)
    with pytest.raises(KeyError):
        get_template("nope")


@pytest.mark.parametrize("name", sorted(TEMPLATES))
@pytest.mark.parametrize("theme", ["dark", "light"])
def test_every_template_renders_every_size(name, theme):
    for w, h in SIZES:
        im = decode(render_card(sample(name, theme, width=w, height=h)))
        assert (im.format, im.size, im.mode) == ("PNG", (w, h), "RGB")
        lo, hi = im.convert("L").getextrema()
        assert hi - lo > 60, "the card shows some contrast (text is drawn)"


@pytest.mark.parametrize("fmt", ["jpeg", "webp"])
def test_lossy_formats_and_quality(fmt):
    spec = sample("blog", "dark", format=fmt, width=800, height=420)
    im = decode(render_card(spec))
    assert (im.format, im.size) == (fmt.upper(), (800, 420))
    small = render_card(CardSpec(**{**spec.__dict__, "quality": 20}))
    assert len(small) < len(render_card(CardSpec(**{**spec.__dict__, "quality": 95})))


def test_themes_differ_and_colour_overrides_change_pixels():
    dark, light = card(template="default", theme="dark"), card(template="default", theme="light")
    assert ink_bbox(dark, light) is not None
    red = card(template="default", bg_color="#ff0000")
    assert red.getpixel((3, 3)) == (255, 0, 0)
    green_text = card("Hello world", template="minimal", text_color="#00ff00")
    assert (0, 255, 0) in {c for _, c in green_text.getcolors(1 << 20)}
    accent = card(template="stats", accent_color="#ff00ff", fields={"stat_value": "42"})
    assert ink_bbox(accent, card(template="stats", fields={"stat_value": "42"})) is not None


def test_deterministic():
    spec = sample("product", "light")
    assert ink_bbox(decode(render_card(spec)), decode(render_card(spec))) is None
    assert render_card(spec) == render_card(spec)


def test_fallback_card():
    im = decode(render_fallback(800, 400, "png"))
    assert im.size == (800, 400)
    assert decode(render_fallback(300, 300, "jpeg")).format == "JPEG"
    assert isinstance(RENDER_VERSION, str) and RENDER_VERSION


def test_images_placeholder_and_real_image():
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (255, 0, 0)).save(buf, "PNG")
    red = card(
        template="default",
        fields={"author_name": "Ann Lee"},
        images={"author_avatar_url": buf.getvalue()},
    )
    broken = card(
        template="default",
        fields={"author_name": "Ann Lee"},
        images={"author_avatar_url": b"not an image"},
    )
    none = card(template="default", fields={"author_name": "Ann Lee"})
    assert ink_bbox(broken, none) is None, "undecodable bytes draw the initials placeholder"
    assert red.getpixel((80 + 32, 630 - 60 - 32)) == (255, 0, 0)


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_every_template_shows_a_given_subtitle(name):
    """With its sample fields filled in, no template silently drops the subtitle."""
    import dataclasses

    from PIL import ImageChops

    with_sub = decode(render_card(dataclasses.replace(sample(name), subtitle="Subtitle here")))
    without = decode(render_card(dataclasses.replace(sample(name), subtitle=None)))
    diff = ImageChops.difference(with_sub.convert("RGB"), without.convert("RGB"))
    assert diff.getbbox() is not None
