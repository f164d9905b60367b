"""Field references in a design: `{{name}}` inside text, a whole `{{name}}` for colours, image
sources and ratings, and `$token` for per-theme colours. Substitution is plain string
replacement: nothing in a design is evaluated."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

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


class Shown:
    """Values as conditions see them: a field `failed` says is unusable (an image that could
    not be drawn) is empty."""

    def __init__(self, values: Mapping[str, str], failed: Callable[[str], bool]) -> None:
        self.values, self.failed = values, failed

    def get(self, name: str, default: str = "") -> str:
        value = self.values.get(name, default)
        return "" if value.strip() and self.failed(name) else value


def visible(layer: Mapping[str, Any], values: Mapping[str, str] | Shown) -> bool:
    """Whether a layer's conditions hold: every `if` field set, no `unless` field set, one of
    the `if_contains` strings in one of its fields and none of the `unless_contains` ones."""

    def names(cond: str) -> list[str]:
        value = layer.get(cond, [])
        return value if isinstance(value, list) else [value]

    def contains(test: Mapping[str, Any]) -> bool:
        return any(s in values.get(n, "") for n in test["fields"] for s in test["any"])

    if not all(values.get(n, "").strip() for n in names("if")):
        return False
    if any(values.get(n, "").strip() for n in names("unless")):
        return False
    if (has := layer.get("if_contains")) is not None and not contains(has):
        return False
    return (hasnt := layer.get("unless_contains")) is None or not contains(hasnt)
