"""Checking an uploaded font (docs/templates.md, Fonts) before anything draws with it.

`inspect_font(data)` runs in a render process (render/pool.py `inspect_font`: a crash or a
hang there costs that process, never the server) and either raises `FontProblem` or returns
the plain sfnt the renderer will draw with and what the font is:

1. the container: TTF, OTF, WOFF or WOFF2 by its signature (collections are refused);
2. WOFF and WOFF2 are decompressed with bounded output first (a few KB that claim or inflate
   to gigabytes are refused before fontTools, which decompresses without a bound, sees them);
   then, from the table directory and `maxp` alone, a font too costly to read in full is
   refused (`_cost`: its glyph count, its outline table's size, how far it inflates);
3. fontTools reads every table (`lazy=False`); the tables a renderer needs must be there and
   sane (units per em, glyph count, a Unicode cmap);
4. FreeType (through Pillow, with raqm when present) opens the sfnt and draws a sample of the
   font's own characters at two sizes, as a render would.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections import Counter
from typing import Any

import brotli
from fontTools import unicodedata as fu
from fontTools.misc import sstruct
from fontTools.ttLib import TTFont
from fontTools.ttLib.woff2 import WOFF2DirectoryEntry, woff2DirectoryFormat, woff2DirectorySize
from PIL import ImageFont

MAX_SFNT = 16 << 20  # the font decompressed (what the renderer keeps and opens)
MAX_TABLES = 64
MAX_GLYPHS = 50_000
MAX_OUTLINES = 3 << 20  # the glyf, CFF or CFF2 table's bytes (what the full read costs)
MAX_RATIO = 12  # a WOFF or WOFF2 inflates to at most this many times its size
OUTLINES = ("glyf", "CFF ", "CFF2")
SAMPLE = 48  # characters drawn by the FreeType check
FORMATS = {
    b"\x00\x01\x00\x00": "ttf",
    b"true": "ttf",
    b"OTTO": "otf",
    b"wOFF": "woff",
    b"wOF2": "woff2",
}
REQUIRED = ("cmap", "head", "hhea", "hmtx", "maxp", "name")
# Read through fontTools in full (with every glyph); the layout tables (GSUB, GPOS, ...) are
# left to HarfBuzz, which sanitizes each table before using it.
DECOMPILED = {*REQUIRED, "OS/2", "post", "loca", "glyf", "CFF ", "CFF2"}
_NOT_SCRIPTS = {"Zyyy", "Zinh", "Zzzz"}


class FontProblem(ValueError):
    """Not a font this service can draw with (the message says why)."""


def sniff(data: bytes) -> str:
    """ "ttf", "otf", "woff" or "woff2" from the signature; FontProblem otherwise."""
    if data[:4] == b"ttcf":
        raise FontProblem("font collections (.ttc) are not supported: upload one font")
    kind = FORMATS.get(data[:4])
    if kind is None:
        raise FontProblem("not a TTF, OTF, WOFF or WOFF2 font")
    return kind


def _woff_sizes(data: bytes) -> tuple[dict[str, int], bytes]:
    """WOFF 1: every table inflates to exactly its declared size, the sum within MAX_SFNT.
    ({tag: size in the sfnt}, the maxp table)."""
    try:
        num_tables = struct.unpack_from(">H", data, 12)[0]
        entries = [struct.unpack_from(">4sIIII", data, 44 + 20 * i) for i in range(num_tables)]
    except struct.error:
        raise FontProblem("truncated WOFF header") from None
    _table_count(num_tables)
    if sum(e[3] for e in entries) > MAX_SFNT:
        raise FontProblem(f"the font decompresses to more than {MAX_SFNT >> 20} MB")
    maxp = b""
    for tag, offset, comp, orig, _sum in entries:
        chunk = out = data[offset : offset + comp]
        if len(chunk) != comp or comp > orig:
            raise FontProblem("a WOFF table lies outside the file or grows when stored")
        if comp < orig:
            try:
                out = zlib.decompressobj().decompress(chunk, orig + 1)
            except zlib.error:
                raise FontProblem("a WOFF table is not valid zlib data") from None
            if len(out) != orig:
                raise FontProblem("a WOFF table does not decompress to its declared size")
        if tag == b"maxp":
            maxp = out
    return {e[0].decode("latin-1"): e[3] for e in entries}, maxp


def _woff2_sizes(data: bytes) -> tuple[dict[str, int], bytes]:
    """WOFF2: the one Brotli stream inflates to the tables' declared total, within MAX_SFNT.
    ({tag: size in the sfnt}, the maxp table: never transformed, so read from the stream)."""
    f = io.BytesIO(data)
    head: Any = type("Head", (), {})()
    try:
        sstruct.unpack(woff2DirectoryFormat, f.read(woff2DirectorySize), head)
        _table_count(head.numTables)
        total, sizes, where = 0, {}, (0, 0)
        for _ in range(head.numTables):
            entry = WOFF2DirectoryEntry()
            entry.fromFile(f)
            if entry.tag == "maxp":
                where = (total, entry.length)
            sizes[entry.tag] = entry.origLength
            total += entry.length
    except FontProblem:
        raise
    except Exception:
        raise FontProblem("truncated or malformed WOFF2 table directory") from None
    if total > MAX_SFNT or head.totalSfntSize > MAX_SFNT:
        raise FontProblem(f"the font decompresses to more than {MAX_SFNT >> 20} MB")
    stream = f.read(head.totalCompressedSize)
    try:
        d = brotli.Decompressor()
        out = d.process(stream, output_buffer_limit=total + 1)
        finished = d.is_finished()
    except brotli.error:
        raise FontProblem("the WOFF2 data is not valid Brotli") from None
    if len(out) != total or not finished:
        raise FontProblem("the WOFF2 data does not decompress to its declared size")
    return sizes, out[where[0] : where[0] + where[1]]


def _sfnt_tables(data: bytes) -> tuple[dict[str, int], bytes]:
    """A plain TTF/OTF's ({tag: size}, the maxp table), from its table directory."""
    try:
        num_tables = struct.unpack_from(">H", data, 4)[0]
        entries = [struct.unpack_from(">4s4xII", data, 12 + 16 * i) for i in range(num_tables)]
    except struct.error:
        raise FontProblem("truncated table directory") from None
    _table_count(num_tables)
    maxp = next((data[o : o + n] for tag, o, n in entries if tag == b"maxp"), b"")
    return {tag.decode("latin-1"): n for tag, _o, n in entries}, maxp


