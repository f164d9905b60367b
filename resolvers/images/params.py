"""Image parameters (docs/rest-api.md): raw query/JSON values in, a validated `ImageRequest` out.

One parser serves `POST/GET /api/generate`, signed-URL minting and signed-URL serving, so a
parameter means the same thing everywhere. Unknown names are rejected (a typo such as
`subtitel` would otherwise render silently without it).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TypeVar

from render.card import RENDER_VERSION, mime_type
from render.spec import (
    COLOR_FIELDS,
    IMAGE_FIELDS,
    MAX_QUALITY,
    MAX_SIZE,
    MAX_SUBTITLE,
    MAX_TEXT_FIELD,
    MAX_TITLE,
    MIN_QUALITY,
    MIN_SIZE,
    TEXT_FIELDS,
    CardSpec,
)
from render.templates import TEMPLATES
from resolvers.errors import AppError, InvalidParameter
from resolvers.fetch.policy import validate_image_url
from resolvers.memo import BoundedMap
from resolvers.templates.fields import DrawnDesign, design_values, hex_colour

CORE = ("title", "subtitle", "template", "theme", "format", "width", "height", "quality")
PARAMS = frozenset(CORE + TEXT_FIELDS + IMAGE_FIELDS + COLOR_FIELDS)
NUMBERS = {
    "width": (MIN_SIZE, MAX_SIZE),
    "height": (MIN_SIZE, MAX_SIZE),
    "quality": (MIN_QUALITY, MAX_QUALITY),
}
FORMATS = {"png": "png", "jpeg": "jpeg", "jpg": "jpeg", "webp": "webp"}
MAX_DIGITS = 18  # any number we accept (sizes, seconds, Unix times) fits; int() never sees more
_DIGITS = re.compile(f"[0-9]{{1,{MAX_DIGITS}}}")


def whole_number(value: object) -> int | None:
    """The one reading of a whole number given by a client (width, height, quality, expires_in,
    exp): an int (not a bool) or a string of ASCII digits with optional surrounding whitespace,
    at most MAX_DIGITS long. Anything else is None,
    including signs, Unicode digits such as "²" or "٣" (which str.isdigit() accepts and int()
    refuses) and thousands of digits (which int() refuses past 4300)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _DIGITS.fullmatch(text := value.strip()):
        return int(text)
    return None


def _bad(code: str, message: str) -> AppError:
    return AppError(message, code=code, status=400)


@dataclass(frozen=True)
class ImageRequest:
    """A validated image request: what to draw, which images to fetch, and its cache key."""

    spec: CardSpec  # without images: the caller fetches `urls` and fills them in
    urls: dict[str, str] = field(default_factory=dict, compare=False)
    # The normalised parameters the caller gave (defaults left out), sorted by name.
    params: tuple[tuple[str, str], ...] = ()
    # The hook for custom templates: the design version actually drawn, e.g. ("tpl_…", 3) for
    # `template=tpl_…` resolved to its latest version (or pinned with @3). It is part of
    # `cache_key`, hence of the cache and image-store keys: a new version is a new image.
    template_version: tuple[str, int] | None = None
    # The uploaded fonts drawn (their files' names: id and hash), also in `cache_key`.
    fonts: tuple[str, ...] = ()

    @cached_property
    def cache_key(self) -> str:
        """sha256 over everything that decides the pixels: the render version, the fully
        normalised spec (defaults included, so format, size and quality), the remote image URLs
        and the template version drawn. The cache and the image store key on it, under the
        owning account (docs/caching.md): two requests share an image only when they draw the
        same thing."""
        s = self.spec
        core = (s.template, s.theme, s.format, s.width, s.height, s.quality, s.title, s.subtitle)
        parts: tuple = (
            RENDER_VERSION,
            core,
            s.fields,
            s.bg_color,
            s.text_color,
            s.accent_color,
            tuple(sorted(self.urls.items())),
        )
        if self.template_version is not None:  # built-ins keep the keys they always had
            parts += (self.template_version,)
        if self.fonts:
            parts += (self.fonts,)
        data = repr(parts)
        return hashlib.sha256(data.encode("utf-8", "surrogatepass")).hexdigest()

    @property
    def content_type(self) -> str:
        return mime_type(self.spec.format)


