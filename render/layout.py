"""Paragraph layout: wrap by width, shrink between a max and a min size, clamp with an ellipsis."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from render import fonts
from render import text as tx

LINE_HEIGHT = 1.2


@dataclass(frozen=True)
class Line:
    text: str
    width: float


@dataclass(frozen=True)
class Block:
    """A laid-out paragraph; `height` is lines x line height. `face`: the face tried first
    (a text's own font); `truncated`: the text was cut with an ellipsis (or had no room)."""

    lines: tuple[Line, ...]
    weight: int
    size: int
    line_height: float
    rtl: bool
    face: str = fonts.PRIMARY
    truncated: bool = False

    @property
    def height(self) -> float:
        return len(self.lines) * self.size * self.line_height

    @property
    def width(self) -> float:
        return max((ln.width for ln in self.lines), default=0.0)


EMPTY = Block((), 400, 1, LINE_HEIGHT, False)


@functools.lru_cache(maxsize=8)
def _tokens(text: str) -> tuple[tuple[str, bool], ...]:
    """(token, space_before): breaks at spaces, between CJK characters and after hyphens
    (kept for the few texts being fitted: each size tried wraps the same tokens)."""
    out: list[tuple[str, bool]] = []
    for word in text.split(" "):
        if not word:
            continue
        cur, space = "", True
        for i, ch in enumerate(word):
            nxt = word[i + 1] if i + 1 < len(word) else ""
            cur += ch
            cjk_break = tx._is_cjk(ord(ch)) or (nxt and tx._is_cjk(ord(nxt)))
            hyphen = ch in "-/–—" and len(cur) > 1
            if (
                nxt
                and (cjk_break or hyphen)
                and nxt not in tx._NO_BREAK_BEFORE
                and ch not in tx._NO_BREAK_AFTER
            ):
                out.append((cur, space))
                cur, space = "", False
        if cur:
            out.append((cur, space))
    return tuple(out)


def _split_long(
    token: str, weight: int, size: int, rtl: bool, max_w: float, face: str = fonts.PRIMARY
) -> list[str]:
    """Cut an unbreakable token into pieces no wider than max_w (at least one char each)."""
    parts = []
    while token:
        lo, hi = 1, len(token)
        while lo < hi:  # longest prefix that fits
            mid = (lo + hi + 1) // 2
            if tx.width(token[:mid], weight, size, rtl, face) <= max_w:
                lo = mid
            else:
                hi = mid - 1
        parts.append(token[:lo])
        token = token[lo:]
    return parts


def wrap(
    text: str,
    weight: int,
    size: int,
    max_w: float,
    rtl: bool,
    face: str = fonts.PRIMARY,
    max_lines: int | None = None,
) -> list[Line]:
    """Greedy lines of `text`; with `max_lines`, stop once more than that many are complete
    (the first max_lines + 1 lines are the same, whatever follows them)."""

    def w(s: str) -> float:
        return tx.width(s, weight, size, rtl, face)

    lines: list[Line] = []
    cur = ""
    for token, space in _tokens(text):
        if max_lines is not None and len(lines) > max_lines:
            return lines
        cand = f"{cur} {token}" if cur and space else cur + token
        if not cur or w(cand) <= max_w:
            cur = cand
        else:
            lines.append(Line(cur, w(cur)))
            cur = token
        if w(cur) > max_w:  # one word wider than the box
            *full, cur = _split_long(cur, weight, size, rtl, max_w, face)
            lines.extend(Line(p, w(p)) for p in full)
    if cur:
        lines.append(Line(cur, w(cur)))
    return lines


def _ellipsize(
    text: str, weight: int, size: int, max_w: float, rtl: bool, face: str = fonts.PRIMARY
) -> Line:
    text = text.rstrip()
    while text and tx.width(text + tx.ELLIPSIS, weight, size, rtl, face) > max_w:
        cut = text.rfind(" ")
        shorter = text[:cut].rstrip() if cut > len(text) * 0.6 else text[:-1].rstrip()
        text = shorter
    out = text + tx.ELLIPSIS
    return Line(out, tx.width(out, weight, size, rtl, face))


@functools.lru_cache(maxsize=512)
def fit(
    text: str,
    weight: int,
    max_size: int,
    min_size: int,
    max_w: float,
    max_lines: int,
    max_h: float | None = None,
    line_height: float = LINE_HEIGHT,
    face: str = fonts.PRIMARY,
) -> Block:
    """The largest size in [min_size, max_size] at which `text` fits; else clamp at min_size.
    `face`: the font tried first for each character (the bundled chain follows)."""
    text = tx.clean(text)
    if not text:
        return EMPTY
    if max_w < 1:
        return Block((), weight, max_size, line_height, False, face, truncated=True)
    rtl = tx.paragraph_rtl(text)
    min_size = max(6, min(min_size, max_size))
    size = max(min_size, max_size)
    while True:
        limit = max_lines
        if max_h is not None:
            limit = max(1, min(limit, int(max_h // (size * line_height))))
        lines = wrap(text, weight, size, max_w, rtl, face, limit)
        if len(lines) <= limit:
            return Block(tuple(lines), weight, size, line_height, rtl, face)
        if size <= min_size:
            kept = lines[: limit - 1]
            # The last line kept and the next: the ellipsis cuts back from the end of all that
            # is left, and greedy wrapping found that more than the first of them is too wide.
            rest = " ".join(ln.text for ln in lines[limit - 1 : limit + 1])
            kept.append(_ellipsize(rest, weight, size, max_w, rtl, face))
            return Block(tuple(kept), weight, size, line_height, rtl, face, truncated=True)
        size = max(min_size, min(size - 1, round(size * 0.93)))
