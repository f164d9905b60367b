"""The render report (docs/templates.md, The render report): what a render drew where it is not
what was asked. Per field: the font size chosen, the lines, whether the text was cut with an
ellipsis, the code points no font could draw and the font families used; per remote image:
drawn, or a placeholder and why.

A `Report` is collected while a card is drawn (`collecting`): the design engine and the
built-ins' text fitting call `text`, image decoding calls `image`. With no collector active
(a test drawing a card directly) they do nothing.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from render import text as tx
from render.layout import Block

WARNINGS = ("truncated", "missing_glyphs", "image_failed")
FETCH_FAILED = "the image could not be fetched"
UNDECODABLE = "not an image Pillow can decode"


@dataclass
class FieldReport:
    font_size: int
    lines: int
    truncated: bool = False
    missing: set[int] = field(default_factory=set)
    fonts: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "font_size": self.font_size,
            "lines": self.lines,
            "truncated": self.truncated,
            "missing_glyphs": [f"U+{cp:04X}" for cp in sorted(self.missing)],
            "fonts": list(self.fonts),
        }


@dataclass
class Report:
    """One render's report; `images` maps a url field to (status, reason)."""

    fields: dict[str, FieldReport] = field(default_factory=dict)
    images: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    # the spec's fetched images (field, bytes or None), to name what `image` is told about
    given: tuple[tuple[str, bytes | None], ...] = ()

    def text(
        self, name: str, block: Block, families: Iterable[str], missing: Iterable[int]
    ) -> None:
        """A text block drawn for field `name`; a field drawn twice keeps its first size and
        lines, and adds up truncation, missing code points and fonts."""
        entry = self.fields.get(name)
        if entry is None:
            entry = self.fields[name] = FieldReport(block.size, len(block.lines))
        entry.truncated = entry.truncated or block.truncated
        entry.missing.update(missing)
        entry.fonts.extend(f for f in families if f not in entry.fonts)

    def image(self, data: bytes | None, ok: bool) -> None:
        for name, given in self.given:
            if given is data and data is not None:
                self.images[name] = ("ok", None) if ok else ("placeholder", UNDECODABLE)

    def finish(self) -> Report:
        """Every fetched image gets a status: one that failed to fetch is a placeholder, one
        the card never decoded (its template does not draw it) counts as drawn."""
        for name, data in self.given:
            if data is None:
                self.images[name] = ("placeholder", FETCH_FAILED)
            else:
                self.images.setdefault(name, ("ok", None))
        return self

    def warnings(self) -> str:
        """The `X-Render-Warnings` value: `field=warning` pairs joined by "; " ("" if none)."""
        out = []
        for name in sorted(self.fields):
            f = self.fields[name]
            if f.truncated:
                out.append(f"{name}=truncated")
            if f.missing:
                out.append(f"{name}=missing_glyphs")
        out.extend(
            f"{n}=image_failed" for n in sorted(self.images) if self.images[n][0] == "placeholder"
        )
        return "; ".join(out)

    def as_dict(self) -> dict[str, Any]:
        return {
            "fields": {n: self.fields[n].as_dict() for n in sorted(self.fields)},
            "images": {n: {"status": s, "reason": r} for n, (s, r) in sorted(self.images.items())},
        }


_CURRENT: contextvars.ContextVar[Report | None] = contextvars.ContextVar("report", default=None)


@contextmanager
def collecting(images: tuple[tuple[str, bytes | None], ...] = ()) -> Iterator[Report]:
    """Collect the report of the card drawn inside the block."""
    report = Report(given=images)
    token = _CURRENT.set(report)
    try:
        yield report
    finally:
        _CURRENT.reset(token)
        report.finish()


def active() -> bool:
    return _CURRENT.get() is not None


def text(name: str, block: Block, face: str | None = None) -> None:
    """Record `block` as drawn for field `name` (with `face` first in its font chain)."""
    report = _CURRENT.get()
    if report is None or not block.lines:
        return
    families, missing = tx.block_fonts(block, face)
    report.text(name, block, families, missing)


def image(data: bytes | None, ok: bool) -> None:
    report = _CURRENT.get()
    if report is not None:
        report.image(data, ok)
