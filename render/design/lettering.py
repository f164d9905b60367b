"""Text effects of designs: a slice of a field's words, a line through the text."""

from __future__ import annotations

from typing import TYPE_CHECKING

from render.layout import Block

if TYPE_CHECKING:
    from render.design.engine import Scene


def words(text: str, start: int, end: int | None = None) -> str:
    """Words start..end of `text`, split at spaces and commas: "Apr 24, 2026" [0, 2] is
    "Apr 24"."""
    return " ".join(text.replace(",", " ").split()[start:end])


def strike(
    scene: Scene, block: Block, x: float, y: float, w: float, fill: tuple, align: str
) -> None:
    """A line through each line of `block` at 55 % of its height (a struck-out price)."""
    lh, t = block.size * block.line_height, scene.px(1)
    for i, line in enumerate(block.lines):
        right = (align == "start") == block.rtl if align != "center" else None
        lx = x + (w - line.width) / 2 if right is None else (x + w - line.width if right else x)
        mid = y + i * lh + lh * 0.55
        scene.canvas.rect((lx, mid - t, lx + line.width, mid + t), fill)


def initials(name: str) -> str:
    """ "Jane Doe" -> "JD" (the built-ins' avatars)."""
    parts = [p for p in name.split() if p[:1].isalnum()]
    if not parts:
        return ""
    return (parts[0][0] + (parts[-1][0] if len(parts) > 1 else "")).upper()