def _text(name: str, value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        if name in NUMBERS:  # JSON true or [1] for width: say what is wanted, not "a string"
            raise _not_a_number(name)
        raise InvalidParameter(f"{name} must be a string")
    return value if isinstance(value, str) else str(value)


def _not_a_number(name: str) -> InvalidParameter:
    low, high = NUMBERS[name]
    return InvalidParameter(f"{name} must be a whole number from {low} to {high}")


def _int(name: str, value: object) -> int:
    low, high = NUMBERS[name]
    number = whole_number(value)
    if number is None or not low <= number <= high:
        raise _not_a_number(name)
    return number


def _core(given: dict[str, str], width: int, height: int) -> tuple[dict, dict[str, str]]:
    """theme, format, width, height and quality, as `CardSpec` arguments and in their normal
    forms (defaults filled in)."""
    theme = given.get("theme", "dark").strip().lower()
    if theme not in ("dark", "light"):
        raise _bad("INVALID_THEME", "theme must be dark or light")
    fmt = FORMATS.get(given.get("format", "png").strip().lower())
    if fmt is None:
        raise InvalidParameter("format must be png, jpeg or webp")
    width = _int("width", given.get("width", str(width)))
    height = _int("height", given.get("height", str(height)))
    quality = None
    if "quality" in given:
        quality = _int("quality", given["quality"])
    if fmt == "png":
        quality = None  # lossless: the same image whatever was asked
    core = {"theme": theme, "format": fmt, "width": width, "height": height, "quality": quality}
    normal = {name: "" if value is None else str(value) for name, value in core.items()}
    return core, normal


def _given_params(given: dict[str, str], normal: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """`ImageRequest.params`: the names given, each in its normal form, empty ones left out."""
    return tuple(sorted((k, normal.get(k, v)) for k, v in given.items() if normal.get(k, v)))


def _custom(given: dict[str, str], drawn: DrawnDesign, allow_http: bool) -> ImageRequest:
    """A custom template's request: its declared fields; the design's own size by default."""
    d = drawn.design
    core, normal = _core(given, d.get("width", 1200), d.get("height", 630))
    normal["template"] = given.get("template", "").strip().lower()
    title, values, urls = design_values(given, drawn, allow_http=allow_http)
    normal.update(values)
    spec = CardSpec.build(
        title,
        template=drawn.label,
        fields=values,
        design=drawn.text,
        fonts=drawn.fonts,
        **core,
    )
    fonts = tuple(path.rsplit("/", 1)[-1] for _, path, _ in drawn.fonts)
    params = _given_params(given, normal)
    return ImageRequest(spec, urls, params, template_version=drawn.version, fonts=fonts)


def parse_params(
    raw: Mapping[str, object], *, allow_http: bool, design: DrawnDesign | None = None
) -> ImageRequest:
    """Validate raw parameters (query strings or a JSON object) into an `ImageRequest`; with
    `design`, those of that custom template (resolvers.templates.drawn resolves it).

    Raises the codes of docs/rest-api.md: MISSING_TITLE, TITLE_TOO_LONG, SUBTITLE_TOO_LONG,
    INVALID_TEMPLATE, INVALID_THEME and INVALID_PARAMETER naming the field.
    """
    names = PARAMS if design is None else design.names
    unknown = sorted(k for k in raw if k not in names)
    if unknown:
        raise InvalidParameter(f"Unknown parameter: {unknown[0]}")
    given: dict[str, str] = {}
    for name, value in raw.items():
        if value is None:
            continue
        text = _text(name, value)
        if text.strip() or name == "title":
            given[name] = text
    if design is not None:
        return _custom(given, design, allow_http)

    title = given.get("title", "")
    if not title.strip():
        raise _bad("MISSING_TITLE", "title is required")
    if len(title) > MAX_TITLE:
        raise _bad("TITLE_TOO_LONG", f"title must be at most {MAX_TITLE} characters")
    subtitle = given.get("subtitle")
    if subtitle is not None and len(subtitle) > MAX_SUBTITLE:
        raise _bad("SUBTITLE_TOO_LONG", f"subtitle must be at most {MAX_SUBTITLE} characters")

    template = given.get("template", "default").strip().lower()
    if template not in TEMPLATES:
        raise _bad(
            "INVALID_TEMPLATE",
            f"Unknown template {template[:50]!r}. Templates: " + ", ".join(TEMPLATES),
        )
    core, normal = _core(given, 1200, 630)
    normal["template"] = template

    limits = {f.name: f.max_length for f in TEMPLATES[template].fields}
    texts: dict[str, str] = {}
    urls: dict[str, str] = {}
    colours: dict[str, str] = {}
    for name in TEXT_FIELDS:
        if name in given:
            limit = limits.get(name) or MAX_TEXT_FIELD
            if len(given[name]) > limit:
                raise InvalidParameter(f"{name} must be at most {limit} characters")
            texts[name] = given[name]
    for name in IMAGE_FIELDS:
        if name in given:
            urls[name] = validate_image_url(name, given[name].strip(), allow_http=allow_http)
            normal[name] = urls[name]
    for name in COLOR_FIELDS:
        if name in given:
            colours[name] = normal[name] = hex_colour(name, given[name])

    spec = CardSpec.build(
        title,
        subtitle=subtitle,
        template=template,
        fields=texts,
        bg_color=colours.get("bg_color"),
        text_color=colours.get("text_color"),
        accent_color=colours.get("accent_color"),
        **core,
    )
    return ImageRequest(spec, urls, _given_params(given, normal))


T = TypeVar("T")


class QueryMemo(BoundedMap[tuple[bool, str], T]):
    """Results of pure parsing by query string (a cache hit should not parse the same query
    string again and again). Bounded: the oldest entry goes first; long strings are not kept."""

    def __init__(self, max_entries: int = 4096, max_key: int = 2048) -> None:
        super().__init__(max_entries)
        self.max_key = max_key

    def put(self, key: tuple[bool, str], value: T) -> None:
        if len(key[1]) <= self.max_key:
            super().put(key, value)


def alt_text(spec: CardSpec, limit: int = 300) -> str:
    """A text alternative for the card: title, subtitle, then the fields the template draws."""
    parts = [spec.title.strip()]
    if spec.subtitle and spec.subtitle.strip():
        parts.append(spec.subtitle.strip())
    uses = TEMPLATES[spec.template].uses if spec.design is None else [k for k, _ in spec.fields]
    for name in uses:
        value = spec.field(name)
        if spec.design is not None and value and value.startswith(("https://", "http://")):
            continue
        if value:
            parts.append(value.strip())
    text = " — ".join(parts)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
