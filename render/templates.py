"""The template registry: names, descriptions, field schemas, palettes and drawings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from PIL import Image

from render.designs import backgrounds as bgs
from render.designs import commerce, data, editorial
from render.designs.base import Ctx, Palette
from render.draw import rgb_hex
from render.spec import MAX_SUBTITLE, MAX_TEXT_FIELD, MAX_TITLE, MAX_URL_LENGTH


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str  # "string" | "url" | "color" | "number"
    required: bool = False
    max_length: int | None = None


_TYPES = {
    "author_avatar_url": "url",
    "logo_url": "url",
    "image_url": "url",
    "beds": "number",
    "baths": "number",
    "sqft": "number",
    "rating": "number",
}
_COLOURS = ("bg_color", "text_color", "accent_color")


def _schema(uses: tuple[str, ...]) -> list[FieldSpec]:
    out = [
        FieldSpec("title", "string", True, MAX_TITLE),
        FieldSpec("subtitle", "string", False, MAX_SUBTITLE),
    ]
    for name in uses:
        kind = _TYPES.get(name, "string")
        out.append(
            FieldSpec(name, kind, False, MAX_URL_LENGTH if kind == "url" else MAX_TEXT_FIELD)
        )
    out.extend(FieldSpec(name, "color", False, 9) for name in _COLOURS)
    return out


DARK = Palette(
    (0x0F, 0x17, 0x2A),
    (0x1E, 0x3A, 0x8A),
    (255, 255, 255),
    (0xCB, 0xD5, 0xE1),
    (0x94, 0xA3, 0xB8),
    (0x3B, 0x82, 0xF6),
    (0x93, 0xC5, 0xFD),
    (0x1E, 0x29, 0x4B),
)
LIGHT = Palette(
    (0xFF, 0xFF, 0xFF),
    (0xEF, 0xF6, 0xFF),
    (0x0F, 0x17, 0x2A),
    (0x33, 0x41, 0x55),
    (0x64, 0x74, 0x8B),
    (0x25, 0x63, 0xEB),
    (0x1D, 0x4E, 0xD8),
    (0xE0, 0xEA, 0xFB),
)


@dataclass(frozen=True)
class Template:
    name: str
    description: str
    uses: tuple[str, ...]  # the template fields it draws (docs/rest-api.md, Parameters)
    draw: Callable[[Ctx], None] = field(repr=False, compare=False)
    background: Callable[[int, int, Palette], Image.Image] = field(
        default=bgs.gradient, repr=False, compare=False
    )
    palettes: dict[str, Palette] = field(
        default_factory=lambda: {"dark": DARK, "light": LIGHT}, repr=False, compare=False
    )

    @property
    def fields(self) -> list[FieldSpec]:
        return _schema(self.uses)

    def palette(self, theme: str) -> Palette:
        return self.palettes.get(theme, self.palettes["dark"])

    def colors(self) -> dict[str, dict[str, str]]:
        """Per theme, what the colour fields are when not given: the background where its
        gradient starts, the title's colour and the accent (GET /api/templates)."""
        return {
            theme: {
                "bg_color": rgb_hex(p.bg0),
                "text_color": rgb_hex(p.text),
                "accent_color": rgb_hex(p.accent),
            }
            for theme, p in self.palettes.items()
        }


_AUTHOR = ("author_name", "author_avatar_url", "date", "reading_time", "brand", "logo_url")
TEMPLATES: dict[str, Template] = {
    t.name: t
    for t in (
        Template(
            "default",
            "Title, subtitle and an author row on a deep gradient.",
            _AUTHOR,
            editorial.draw_default,
        ),
        Template(
            "minimal",
            "A centred title on a clean flat background.",
            ("brand", "author_name"),
            editorial.draw_minimal,
            bgs.flat,
            {"dark": bgs.MINIMAL_DARK, "light": bgs.MINIMAL_LIGHT},
        ),
        Template(
            "vibrant",
            "Bold colourful gradient with soft glows for announcements.",
            ("badge", "brand", "logo_url", "author_name"),
            data.draw_vibrant,
            bgs.vibrant,
            {"dark": bgs.VIBRANT_DARK, "light": bgs.VIBRANT_LIGHT},
        ),
        Template(
            "blog",
            "Article card: category, title, excerpt, author, reading time and cover.",
            (*_AUTHOR, "badge", "image_url"),
            editorial.draw_blog,
            bgs.flat,
        ),
        Template(
            "product",
            "Product card with price, discount, rating and product image.",
            ("brand", "logo_url", "price", "original_price", "rating", "badge", "image_url"),
            commerce.draw_product,
            bgs.split,
        ),
        Template(
            "event",
            "Event card: date, time, location and speaker.",
            (
                "date",
                "time",
                "location",
                "speaker_name",
                "author_avatar_url",
                "badge",
                "brand",
                "logo_url",
            ),
            data.draw_event,
            bgs.dots,
        ),
        Template(
            "stats",
            "One big number with its label and trend.",
            ("stat_value", "stat_label", "trend_icon", "trend_value", "brand", "logo_url"),
            data.draw_stats,
            bgs.grid,
        ),
        Template(
            "real_estate",
            "Property listing: photo, price, address, beds, baths and area.",
            (
                "price",
                "address",
                "beds",
                "baths",
                "sqft",
                "badge",
                "image_url",
                "brand",
                "logo_url",
            ),
            commerce.draw_real_estate,
            bgs.split,
        ),
        Template(
            "quote",
            "A pull quote with who said it.",
            ("author_name", "author_avatar_url", "brand"),
            editorial.draw_quote,
            bgs.gradient,
        ),
        Template(
            "caption",
            "An image with top and bottom captions.",
            ("caption_top", "caption_bottom", "image_url"),
            data.draw_caption,
            bgs.flat,
        ),
    )
}


def get_template(name: str) -> Template:
    """The template called `name` (KeyError when unknown; callers validate first)."""
    return TEMPLATES[name]
