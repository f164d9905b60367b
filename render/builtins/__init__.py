"""The built-in templates as designs (docs/templates.md, Forking a built-in): JSON files drawn
by `render.design.engine`, published at `GET /api/templates/{name}`. Posting one back as a
custom template renders the same card."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


@functools.cache
def names() -> tuple[str, ...]:
    """The built-ins converted to designs so far."""
    return tuple(sorted(p.stem for p in HERE.glob("*.json")))


@functools.cache
def _text(name: str) -> str:
    return (HERE / f"{name}.json").read_text(encoding="utf-8")


def design(name: str) -> dict[str, Any] | None:
    """A fresh copy of the built-in `name`'s design, or None when it has none yet."""
    return json.loads(_text(name)) if name in names() else None
