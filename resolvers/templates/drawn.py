"""Which design a render draws: `template=tpl_…` is the latest version of one of the caller's
own templates, `tpl_…@N` pins version N (docs/templates.md, Versions). Anyone else's id, or
an unknown one, is 400 INVALID_TEMPLATE: nobody renders another account's design."""

from __future__ import annotations

import dataclasses
import functools
import json
import re
from collections.abc import Collection, Mapping
from typing import Any

from resolvers.errors import AppError
from resolvers.templates import fontfiles, store
from resolvers.templates.designs import require_valid
from resolvers.templates.fields import DrawnDesign
from resolvers.templates.fonts import own_ids

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
    design = _parsed(ver.design)
    fonts = await fontfiles.for_render(account_id, _font_refs(ver.design))
    return DrawnDesign(f"{template_id}@{ver.version}", ver.design, design, fonts)


@functools.lru_cache(maxsize=256)
def _font_refs(text: str) -> frozenset[str]:
    return frozenset(fontfiles.font_refs(_parsed(text))) if "font_" in text else frozenset()


def unsaved(design: object, fonts: Collection[str] = ()) -> DrawnDesign:
    """A design not saved yet (the template studio's live preview), checked exactly as saving
    it would be (`fonts`: the owner's own `font_…` ids, as `store.check_body` takes them):
    400 INVALID_DESIGN with every problem's JSON Pointer."""
    text = store.canonical(require_valid(design, fonts))
    return DrawnDesign(UNSAVED, text, _parsed(text))


async def unsaved_for(account_id: int, design: object) -> DrawnDesign:
    """`unsaved` for this account: its own fonts may be named, and are drawn."""
    checked = unsaved(design, await own_ids(account_id))
    fonts = await fontfiles.for_render(account_id, _font_refs(checked.text))
    return dataclasses.replace(checked, fonts=fonts)
