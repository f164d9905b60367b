"""An account's custom templates and their immutable versions (docs/templates.md): create,
read, new versions, delete; 100 per account. Another account's id is never found."""

from __future__ import annotations

import json
import secrets
import string
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models import Account, Template, TemplateVersion
from resolvers.errors import AppError, InvalidParameter
from resolvers.templates.designs import require_valid
from resolvers.templates.fonts import own_ids

MAX_TEMPLATES = 100
MAX_NAME, MAX_DESCRIPTION = 100, 500
ID_PREFIX = "tpl_"
_ALPHABET = string.ascii_lowercase + string.digits


class TemplateNotFound(AppError, code="TEMPLATE_NOT_FOUND", status=404): ...


class TemplateLimit(AppError, code="TEMPLATE_LIMIT", status=409): ...


def new_id() -> str:
    return ID_PREFIX + "".join(secrets.choice(_ALPHABET) for _ in range(16))


def looks_like_id(value: str) -> bool:
    rest = value.removeprefix(ID_PREFIX)
    return value.startswith(ID_PREFIX) and len(rest) == 16 and all(c in _ALPHABET for c in rest)


def canonical(design: dict) -> str:
    """The stored form of a design: compact JSON with sorted keys (one text per design)."""
    return json.dumps(design, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


@dataclass(frozen=True)
class Saved:
    """A template with the version asked for (the latest unless pinned)."""

    template: Template
    version: TemplateVersion
    versions: tuple[tuple[int, datetime], ...] = ()


def _text(name: str, value: object, limit: int, required: bool) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise InvalidParameter(
            f"{name} must be a non-empty string" if required else f"{name} must be a string"
        )
    if len(value) > limit:
        raise InvalidParameter(f"{name} must be at most {limit} characters")
    return value.strip()


def check_body(body: dict, *, creating: bool, fonts: Collection[str] = ()) -> dict:
    """`{name, description?, design}` checked: the name and description, and the design
    (400 INVALID_DESIGN with every problem)."""
    unknown = sorted(set(body) - {"name", "description", "design"})
    if unknown:
        raise InvalidParameter(f"Unknown member: {unknown[0][:40]}")
    out: dict[str, object] = {
        "name": _text("name", body.get("name"), MAX_NAME, creating),
        "description": _text("description", body.get("description"), MAX_DESCRIPTION, False),
    }
    if "design" not in body and creating:
        raise InvalidParameter("design is required")
    if "design" in body:
        out["design"] = require_valid(body["design"], fonts)
    return out


async def create(account_id: int, body: dict, now: datetime) -> Saved:
    fields = check_body(body, creating=True, fonts=await own_ids(account_id))
    async with in_transaction():
        # Counted under the account's row lock: two creates cannot both take the 100th place.
        await Account.select_for_update().filter(id=account_id).first()
        if await Template.filter(account_id=account_id).count() >= MAX_TEMPLATES:
            raise TemplateLimit(f"At most {MAX_TEMPLATES} templates per account.")
        tpl = await Template.create(
            id=new_id(),
            account_id=account_id,
            name=fields["name"],
            description=fields["description"] or "",
            version=1,
            created_at=now,
            updated_at=now,
        )
        ver = await TemplateVersion.create(
            template=tpl, version=1, design=canonical(fields["design"]), created_at=now
        )
    return Saved(tpl, ver, ((1, now),))


async def _owned(account_id: int, template_id: str) -> Template:
    tpl = None
    if looks_like_id(template_id):
        tpl = await Template.get_or_none(id=template_id, account_id=account_id)
    if tpl is None:
        raise TemplateNotFound(f"No template {template_id[:40]!r} in this account.")
    return tpl


async def _history(tpl: Template) -> tuple[tuple[int, datetime], ...]:
    rows = (
        await TemplateVersion.filter(template_id=tpl.id)
        .order_by("version")
        .values_list("version", "created_at")
    )
    return tuple((int(v), at) for v, at in rows)


async def read(account_id: int, template_id: str, version: int | None = None) -> Saved:
    """The template with its latest version (or `version`), and every version's number."""
    tpl = await _owned(account_id, template_id)
    ver = await TemplateVersion.get_or_none(template_id=tpl.id, version=version or tpl.version)
    if ver is None:
        raise TemplateNotFound(f"{template_id} has no version {version}.")
    return Saved(tpl, ver, await _history(tpl))


async def update(account_id: int, template_id: str, body: dict, now: datetime) -> Saved:
    """A new version (the design given, or the latest again with a new name/description)."""
    fields = check_body(body, creating=False, fonts=await own_ids(account_id))
    async with in_transaction():
        tpl = await _owned(account_id, template_id)
        await Template.select_for_update().filter(id=tpl.id).first()
        await tpl.refresh_from_db()
        latest = await TemplateVersion.get(template_id=tpl.id, version=tpl.version)
        design = canonical(fields["design"]) if "design" in fields else latest.design
        same = design == latest.design and all(
            fields[k] in (None, getattr(tpl, k)) for k in ("name", "description")
        )
        if same:  # nothing changed (a CI pushing the same file again): no new version
            return Saved(tpl, latest, await _history(tpl))
        tpl.version += 1
        tpl.updated_at = now
        if fields["name"] is not None:
            tpl.name = fields["name"]
        if fields["description"] is not None:
            tpl.description = fields["description"]
        await tpl.save()
        ver = await TemplateVersion.create(
            template=tpl, version=tpl.version, design=design, created_at=now
        )
    return Saved(tpl, ver, await _history(tpl))


async def delete(account_id: int, template_id: str) -> None:
    tpl = await _owned(account_id, template_id)
    await tpl.delete()


async def list_own(account_id: int) -> list[Template]:
    return await Template.filter(account_id=account_id).order_by("created_at", "id")


async def latest_designs(templates: list[Template]) -> dict[str, str]:
    """Each template's latest design (one query; at most MAX_TEMPLATES pairs)."""
    if not templates:
        return {}
    pairs = [Q(template_id=t.id, version=t.version) for t in templates]
    rows = await TemplateVersion.filter(Q(*pairs, join_type=Q.OR)).values_list(
        "template_id", "design"
    )
    return {str(t): str(d) for t, d in rows}


async def for_render(account_id: int, template_id: str, version: int | None) -> TemplateVersion:
    """The version a render draws: `version`, or the latest. TemplateNotFound otherwise."""
    if not looks_like_id(template_id):
        raise TemplateNotFound("unknown template")
    query = TemplateVersion.filter(template_id=template_id, template__account_id=account_id)
    query = query.filter(version=version) if version else query.order_by("-version")
    ver = await query.first()
    if ver is None:
        raise TemplateNotFound("unknown template")
    return ver
