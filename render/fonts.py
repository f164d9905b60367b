"""The vendored fonts: which file covers which characters, loaded once per process.

Pillow has no font fallback, so text is split into runs by the first face (in `CHAIN` order)
whose cmap covers each character; coverage sets come from fontTools, computed once per face.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path

from fontTools.ttLib import TTFont
from PIL import ImageFont, features

log = logging.getLogger(__name__)

FONT_DIR = Path(__file__).resolve().parent / "fonts"
EMOJI = "emoji"
EMOJI_PPEM = 109  # the only size the CBDT strikes of Noto Color Emoji load at

# face key -> (regular file, bold file); Inter also has a 600 weight
_FILES = {
    "inter": ("Inter-Regular.ttf", "Inter-Bold.ttf"),
    "noto": ("NotoSans-Regular.ttf", "NotoSans-Bold.ttf"),
    "arabic": ("NotoSansArabic-Regular.ttf", "NotoSansArabic-Bold.ttf"),
    "hebrew": ("NotoSansHebrew-Regular.ttf", "NotoSansHebrew-Bold.ttf"),
    "devanagari": ("NotoSansDevanagari-Regular.ttf", "NotoSansDevanagari-Bold.ttf"),
    "thai": ("NotoSansThai-Regular.ttf", "NotoSansThai-Bold.ttf"),
    "cjk": ("NotoSansCJKsc-Regular-subset.otf", "NotoSansCJKsc-Bold-subset.otf"),
    EMOJI: ("NotoColorEmoji.ttf", "NotoColorEmoji.ttf"),
}
# The bundled families a design may name (GET /api/fonts) -> the face drawn first.
FAMILIES = {"Inter": "inter", "Noto Sans": "noto"}
# Each face's family, as the render report names the fonts a text was drawn with.
FACE_FAMILIES = {
    "inter": "Inter", "noto": "Noto Sans", "arabic": "Noto Sans Arabic",
    "hebrew": "Noto Sans Hebrew", "devanagari": "Noto Sans Devanagari", "thai": "Noto Sans Thai",
    "cjk": "Noto Sans CJK SC", EMOJI: "Noto Color Emoji",
}  # fmt: skip
# An uploaded font (docs/templates.md, Fonts) is a face "user:<file>": the file the server
# wrote for this render process's host, named by its owner, id and hash.
USER = "user:"
_USER_FAMILIES: dict[str, str] = {}
CHAIN = ("inter", "noto", "arabic", "hebrew", "devanagari", "thai", "cjk", EMOJI)
PRIMARY = "inter"


def raqm_available() -> bool:
    """True when Pillow was built with libraqm (shaping, bidi, kerning)."""
    return bool(features.check("raqm"))


@functools.cache
def layout_engine() -> ImageFont.Layout:
    if raqm_available():
        return ImageFont.Layout.RAQM
    log.warning("Pillow has no libraqm: Arabic/Devanagari are not shaped, RTL is not reordered")
    return ImageFont.Layout.BASIC


def user_face(path: str, family: str) -> str:
    """The face key of an uploaded font's file (the default face when the file is gone)."""
    if not Path(path).is_file():
        return PRIMARY
    key = USER + path
    _USER_FAMILIES[key] = family
    return key


def family(face: str) -> str:
    return _USER_FAMILIES.get(face, "") if face.startswith(USER) else FACE_FAMILIES[face]


def weights(face: str) -> list[int]:
    """The weights a bundled face has files for (others are drawn with the nearest)."""
    return [400, 600, 700] if face == PRIMARY else [400, 700]


def font_file(face: str, weight: int) -> Path:
    if face.startswith(USER):  # one file, whatever the weight asked
        return Path(face.removeprefix(USER))
    if face == PRIMARY and 500 <= weight < 700:
        return FONT_DIR / "Inter-SemiBold.ttf"
    regular, bold = _FILES[face]
    return FONT_DIR / (bold if weight >= 600 else regular)


def coverage(face: str) -> frozenset[int]:
    """Code points the face maps to a glyph (both weights share a character set)."""
    return _user_coverage(face) if face.startswith(USER) else _coverage(face)


@functools.cache
def _coverage(face: str) -> frozenset[int]:
    with TTFont(font_file(face, 400), lazy=True) as font:
        return frozenset(font.getBestCmap())


@functools.lru_cache(maxsize=16)  # uploaded fonts: the recent ones (a CJK cmap is ~2 MB)
def _user_coverage(face: str) -> frozenset[int]:
    try:
        with TTFont(font_file(face, 400), lazy=True) as font:
            return frozenset(font.getBestCmap() or ())
    except Exception:  # checked at upload; a file that still fails draws nothing of its own
        log.warning("uploaded font %s: no cmap", face, exc_info=True)
        return frozenset()


def get_font(face: str, weight: int, size: int) -> ImageFont.FreeTypeFont:
    """The face at a size. The emoji face loads at one size whatever is asked (its strikes are
    bitmaps), so all sizes share one instance."""
    if face == EMOJI:
        return _open(EMOJI, 400, EMOJI_PPEM)
    return _open(face, weight, max(1, size))


# An open face costs ~0.4 MB (FreeType's tables and caches) and ~0.2 ms to open again, and
# shrink-to-fit tries many sizes: keep the recent 64 (the sizes repeated cards use), not 512.
@functools.lru_cache(maxsize=64)
def _open(face: str, weight: int, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_file(face, weight)), size, layout_engine=layout_engine())


@dataclass(frozen=True)
class VMetrics:
    ascent: float  # fractions of the em, from hhea (Inter: hhea == typo)
    descent: float


@functools.cache
def vmetrics() -> VMetrics:
    with TTFont(font_file(PRIMARY, 700), lazy=True) as font:
        upm = font["head"].unitsPerEm
        return VMetrics(font["hhea"].ascent / upm, -font["hhea"].descent / upm)


def preload() -> None:
    """Read every face's cmap and open the common sizes (pool workers call this at start)."""
    layout_engine()
    vmetrics()
    for face in CHAIN:
        coverage(face)
        get_font(face, 400, 32)
        get_font(face, 700, 54)
