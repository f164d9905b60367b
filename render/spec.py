"""What to draw: a frozen, hashable card specification (validated by the caller)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

TEXT_FIELDS = (
    "author_name",
    "reading_time",
    "date",
    "time",
    "location",
    "speaker_name",
    "price",
    "original_price",
    "brand",
    "rating",
    "badge",
    "stat_value",
    "stat_label",
    "trend_icon",
    "trend_value",
    "address",
    "beds",
    "baths",
    "sqft",
    "caption_top",
    "caption_bottom",
)
IMAGE_FIELDS = ("author_avatar_url", "logo_url", "image_url")
COLOR_FIELDS = ("bg_color", "text_color", "accent_color")
DEFAULT_QUALITY = {"jpeg": 90, "webp": 85}

# The parameter limits of docs/rest-api.md (Parameters): the one place they are written down;
# resolvers.images.params validates with them, the template schemas publish them, the renderer
# clamps.
MAX_TITLE = 200
MAX_SUBTITLE = 300
MAX_TEXT_FIELD = 100
MAX_URL_LENGTH = 2048
MIN_SIZE, MAX_SIZE = 200, 2400  # width and height, pixels
MIN_QUALITY, MAX_QUALITY = 1, 100


@dataclass(frozen=True)
class CardSpec:
    """One card. `fields` holds (name, value) pairs sorted by name; `images` holds
    (field_name, bytes or None) for the remote images the caller fetched."""

    title: str
    subtitle: str | None = None
    template: str = "default"
    theme: Literal["dark", "light"] = "dark"
    format: Literal["png", "jpeg", "webp"] = "png"
    width: int = 1200
    height: int = 630
    quality: int | None = None
    fields: tuple[tuple[str, str], ...] = ()
    bg_color: str | None = None
    text_color: str | None = None
    accent_color: str | None = None
    images: tuple[tuple[str, bytes | None], ...] = ()
    # A custom template's design as canonical JSON (docs/templates.md), drawn by
    # render.design.engine; None for the built-ins. `fields` then holds its field values.
    design: str | None = None
    # The owner's uploaded fonts the design names: (font id, the file on this host, family);
    # a font not listed (deleted) is drawn in the default family.
    fonts: tuple[tuple[str, str, str], ...] = ()

    def field(self, name: str) -> str | None:
        """The value of a template field, or None when absent or blank."""
        for key, value in self.fields:
            if key == name:
                return value if value and value.strip() else None
        return None

    def image(self, name: str) -> bytes | None:
        for key, value in self.images:
            if key == name:
                return value or None
        return None

    @classmethod
    def build(
        cls,
        title: str,
        *,
        fields: dict[str, str] | None = None,
        images: dict[str, bytes | None] | None = None,
        **kw,
    ) -> CardSpec:
        """Convenience constructor taking dicts (sorted into tuples)."""
        return cls(
            title=title,
            fields=tuple(sorted((k, str(v)) for k, v in (fields or {}).items() if v is not None)),
            images=tuple(sorted((images or {}).items())),
            **kw,
        )
