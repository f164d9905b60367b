"""Request parameters for a custom template: the fields its design declares, checked by their
declarations with the image API's errors (docs/templates.md, Fields)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from resolvers.errors import AppError, InvalidParameter
from resolvers.fetch.policy import validate_image_url

MAX_TITLE_DEFAULT = 200  # a title without max_length (the built-ins' limit)
MAX_TEXT_DEFAULT = 1000
MAX_URL = 2048
_HEX = re.compile(r"#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
REQUEST = ("template", "theme", "format", "width", "height", "quality")


@dataclass(frozen=True)
class DrawnDesign:
    """The version of a custom template a request draws."""

    label: str  # "tpl_…@N": the template and the version actually drawn (cache keys use it)
    text: str  # the design, canonical JSON
    design: Mapping[str, Any]
    # the owner's fonts it names, on this host: (font id, file, family); the files are named
    # by id and hash, so cache keys use their names (a deleted font is a new image)
    fonts: tuple[tuple[str, str, str], ...] = ()

    @property
    def version(self) -> tuple[str, int]:
        """(template id, version number): `ImageRequest.template_version`."""
        template_id, number = self.label.split("@")
        return template_id, int(number)

    @property
    def fields(self) -> Mapping[str, Mapping[str, Any]]:
        return self.design["fields"]

    @property
    def names(self) -> frozenset[str]:
        return frozenset(REQUEST) | frozenset(self.fields)


def _bad(code: str, message: str) -> AppError:
    return AppError(message, code=code, status=400)


def hex_colour(name: str, value: str) -> str:
    """`value` as `#rrggbb` (from #rgb or #rrggbb, the # optional), or INVALID_PARAMETER naming
    `name`: the one colour rule of image parameters and template fields."""
    m = _HEX.fullmatch(value.strip())
    if not m:
        raise InvalidParameter(f"{name} must be a hex colour like #1e3a8a or #fff")
    digits = m.group(1).lower()
    return "#" + (digits if len(digits) == 6 else "".join(c * 2 for c in digits))


def _number(name: str, value: str) -> str:
    try:
        number = float(value.strip())
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or len(value.strip()) > 32:
        raise InvalidParameter(f"{name} must be a number")
    return value.strip()


def design_values(
    given: Mapping[str, str], drawn: DrawnDesign, *, allow_http: bool
) -> tuple[str, dict[str, str], dict[str, str]]:
    """(title, every other field's value, the url fields to fetch) from the given parameters.
    MISSING_TITLE, TITLE_TOO_LONG, or INVALID_PARAMETER naming the field."""
    title = given.get("title", "")
    limit = drawn.fields["title"].get("max_length", MAX_TITLE_DEFAULT)
    if not title.strip():
        raise _bad("MISSING_TITLE", "title is required")
    if len(title) > limit:
        raise _bad("TITLE_TOO_LONG", f"title must be at most {limit} characters")
    values: dict[str, str] = {}
    urls: dict[str, str] = {}
    for name, spec in drawn.fields.items():
        if name == "title":
            continue
        value = given.get(name)
        if value is None or not value.strip():
            if spec.get("required"):
                raise InvalidParameter(f"{name} is required")
            continue
        kind = spec["type"]
        if kind == "url":
            urls[name] = values[name] = validate_image_url(
                name, value.strip()[: MAX_URL + 1], allow_http=allow_http
            )
            continue
        if kind == "color":
            values[name] = hex_colour(name, value)
        elif kind == "number":
            values[name] = _number(name, value)
        else:
            max_length = spec.get("max_length", MAX_TEXT_DEFAULT)
            if len(value) > max_length:
                raise InvalidParameter(f"{name} must be at most {max_length} characters")
            values[name] = value
    return title, values, urls


_MAX_BY_TYPE = {"url": MAX_URL, "color": 9, "number": 32}


def field_list(design: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The fields of a design in the shape of GET /api/templates (name, type, required,
    max_length), title first."""
    out = []
    for name, spec in sorted(design["fields"].items(), key=lambda kv: kv[0] != "title"):
        kind = spec["type"]
        limit = _MAX_BY_TYPE.get(kind) or spec.get(
            "max_length", MAX_TITLE_DEFAULT if name == "title" else MAX_TEXT_DEFAULT
        )
        out.append(
            {
                "name": name,
                "type": kind,
                "required": bool(spec.get("required")),
                "max_length": limit,
            }
        )
    return out
