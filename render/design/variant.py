"""A design's variants: other layouts for other shapes of card (docs/templates.md, Other
sizes)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def chosen(design: Mapping[str, Any], width: int, height: int) -> Mapping[str, Any]:
    """The design as drawn at width x height: the first of its `variants` whose `aspect`
    range [low, high) holds width / height, with that variant's reference size and layers;
    the design itself when none does."""
    ratio = width / height
    for variant in design.get("variants", ()):
        low, high = variant["aspect"]
        if low <= ratio < high:
            return {**design, **variant}
    return design
