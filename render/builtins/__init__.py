"""The built-in templates as designs (docs/templates.md, Forking a built-in): JSON files drawn
by `render.design.engine` like any user's design, published at `GET /api/templates/{name}`.
Posting one back as a custom template renders the same card."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


@functools.cache
def names() -> tuple[str, ...]:
    """Every built-in that ships a design."""
    return tuple(sorted(p.stem for p in HERE.glob("*.json")))


@functools.cache
def text(name: str) -> str:
    """The design of the built-in `name` as shipped (what the engine draws and keys on)."""
    return (HERE / f"{name}.json").read_text(encoding="utf-8")


@functools.cache
def parsed(name: str) -> dict[str, Any]:
    """The design, parsed once: read it, never change it (`design` gives a copy to change)."""
    return json.loads(text(name))


def design(name: str) -> dict[str, Any] | None:
    """A fresh copy of the built-in `name`'s design, or None when there is none."""
    return json.loads(text(name)) if name in names() else None