def _cost(kind: str, size: int, tables: dict[str, int], maxp: bytes) -> None:
    """Refuse, before the full read, a font whose full read would cost too much: more than
    MAX_GLYPHS glyphs, an outline table over MAX_OUTLINES bytes, a WOFF/WOFF2 inflating more
    than MAX_RATIO times (a few KB of repeated glyphs that parse for minutes)."""
    if len(maxp) < 6:
        raise FontProblem("missing tables: maxp")
    glyphs = struct.unpack_from(">H", maxp, 4)[0]
    if glyphs > MAX_GLYPHS:
        raise FontProblem(f"a font has 2 to {MAX_GLYPHS} glyphs, this one {glyphs}")
    outlines = max((tables.get(tag, 0) for tag in OUTLINES), default=0)
    if outlines > MAX_OUTLINES:
        raise FontProblem(
            f"the outlines take {outlines / (1 << 20):.1f} MB, more than {MAX_OUTLINES >> 20} MB"
        )
    if kind in ("woff", "woff2") and sum(tables.values()) > MAX_RATIO * size:
        raise FontProblem(f"the font inflates more than {MAX_RATIO} times its compressed size")


def _table_count(n: int) -> None:
    if not 1 <= n <= MAX_TABLES:
        raise FontProblem(f"a font has 1 to {MAX_TABLES} tables, this one {n}")


