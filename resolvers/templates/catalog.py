"""The catalog of built-in card templates as the API lists them (GET /api/templates, GraphQL
`templates`); their designs are render/builtins/*.json."""

from __future__ import annotations

from render.templates import TEMPLATES, Template


def templates() -> list[Template]:
    """The card templates, in catalog order: GET /api/templates and GraphQL `templates`."""
    return list(TEMPLATES.values())


def template_list() -> list[dict]:
    """The body of GET /api/templates (without preview URLs, which the web layer adds)."""
    return [
        {
            "id": t.name,
            "name": t.name,
            "custom": False,
            "description": t.description,
            "fields": [
                {
                    "name": f.name,
                    "type": f.type,
                    "required": f.required,
                    "max_length": f.max_length,
                }
                for f in t.fields
            ],
            "colors": t.colors(),
        }
        for t in templates()
    ]
