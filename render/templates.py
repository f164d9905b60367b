"""The template registry: each built-in is a design (render/builtins) with a description; its
fields, their limits and its default colours all come from the design."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from render import builtins
from render.design.palette import PARAMS
from render.spec import MAX_TEXT_FIELD, MAX_URL_LENGTH


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str  # "string" | "url" | "color" | "number"
    required: bool = False
    max_length: int | None = None


_MAX_LENGTH = {"url": MAX_URL_LENGTH, "color": 9}


@dataclass(frozen=True)
class Template:
    name: str
    description: str

    @property
    def design(self) -> dict[str, Any]:
        """The built-in's design, parsed once (read only)."""
        return builtins.parsed(self.name)

    @property
    def source(self) -> str:
        """The design's JSON as shipped: what the engine draws and keys its caches on."""
        return builtins.text(self.name)

    @property
    def fields(self) -> list[FieldSpec]:
        """Every parameter the design reads, in its order (title, subtitle, …, colours)."""
        return [
            FieldSpec(
                name,
                spec["type"],
                bool(spec.get("required", False)),
                spec.get("max_length") or _MAX_LENGTH.get(spec["type"], MAX_TEXT_FIELD),
            )
            for name, spec in self.design["fields"].items()
        ]

    @property
    def uses(self) -> tuple[str, ...]:
        """The template fields it draws besides title, subtitle and the colour parameters
        (docs/rest-api.md, Parameters)."""
        skip = {"title", "subtitle", *PARAMS}
        return tuple(name for name in self.design["fields"] if name not in skip)

    def colors(self) -> dict[str, dict[str, str]]:
        """Per theme, what the colour fields are when not given: the background where its
        gradient starts, the title's colour and the accent (GET /api/templates)."""
        out = {}
        for theme, tokens in self.design["colors"].items():
            out[theme] = {
                param: tokens[token]
                for param, token in zip(PARAMS, ("bg0", "text", "accent"), strict=True)
                if isinstance(tokens.get(token), str)
            }
        return out


TEMPLATES: dict[str, Template] = {
    t.name: t
    for t in (
        Template("default", "Title, subtitle and an author row on a deep gradient."),
        Template("minimal", "A centred title on a clean flat background."),
        Template("vibrant", "Bold colourful gradient with soft glows for announcements."),
        Template("blog", "Article card: category, title, excerpt, author, reading time and cover."),
        Template("product", "Product card with price, discount, rating and product image."),
        Template("event", "Event card: date, time, location and speaker."),
        Template("stats", "One big number with its label and trend."),
        Template("real_estate", "Property listing: photo, price, address, beds, baths and area."),
        Template("quote", "A pull quote with who said it."),
        Template("caption", "An image with top and bottom captions."),
    )
}


def get_template(name: str) -> Template:
    """The template called `name` (KeyError when unknown; callers validate first)."""
    return TEMPLATES[name]
