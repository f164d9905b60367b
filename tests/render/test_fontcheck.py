"""The uploaded-font check (render/fontcheck.py) on its own, fuzzed: any bytes either pass as
a font FreeType can draw, or are refused with FontProblem (the API's INVALID_FONT), never
another exception; a refused file is never an accepted one with its hostile parts left in."""

from __future__ import annotations

import io
import struct
import time
from pathlib import Path

import pytest
from fontTools import subset
from fontTools.fontBuilder import FontBuilder
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont, newTable
from fontTools.ttLib.tables._g_l_y_f import Glyph
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import ImageFont

from render.fontcheck import FontProblem, inspect_font

INTER = Path(__file__).resolve().parents[2] / "render" / "fonts" / "Inter-Regular.ttf"


def _small(flavor: str | None = None) -> bytes:
    font = TTFont(INTER)
    sub = subset.Subsetter(subset.Options())
    sub.populate(text="Hamburgefonstiv 0123")
    sub.subset(font)
    font.flavor = flavor
    buf = io.BytesIO()
    font.save(buf)
    return buf.getvalue()


SMALL = {kind: _small(None if kind == "ttf" else kind) for kind in ("ttf", "woff", "woff2")}


def _mutated() -> st.SearchStrategy[bytes]:
    def apply(kind: str, edits: list[tuple[int, int]], cut: int) -> bytes:
        b = bytearray(SMALL[kind])
        for at, value in edits:
            b[at % len(b)] = value
        return bytes(b[: max(4, len(b) - cut)])

    edits = st.lists(st.tuples(st.integers(0, 1 << 16), st.integers(0, 255)), max_size=8)
    cuts = st.sampled_from([0, 0, 0, 1, 17, 400])
    return st.builds(apply, st.sampled_from(sorted(SMALL)), edits, cuts)


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))  # fmt: skip
@given(st.one_of(_mutated(), st.binary(max_size=300)))
def test_any_bytes_pass_or_are_refused_with_a_reason(data: bytes) -> None:
    try:
        sfnt, info = inspect_font(data)
    except FontProblem as exc:
        assert str(exc)
        return
    # accepted: FreeType opens what the renderer will open, and the facts are sane
    ImageFont.truetype(io.BytesIO(sfnt), 20).getlength("Ham")
    assert info["format"] in ("ttf", "otf", "woff", "woff2") and info["glyphs"] > 1


def test_each_container_unpacks_to_the_same_font() -> None:
    out = {kind: inspect_font(data) for kind, data in SMALL.items()}
    assert {info["family"] for _, info in out.values()} == {"Inter"}
    assert out["woff"][0][:4] == out["woff2"][0][:4] == b"\0\1\0\0"  # plain sfnt to draw
    assert {info["glyphs"] for _, info in out.values()} == {out["ttf"][1]["glyphs"]}


def hostile(glyphs: int, points: int, flavor: str | None) -> bytes:
    """A font of `glyphs` copies of one `points`-point outline (built from its compiled bytes,
    so quickly): tiny compressed, minutes for a full parse at 50,000 x 90."""
    pen = TTGlyphPen(None)
    pen.moveTo((0, 0))
    for k in range(1, points):
        pen.lineTo((k * 7 % 900, k * 13 % 700))
    pen.closePath()
    shape = pen.glyph()
    shape.recalcBounds(None)
    raw = shape.compile(None)
    names = [".notdef", *(f"g{i}" for i in range(1, glyphs))]
    fb = FontBuilder(1000, isTTF=True)
    fb.font.recalcBBoxes = False
    fb.setupGlyphOrder(names)
    fb.setupCharacterMap({0x41 + i: names[1 + i] for i in range(26)})
    glyf = newTable("glyf")
    glyf.glyphOrder, glyf.glyphs = names, {name: Glyph(raw) for name in names}
    fb.font["glyf"], fb.font["loca"] = glyf, newTable("loca")
    fb.setupHorizontalMetrics({name: (600, 0) for name in names})
    fb.setupHorizontalHeader(ascent=800, descent=-200)
    fb.setupNameTable({"familyName": "Hostile", "styleName": "Regular"})
    fb.setupOS2()
    fb.setupPost()
    fb.setupMaxp()
    fb.font.flavor = flavor
    buf = io.BytesIO()
    fb.font.save(buf)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("glyphs", "points", "flavor", "why"),
    [
        (3000, 90, "woff", "inflates more than 12 times"),  # 600 KB of glyphs in 25 KB
        (5000, 400, None, r"the outlines take \d\.\d MB, more than 3 MB"),
    ],
)
def test_a_font_too_costly_to_read_is_refused_from_its_directory(glyphs, points, flavor, why):
    """Glyph count, outline size and the inflation of a WOFF are read from the table directory
    and maxp before the full read (which would take seconds, or minutes at 50,000 glyphs)."""
    data = hostile(glyphs, points, flavor)
    started = time.monotonic()
    with pytest.raises(FontProblem, match=why):
        inspect_font(data)
    assert time.monotonic() - started < 0.5


def test_a_font_with_too_many_glyphs_is_refused_before_its_tables_are_read() -> None:
    data = bytearray(_small())
    tables = [struct.unpack_from(">4s4xI", data, 12 + 16 * i) for i in range(data[5])]
    (offset,) = (o for tag, o in tables if tag == b"maxp")
    struct.pack_into(">H", data, offset + 4, 60_000)
    with pytest.raises(FontProblem, match="this one 60000"):
        inspect_font(bytes(data))
