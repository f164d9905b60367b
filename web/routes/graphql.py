"""`/graphql` (docs/graphql.md): Strawberry's aiohttp view with our auth, body rules and errors.

- Auth: `X-API-Key` (scripts; queries only) or the session cookie (dashboard). A key request
  counts as one API call whether or not it succeeds (docs/graphql.md).
- Bodies: POST must be `application/json` (no form, multipart or text bodies, so no simple
  cross-site form can reach us) and at most MAX_GRAPHQL_BYTES; GET carries queries only.
- Transport errors answer JSON `{"errors": [{"message", "extensions": {"code"}}]}` too.
"""

from __future__ import annotations

import json

from aiohttp import web
from cross_web import AiohttpHTTPRequestAdapter, HTTPException
from strawberry.aiohttp.views import GraphQLView

from resolvers.errors import HTTP_CODES, AppError
from schema import build_schema
from schema.context import Context
from schema.loaders import Loaders
from web.appkeys import (
    clock_key,
    secret_box_key,
    settings_key,
    stripe_key,
    window_limiter_key,
)
from web.http.bodies import GRAPHQL_TOO_LARGE, MAX_GRAPHQL_BYTES
from web.http.callers import key_rows
from web.routes.auth import session_account

MAX_GET_QUERY = 8190  # GET carries short queries; longer documents are POSTed


class CappedRequestAdapter(AiohttpHTTPRequestAdapter):
    """Reads at most MAX_GRAPHQL_BYTES of the body, whatever Content-Length claims."""

    async def get_body(self) -> bytes:
        if self._body is None:
            # Read until the end of the body (clients send it in pieces), never past the cap.
            chunks, size = [], 0
            while chunk := await self.request.content.read(64 * 1024):
                size += len(chunk)
                if size > MAX_GRAPHQL_BYTES:
                    raise HTTPException(413, GRAPHQL_TOO_LARGE)
                chunks.append(chunk)
            self._body = b"".join(chunks)
        return self._body


def _error(status: int, message: str, code: str | None = None) -> web.Response:
    body = {
        "errors": [{"message": message, "extensions": {"code": code or HTTP_CODES.get(status)}}]
    }
    return web.json_response(body, status=status)


class OgGraphQLView(GraphQLView[Context, None]):
    request_adapter_class = CappedRequestAdapter

    def decode_json(self, data: str | bytes) -> object:
        """A JSON object, or 400 (strawberry reads `.get` of anything it decoded: a body of
        `"text"`, `null` or `[…]` was a 500; bytes that are not UTF-8 too)."""
        try:
            value = json.loads(data)
        except ValueError:  # JSONDecodeError and UnicodeDecodeError
            raise HTTPException(400, "Unable to parse request body as JSON") from None
        if not isinstance(value, dict):
            raise HTTPException(400, "The request body must be a JSON object.")
        return value

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        if request.method == "POST":
            if request.content_type != "application/json":
                return _error(415, "POST a JSON body (Content-Type: application/json).")
            if (request.content_length or 0) > MAX_GRAPHQL_BYTES:
                return _error(413, GRAPHQL_TOO_LARGE)
        elif len(request.raw_path) > MAX_GET_QUERY:
            return _error(414, f"Query string too long (max {MAX_GET_QUERY} bytes): POST it.")
        try:
            return await self.run(request=request)
        except HTTPException as exc:
            return _error(exc.status_code, exc.reason)

    async def get_context(self, request: web.Request, response: web.StreamResponse) -> Context:
        app = request.app
        context = Context(
            request=request,
            response=response,
            settings=app[settings_key],
            secret_box=app[secret_box_key],
            now=app[clock_key](),
            loaders=Loaders(),
            window=app[window_limiter_key],
            stripe=app.get(stripe_key),
        )
        if request.headers.get("X-API-Key") is not None:
            try:
                owner, _ = await key_rows(request)
            except AppError as exc:
                context.auth_error = exc
                return context
            context.account, context.auth = owner.account, "api_key"
            return context
        account = await session_account(request)
        if account is not None:
            context.account, context.auth = account, "session"
        return context


def graphql_view(production: bool) -> OgGraphQLView:
    return OgGraphQLView(
        schema=build_schema(production=production),
        graphql_ide=None if production else "graphiql",
        allow_queries_via_get=True,
        multipart_uploads_enabled=False,
        subscription_protocols=(),  # no subscriptions: no WebSocket endpoint
    )


def setup(app: web.Application) -> None:
    """Mount the view at /graphql (GET for queries and GraphiQL, POST for everything)."""
    view = graphql_view(app[settings_key].production)
    app.router.add_route("GET", "/graphql", view)
    app.router.add_route("POST", "/graphql", view)