def _parse(data: bytes) -> TTFont:
    try:
        font = TTFont(io.BytesIO(data), recalcBBoxes=False, recalcTimestamp=False)
        tags = [t for t in font.keys() if t != "GlyphOrder"]  # noqa: SIM118 - TTFont is no dict
        _table_count(len(tags))
        missing = [t for t in REQUIRED if t not in tags]
        if not {"glyf", "CFF ", "CFF2"} & set(tags):
            missing.append("glyf or CFF")
        if missing:
            raise FontProblem("missing tables: " + ", ".join(missing))
        for tag in tags:  # the outline and metric tables read in full: garbage raises here
            if tag in DECOMPILED:
                table = font[tag]
                if hasattr(table, "ensureDecompiled"):
                    table.ensureDecompiled(recurse=True)
    except FontProblem:
        raise
    except Exception as exc:  # fontTools raises many types on garbage
        raise FontProblem(f"the font could not be read: {type(exc).__name__}") from None
    if not 16 <= font["head"].unitsPerEm <= 16384:
        raise FontProblem("unitsPerEm is out of range (16 to 16384)")
    glyphs = font["maxp"].numGlyphs
    if not 1 < glyphs <= MAX_GLYPHS:
        raise FontProblem(f"a font has 2 to {MAX_GLYPHS} glyphs, this one {glyphs}")
    if not font.getBestCmap():  # cmap was read above
        raise FontProblem("the font maps no Unicode characters (no usable cmap)")
    return font


def _sfnt(font: TTFont, data: bytes, kind: str) -> bytes:
    """The plain sfnt a renderer opens (WOFF and WOFF2 unpacked)."""
    if kind in ("ttf", "otf"):
        return data
    font.flavor = None
    buf = io.BytesIO()
    font.save(buf, reorderTables=False)
    if buf.tell() > MAX_SFNT:
        raise FontProblem(f"the font decompresses to more than {MAX_SFNT >> 20} MB")
    return buf.getvalue()


def _draw_sample(sfnt: bytes, cmap: dict[int, str]) -> None:
    from render.fonts import layout_engine

    chars = [chr(cp) for cp in sorted(cmap) if cp > 0x20 and chr(cp).isprintable()]
    step = max(1, len(chars) // SAMPLE)
    sample = "".join(chars[::step][:SAMPLE]) or "A"
    try:
        for size in (12, 96):
            face = ImageFont.truetype(io.BytesIO(sfnt), size, layout_engine=layout_engine())
            face.getlength(sample)
            face.getmask2(sample, "L", anchor="ls")
    except Exception as exc:
        raise FontProblem(f"the font could not be drawn: {type(exc).__name__}") from None


def _scripts(cmap: dict[int, str]) -> list[str]:
    """The scripts the font covers (ISO 15924), most characters first: 10 or more of its
    characters, or a fifth of them (a few stray Greek letters do not make a Greek font)."""
    counts = Counter(fu.script(chr(cp)) for cp in cmap)
    for name in _NOT_SCRIPTS:
        counts.pop(name, None)
    total = sum(counts.values())
    return [s for s, n in counts.most_common() if n >= 10 or n * 5 >= total]


def inspect_font(data: bytes) -> tuple[bytes, dict[str, Any]]:
    """(the sfnt to draw with, {format, family, weight, style, glyphs, scripts})."""
    kind = sniff(data)
    if kind == "woff":
        tables, maxp = _woff_sizes(data)
    elif kind == "woff2":
        tables, maxp = _woff2_sizes(data)
    else:
        tables, maxp = _sfnt_tables(data)
    _cost(kind, len(data), tables, maxp)
    font = _parse(data)
    if kind == "ttf" and "glyf" not in font:
        kind = "otf"
    cmap = font.getBestCmap()
    sfnt = _sfnt(font, data, kind)
    _draw_sample(sfnt, cmap)
    os2 = font.get("OS/2")
    mac = font["head"].macStyle
    weight = os2.usWeightClass if os2 is not None else (700 if mac & 1 else 400)
    italic = (os2 is not None and os2.fsSelection & 1) or mac & 2
    info = {
        "format": kind,
        "family": (font["name"].getBestFamilyName() or "").strip()[:64] or "Untitled",
        "weight": max(1, min(1000, int(weight))),
        "style": "italic" if italic else "normal",
        "glyphs": font["maxp"].numGlyphs,
        "scripts": _scripts(cmap),
    }
    return sfnt, info
