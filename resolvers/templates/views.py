"""How a custom template is shown on the wire (REST and GraphQL alike; docs/templates.md)."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from models import Template
from render import builtins
from resolvers.templates import catalog, store
from resolvers.templates.fields import field_list
from resolvers.templates.store import Saved
from resolvers.timefmt import iso_utc


def preview_url(base_url: str, tpl: Template) -> str:
    """The watermarked preview of the latest version (the dashboard session's)."""
    query = urlencode({"template": tpl.id, "title": tpl.name})
    return f"{base_url}/api/dashboard/preview?{query}"


def summary(tpl: Template, design_text: str, base_url: str) -> dict[str, object]:
    return {
        "id": tpl.id,
        "name": tpl.name,
        "description": tpl.description,
        "version": tpl.version,
        "custom": True,
        "fields": field_list(json.loads(design_text)),
        "created_at": iso_utc(tpl.created_at),
        "updated_at": iso_utc(tpl.updated_at),
        "preview_url": preview_url(base_url, tpl),
    }


def detail(saved: Saved, base_url: str) -> dict[str, object]:
    """The template at the version read, with its design and every version."""
    body = summary(saved.template, saved.version.design, base_url)
    body["version"] = saved.version.version
    body["latest_version"] = saved.template.version
    body["design"] = json.loads(saved.version.design)
    body["versions"] = [{"version": v, "created_at": iso_utc(at)} for v, at in saved.versions]
    return body


async def own_list(account_id: int, base_url: str) -> list[dict[str, object]]:
    """The account's templates at their latest versions, oldest first."""
    own = await store.list_own(account_id)
    latest = await store.latest_designs(own)
    return [summary(t, latest[t.id], base_url) for t in own if t.id in latest]


def builtin(name: str, base_url: str) -> dict[str, object] | None:
    """A built-in template's entry with its design (None for another name). Posting the
    design back as a custom template renders the same card (a fork)."""
    entry = next((t for t in catalog.template_list() if t["name"] == name), None)
    if entry is None:
        return None
    return {
        **entry,
        "preview_url": f"{base_url}/api/templates/{name}/preview.png",
        "design": builtins.design(name),
    }
