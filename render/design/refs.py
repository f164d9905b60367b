"""Field references in a design: `{{name}}` inside text, a whole `{{name}}` for colours, image
sources and ratings, and `$token` for per-theme colours. Substitution is plain string
replacement: nothing in a design is evaluated."""

from __future__ import annotations

import re
from collections.abc import Mapping

HEX = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})")
PLACEHOLDER = re.compile(r"\{\{([a-z][a-z0-9_]{0,39})\}\}")
_WHOLE = re.compile(r"\{\{([a-z][a-z0-9_]{0,39})\}\}")
_TOKEN = re.compile(r"\$([a-z][a-z0-9_]{0,39})")


def text_refs(text: str) -> list[str]:
    """The field names `text` refers to, in order."""
    return PLACEHOLDER.findall(text)


def stray_braces(text: str) -> bool:
    """True when `text` holds `{{` or `}}` that is not a field reference (a typo such as
    `{{ title }}` or `{{Title}}` would otherwise be drawn literally)."""
    rest = PLACEHOLDER.sub("", text)
    return "{{" in rest or "}}" in rest


def whole_ref(value: object) -> str | None:
    """The field of a value that is exactly `{{name}}`, else None."""
    if isinstance(value, str) and (m := _WHOLE.fullmatch(value)):
        return m.group(1)
    return None


def token(value: object) -> str | None:
    """The token of a value that is exactly `$name`, else None."""
    if isinstance(value, str) and (m := _TOKEN.fullmatch(value)):
        return m.group(1)
    return None


def substitute(text: str, values: Mapping[str, str]) -> str:
    """`text` with each `{{name}}` replaced by its value (empty when unset)."""
    if "{{" not in text:
        return text
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), ""), text)
