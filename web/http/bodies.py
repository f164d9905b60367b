"""Request bodies: the caps (REST JSON 1 MB, GraphQL 100 KB: docs/rest-api.md, docs/graphql.md)
and reading a JSON object body. The app's `client_max_size` is MAX_JSON_BYTES (web/app.py)."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from resolvers.errors import AppError

MAX_JSON_BYTES = 1_000_000
MAX_GRAPHQL_BYTES = 100_000
JSON_TOO_LARGE = "Request body too large (max 1 MB)."
GRAPHQL_TOO_LARGE = f"Request body too large (max {MAX_GRAPHQL_BYTES} bytes)."


async def read_json(request: web.Request) -> dict[str, Any]:
    """The request's JSON object body, or the INVALID_JSON / PAYLOAD_TOO_LARGE errors.

    `request.read()` waits for the whole body however it is chunked and enforces the app's
    `client_max_size` (1 MB), answering 413 even when no Content-Length was sent.
    """
    if request.content_length is not None and request.content_length > MAX_JSON_BYTES:
        raise AppError(JSON_TOO_LARGE, code="PAYLOAD_TOO_LARGE", status=413)
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise AppError(JSON_TOO_LARGE, code="PAYLOAD_TOO_LARGE", status=413) from None
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: [[[[...]]]]
        raise AppError("Request body is not valid JSON.", code="INVALID_JSON", status=400) from None
    if not isinstance(data, dict):
        raise AppError("Request body must be a JSON object.", code="INVALID_JSON", status=400)
    return data
