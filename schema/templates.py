"""The image templates and their field schemas (public, like GET /api/templates)."""

from __future__ import annotations

import strawberry

import render.templates
from resolvers import renders


@strawberry.type(description="A parameter a template reads.")
class TemplateField:
    name: str
    type: str = strawberry.field(description='"string", "url", "color" or "number".')
    required: bool
    max_length: int | None

    @classmethod
    def from_model(cls, f: render.templates.FieldSpec) -> TemplateField:
        return cls(name=f.name, type=f.type, required=f.required, max_length=f.max_length)


@strawberry.type
class Template:
    name: str
    description: str
    fields: list[TemplateField]

    @classmethod
    def from_model(cls, t: render.templates.Template) -> Template:
        return cls(
            name=t.name,
            description=t.description,
            fields=[TemplateField.from_model(f) for f in t.fields],
        )


@strawberry.type
class TemplateQuery:
    @strawberry.field
    def templates(self) -> list[Template]:
        return [Template.from_model(t) for t in renders.templates()]
