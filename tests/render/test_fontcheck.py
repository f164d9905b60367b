"""The uploaded-font check (render/fontcheck.py) on its own, fuzzed: any bytes either pass as
a font FreeType can draw, or are refused with FontProblem (the API's INVALID_FONT), never
another exception; a refused file is never an accepted one with its hostile parts left in."""

from __future__ import annotations

import io
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont
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
