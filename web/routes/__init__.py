"""The route handlers, one module per domain; `setup` adds them all to the app (web/app.py)."""

from __future__ import annotations

from aiohttp import web

from web.appkeys import not_found_page_key
from web.http import metrics
from web.routes import (
    admin,
    apidoc,
    auth,
    batch,
    billing,
    exports,
    fonts,
    graphql,
    health,
    images,
    pages,
    playground,
    share_check,
    templates,
    usage,
    webhook_endpoints,
)


def setup(app: web.Application) -> None:
    """Every route, in order (templates before images: /api/templates/schema.json is no name)."""
    app.add_routes(health.routes)
    app.add_routes(auth.routes)
    app.add_routes(usage.routes)
    app.add_routes(exports.routes)
    app.add_routes(admin.routes)
    app.add_routes(billing.routes)
    app.add_routes(fonts.routes)
    app.add_routes(templates.routes)  # before images: /api/templates/schema.json is no name
    app.add_routes(images.routes)
    app.add_routes(batch.routes)
    app.add_routes(apidoc.routes)
    graphql.setup(app)
    metrics.add_routes(app)
    app.add_routes(playground.routes)
    app.add_routes(share_check.routes)
    app.add_routes(webhook_endpoints.routes)
    app[not_found_page_key] = pages.not_found  # the styled 404 of HTML paths
    pages.setup(app)  # Jinja (web/html), /static and the HTML routes
