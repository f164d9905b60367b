"""Which design a render draws: `template=tpl_…` is the latest version of one of the caller's
own templates, `tpl_…@N` pins version N (docs/templates.md, Versions). Anyone else's id, or
an unknown one, is 400 INVALID_TEMPLATE: nobody renders another account's design."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Collection, Mapping
from typing import Any

from resolvers.errors import AppError
from resolvers.templates import store
from resolvers.templates.designs import require_valid
from resolvers.templates.fields import DrawnDesign

UNSAVED = "draft@0"  # the label of a design drawn before it is saved (the studio's preview)
_REF = re.compile(r"(tpl_[a-z0-9]{16})(?:@([1-9][0-9]{0,8}))?")


def is_custom(raw: Mapping[str, object]) -> bool:
    value = raw.get("template")
    return isinstance(value, str) and value.strip().lower().startswith(store.ID_PREFIX)


def invalid(template: str) -> AppError:
    return AppError(
        f"Unknown template {template[:50]!r}: not one of your templates.",
        code="INVALID_TEMPLATE",
        status=400,
    )


@functools.lru_cache(maxsize=256)
def _parsed(text: str) -> Mapping[str, Any]:
    return json.loads(text)


async def resolve(account_id: int, raw: Mapping[str, object]) -> DrawnDesign | None:
    """The design `raw["template"]` names for this account; None for a built-in. One indexed
    read each time (no memo): a new version, or a deletion, shows at once on every worker."""
    if not is_custom(raw):
        return None
    written = str(raw["template"]).strip().lower()
    m = _REF.fullmatch(written)
    if m is None:
        raise invalid(written)
    template_id, pin = m.group(1), int(m.group(2)) if m.group(2) else None
    try:
        ver = await store.for_render(account_id, template_id, pin)
    except store.TemplateNotFound:
        raise invalid(written) from None
    return DrawnDesign(f"{template_id}@{ver.version}", ver.design, _parsed(ver.design))


def unsaved(design: object, fonts: Collection[str] = ()) -> DrawnDesign:
    """A design not saved yet (the template studio's live preview), checked exactly as saving
    it would be (`fonts`: the owner's own `font_…` ids, as `store.check_body` takes them):
    400 INVALID_DESIGN with every problem's JSON Pointer."""
    text = store.canonical(require_valid(design, fonts))
    return DrawnDesign(UNSAVED, text, _parsed(text))
