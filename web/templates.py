"""REST handlers for custom templates (docs/templates.md): the design schema, and the
account's own templates."""

from __future__ import annotations

from aiohttp import web

from render.design.schema import DESIGN_SCHEMA

routes = web.RouteTableDef()


@routes.get("/api/templates/schema.json")
async def design_schema(request: web.Request) -> web.Response:
    """The JSON Schema of the design format: public, the same for everyone."""
    return web.json_response(
        DESIGN_SCHEMA,
        content_type="application/schema+json",
        headers={"Cache-Control": "public, max-age=3600"},
    )
