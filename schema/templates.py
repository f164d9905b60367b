"""The image templates and their field schemas (public, like GET /api/templates), and the
caller's own custom templates with their mutations (docs/templates.md)."""

from __future__ import annotations

import json
from datetime import datetime

import strawberry
from strawberry.scalars import JSON

import render.templates
from resolvers.templates import catalog, store
from resolvers.templates.fields import field_list
from resolvers.templates.store import Saved
from schema.context import Info
from schema.copying import copy_fields
from schema.permissions import IsSessionUser


@strawberry.type(description="A parameter a template reads.")
class TemplateField:
    name: str
    type: str = strawberry.field(description='"string", "url", "color" or "number".')
    required: bool
    max_length: int | None

    @classmethod
    def from_model(cls, f: render.templates.FieldSpec) -> TemplateField:
        return copy_fields(cls, f)


@strawberry.type
class Template:
    id: strawberry.ID = strawberry.field(description="What `template=` takes.")
    name: str
    description: str
    fields: list[TemplateField]
    custom: bool = strawberry.field(description="One of the account's own designs.")
    version: int | None = strawberry.field(description="A custom template's latest version.")
    design: JSON | None = strawberry.field(
        description="The template's design; a built-in's can be posted back as a fork."
    )
    updated_at: datetime | None = strawberry.field(
        description="A custom template's last change (its latest version)."
    )

    @classmethod
    def from_model(cls, t: render.templates.Template) -> Template:
        return cls(
            id=strawberry.ID(t.name),
            name=t.name,
            description=t.description,
            fields=[TemplateField.from_model(f) for f in t.fields],
            custom=False,
            version=None,
            design=json.loads(t.source),
            updated_at=None,
        )

    @classmethod
    def from_saved(cls, tpl, design_text: str) -> Template:
        design = json.loads(design_text)
        return cls(
            id=strawberry.ID(tpl.id),
            name=tpl.name,
            description=tpl.description,
            fields=[TemplateField(**f) for f in field_list(design)],
            custom=True,
            version=tpl.version,
            design=design,
            updated_at=tpl.updated_at,
        )

    @classmethod
    def of(cls, saved: Saved) -> Template:
        return cls.from_saved(saved.template, saved.version.design)


@strawberry.type
class TemplateQuery:
    @strawberry.field(description="The built-ins, then the caller's own templates.")
    async def templates(self, info: Info) -> list[Template]:
        out = [Template.from_model(t) for t in catalog.templates()]
        account = info.context.account
        if account is not None:
            own = await store.list_own(account.id)
            latest = await store.latest_designs(own)
            out.extend(Template.from_saved(t, latest[t.id]) for t in own if t.id in latest)
        return out


@strawberry.type
class TemplateMutation:
    @strawberry.mutation(permission_classes=[IsSessionUser])
    async def create_template(
        self, info: Info, name: str, design: JSON, description: str | None = None
    ) -> Template:
        body = {"name": name, "description": description, "design": design}
        return Template.of(await store.create(info.context.user.id, body, info.context.now))

    @strawberry.mutation(
        permission_classes=[IsSessionUser], description="A new version (versions are immutable)."
    )
    async def update_template(
        self,
        info: Info,
        id: strawberry.ID,
        name: str | None = None,
        description: str | None = None,
        design: JSON | None = None,
    ) -> Template:
        body: dict[str, object] = {"name": name, "description": description}
        if design is not None:
            body["design"] = design
        saved = await store.update(info.context.user.id, str(id), body, info.context.now)
        return Template.of(saved)

    @strawberry.mutation(permission_classes=[IsSessionUser])
    async def delete_template(self, info: Info, id: strawberry.ID) -> bool:
        await store.delete(info.context.user.id, str(id))
        return True
