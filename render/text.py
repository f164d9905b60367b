"""Text layout: font fallback runs, simple bidi, wrapping, shrink-to-fit and ellipsis clamping.

Pillow shapes one string with one font, so a paragraph is split into runs: first by direction
(a small bidi resolver: strong R/L characters, neutrals take their neighbours' direction), then
by the first face in `fonts.CHAIN` that covers each character. raqm shapes and orders each run;
lines are wrapped greedily on spaces (and between CJK characters), shrunk between a max and a
min size, and clamped to N lines with an ellipsis. Glyph masks are cached per (run, size).
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass

from PIL import Image

from render import fonts
from render.fonts import EMOJI, EMOJI_PPEM, raqm_available
from render.memo import bytes_cached, image_bytes

__all__ = ["Piece", "clean", "pieces", "raqm_available", "render_piece"]

ELLIPSIS = "…"
GLYPH_CACHE_BYTES = 32 << 20  # rendered text runs kept per render process (render_piece)
EMOJI_SCALE = 0.92  # Noto's emoji advance is 1.27 em; browsers draw them a little smaller
ALPHA_LEVELS = 17  # anti-aliasing levels kept: invisible on text, ~15 % smaller PNGs
_ALPHA_LUT = [
    round(round(v * (ALPHA_LEVELS - 1) / 255) * 255 / (ALPHA_LEVELS - 1)) for v in range(256)
]
_RTL_RANGES = ((0x0590, 0x08FF), (0xFB1D, 0xFDFF), (0xFE70, 0xFEFF), (0x10800, 0x10FFF))
_EMOJI_JOIN = {0x200D, 0xFE0F, 0x20E3} | set(range(0x1F3FB, 0x1F400)) | set(range(0xE0020, 0xE0080))
_NO_BREAK_BEFORE = set("、。，．・：；？！）」』】〕〉》ー…,.!?:;)]}")
_NO_BREAK_AFTER = set("（「『【〔〈《([{")


def clean(text: str | None) -> str:
    """Collapse whitespace and drop control/private/surrogate characters."""
    if not text:
        return ""
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if ch.isspace():
            out.append(" ")
        elif cat not in ("Cc", "Cs", "Co") and not 0xFDD0 <= ord(ch) <= 0xFDEF:
            out.append(ch)
    return " ".join("".join(out).split())


def _is_rtl(cp: int) -> bool:
    return any(lo <= cp <= hi for lo, hi in _RTL_RANGES)


def _is_cjk(cp: int) -> bool:
    return 0x2E80 <= cp <= 0x9FFF or 0xF900 <= cp <= 0xFAFF or 0x20000 <= cp <= 0x3FFFF


def _strong(ch: str) -> str | None:
    """ "R", "L", "EN" (European digits) or None (neutral)."""
    cp = ord(ch)
    if _is_rtl(cp):
        return "R" if unicodedata.category(ch)[0] in "LMN" or cp >= 0xFB1D else None
    if ch.isdigit():
        return "EN"
    return "L" if unicodedata.category(ch)[0] == "L" else None


def paragraph_rtl(text: str) -> bool:
    for ch in text:
        if (d := _strong(ch)) in ("L", "R"):
            return d == "R"
    return False


@functools.lru_cache(maxsize=8192)
def _face(ch: str, emoji_next: bool, first: str = fonts.PRIMARY) -> str | None:
    """The face that draws `ch`: `first` (a text's own font) when it has the glyph, unless
    the character asks for emoji; else the first of the bundled chain that has it."""
    cp = ord(ch)
    cov = fonts.coverage
    wants_emoji = cp >= 0x1F000 or emoji_next
    if first != fonts.PRIMARY and not wants_emoji and cp in cov(first):
        return first
    if cp in cov(EMOJI) and (
        wants_emoji or (cp not in cov(fonts.PRIMARY) and unicodedata.category(ch) == "So")
    ):
        return EMOJI
    for face in fonts.CHAIN:
        if cp in cov(face):
            return face
    return None


def _font_runs(text: str, first: str = fonts.PRIMARY) -> list[tuple[str, str]]:
    """Split into (face, text) runs; marks, joiners and common punctuation stick to the run."""
    runs: list[list[str]] = []
    for i, ch in enumerate(text):
        cp = ord(ch)
        nxt = text[i + 1] if i + 1 < len(text) else ""
        cat = unicodedata.category(ch)
        cur = runs[-1][0] if runs else None
        if cur and (
            cp in _EMOJI_JOIN
            or cat in ("Mn", "Me", "Cf")
            or (0x1F1E6 <= cp <= 0x1F1FF and cur == EMOJI)
        ):
            runs[-1][1] += ch
            continue
        if cur and cur != EMOJI and cat[0] in "ZP" and cp in fonts.coverage(cur):
            runs[-1][1] += ch
            continue
        face = _face(ch, nxt in ("\ufe0f", "\u20e3"), first) or first
        if face == cur:
            runs[-1][1] += ch
        else:
            runs.append([face, ch])
    return [(f, t) for f, t in runs]


@dataclass(frozen=True)
class Piece:
    """A run in visual order: one face, one direction."""

    face: str
    text: str
    rtl: bool
    width: float


def _dir_runs(text: str, para_rtl: bool) -> list[tuple[bool, str]]:
    base = "R" if para_rtl else "L"
    dirs = [_strong(ch) for ch in text]
    last = base
    for i, d in enumerate(dirs):  # digits after R read as R for neutrals, but are LTR pieces
        if d == "EN":
            dirs[i] = "R" if last == "R" else "L"
        elif d is not None:
            last = d
    i = 0
    while i < len(dirs):  # neutrals between equal strongs take that direction, else the base
        if dirs[i] is None:
            j = i
            while j < len(dirs) and dirs[j] is None:
                j += 1
            before = dirs[i - 1] if i else base
            after = dirs[j] if j < len(dirs) else base
            fill = before if before == after else base
            dirs[i:j] = [fill] * (j - i)
            i = j
        i += 1
    out: list[list] = []
    for ch, d in zip(text, dirs, strict=True):
        if out and out[-1][0] == (d == "R"):
            out[-1][1] += ch
        else:
            out.append([d == "R", ch])
    return [(r, t) for r, t in out]


def _digit_split(chunk: str, rtl: bool) -> list[str]:
    """In an RTL run, cut European digit groups out so they can be placed as their own pieces."""
    if not rtl:
        return [chunk]
    parts: list[str] = []
    for ch in chunk:
        digit = ch.isdigit() and not _is_rtl(ord(ch))
        if parts and (parts[-1][-1].isdigit() and not _is_rtl(ord(parts[-1][-1]))) == digit:
            parts[-1] += ch
        else:
            parts.append(ch)
    return parts


def _direction(rtl: bool) -> str | None:
    return ("rtl" if rtl else "ltr") if raqm_available() else None


@functools.lru_cache(maxsize=16384)
def measure(face: str, weight: int, size: int, text: str, rtl: bool = False) -> float:
    font = fonts.get_font(face, weight, size)
    if face == EMOJI:
        return font.getlength(text) * size * EMOJI_SCALE / EMOJI_PPEM
    return font.getlength(text, direction=_direction(rtl))


@functools.lru_cache(maxsize=2048)
def pieces(
    text: str, weight: int, size: int, para_rtl: bool, first: str = fonts.PRIMARY
) -> tuple[Piece, ...]:
    """The visual-order runs of one line (`first`: the text's own face, then the chain)."""
    out: list[Piece] = []
    druns = _dir_runs(text, para_rtl)
    if para_rtl:
        druns.reverse()
    for rtl, chunk in druns:
        sub = [r for part in _digit_split(chunk, rtl) for r in _font_runs(part, first)]
        if rtl:
            sub.reverse()
        out.extend(Piece(f, t, rtl, measure(f, weight, size, t, rtl)) for f, t in sub)
    return tuple(out)


def width(
    text: str, weight: int, size: int, para_rtl: bool = False, first: str = fonts.PRIMARY
) -> float:
    return sum(p.width for p in pieces(text, weight, size, para_rtl, first))


_NOT_DRAWN = ("Cc", "Cf", "Zs", "Zl", "Zp")  # nothing to draw: never a missing glyph


def missing(text: str, first: str = fonts.PRIMARY) -> set[int]:
    """The code points of `text` that no face (`first`, then the chain) has a glyph for."""
    out = set()
    for ch in set(text):
        cp = ord(ch)
        if cp in _EMOJI_JOIN or 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF:
            continue
        if unicodedata.category(ch) in _NOT_DRAWN or _face(ch, False, first) is not None:
            continue
        if first == fonts.PRIMARY or cp not in fonts.coverage(first):
            out.add(cp)
    return out


@functools.lru_cache(maxsize=1024)  # a repeated card reports the blocks it drew before
def block_fonts(block, first: str | None = None) -> tuple[tuple[str, ...], frozenset[int]]:
    """(the families a laid-out block is drawn with, in order of use; its missing code
    points). `block` is a render.layout.Block (frozen: its lines are the key)."""
    face = first or block.face
    families: list[str] = []
    lost: set[int] = set()
    for line in block.lines:
        for p in pieces(line.text, block.weight, block.size, block.rtl, face):
            name = fonts.family(p.face)
            if name and name not in families:
                families.append(name)
        lost |= missing(line.text, face)
    return tuple(families), frozenset(lost)


@bytes_cached(GLYPH_CACHE_BYTES, lambda hit: image_bytes(hit[0]))
def render_piece(piece: Piece, weight: int, size: int) -> tuple[Image.Image, int, int]:
    """(mask "L" or colour "RGBA" image, dx, dy) relative to the pen on the baseline."""
    font = fonts.get_font(piece.face, weight, size)
    if piece.face == EMOJI:
        core, (dx, dy) = font.getmask2(piece.text, "RGBA", anchor="ls", embedded_color=True)
        img = Image.new("RGBA", core.size)
        img.im = core
        k = size * EMOJI_SCALE / EMOJI_PPEM
        w, h = max(1, round(img.width * k)), max(1, round(img.height * k))
        return img.resize((w, h), Image.Resampling.LANCZOS), round(dx * k), round(dy * k)
    core, (dx, dy) = font.getmask2(piece.text, "L", direction=_direction(piece.rtl), anchor="ls")
    img = Image.new("L", core.size)
    img.im = core
    return img.point(_ALPHA_LUT), dx, dy
