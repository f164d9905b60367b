"""The one middleware: request ids, JSON errors in the shape of docs/rest-api.md (Errors), metrics
and the JSON access log of every response."""

from __future__ import annotations

import itertools
import logging
import os
import re
import secrets
import time

from aiohttp import web

from models.db import unreachable
from resolvers.errors import HTTP_CODES, AppError, TooManyRequests
from web.appkeys import error_code_key, json_access_key, not_found_page_key, request_id_key
from web.http.bodies import JSON_TOO_LARGE
from web.http.headers import rate_limit_headers
from web.http.metrics import record as record_metrics

log = logging.getLogger("ogapi.web")
access_log = logging.getLogger("ogapi.access")
REQUEST_ID = "X-Request-ID"
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def error_response(
    request: web.Request,
    status: int,
    code: str,
    message: str,
    headers: dict[str, str] | None = None,
    extra: dict[str, object] | None = None,
) -> web.Response:
    request[error_code_key] = code  # for the metrics middleware
    body = {
        "error": True,
        "message": message,
        "code": code,
        "request_id": request.get(request_id_key),
        **(extra or {}),
    }
    return web.json_response(body, status=status, headers=headers)


# Request ids: unique per process (pid and a random prefix) plus a counter; cheap on the hot
# path, and not secrets (a client may send its own).
_ID_PREFIX = f"{os.getpid():x}{secrets.token_hex(4)}"
_ids = itertools.count(1)


@web.middleware
async def error_middleware(request: web.Request, handler):
    """Request id, the JSON errors and the metrics of every response, in one middleware
    (each middleware layer costs time on the cache-hit path)."""
    started = time.perf_counter()
    incoming = request.headers.get(REQUEST_ID, "")
    request_id = incoming if _SAFE_ID.match(incoming) else f"{_ID_PREFIX}{next(_ids):010x}"
    request[request_id_key] = request_id
    try:
        response = await handler(request)
    except AppError as exc:
        headers = exc.headers
        if isinstance(exc, TooManyRequests) and exc.rate is not None:
            headers = {**headers, **rate_limit_headers(*exc.rate)}
        response = error_response(request, exc.status, exc.code, exc.message, headers, exc.extra)
    except web.HTTPException as exc:
        if exc.status == 404 and not _wants_json(request) and not_found_page_key in request.app:
            response = await request.app[not_found_page_key](request)  # web/routes/pages.py
        elif exc.status < 400 or not _wants_json(request):
            exc.headers[REQUEST_ID] = request_id
            seconds = time.perf_counter() - started
            record_metrics(request, exc.status, exc.headers, seconds)
            if request.app.get(json_access_key):
                _access_line(request, exc.status, seconds)
            raise
        else:
            code = HTTP_CODES.get(exc.status, "HTTP_ERROR")
            message = JSON_TOO_LARGE if exc.status == 413 else exc.reason
            response = error_response(request, exc.status, code, message)
    except Exception as exc:
        if unreachable(exc):  # a database restart or failover: retryable, not a bug
            log.error(
                "database unreachable request_id=%s %s %s: %s: %s",
                request_id,
                request.method,
                request.path,
                type(exc).__name__,
                exc,
                extra={"request_id": request_id, "path": request.path},
            )
            response = error_response(
                request,
                503,
                "SERVICE_UNAVAILABLE",
                "The service's database is unreachable; retry in a few seconds.",
                headers={"Retry-After": "5"},
            )
        else:
            log.exception(
                "unhandled error request_id=%s %s %s",
                request_id,
                request.method,
                request.path,
                extra={"request_id": request_id, "path": request.path},
            )
            response = error_response(
                request, 500, "INTERNAL_ERROR", f"Internal server error (request id {request_id})."
            )
    response.headers[REQUEST_ID] = request_id
    seconds = time.perf_counter() - started
    record_metrics(request, response.status, response.headers, seconds)
    if request.app.get(json_access_key):
        _access_line(request, response.status, seconds)
    return response


async def request_id_on_prepare(request: web.Request, response: web.StreamResponse) -> None:
    """`X-Request-ID` on a streamed answer too (the ledger CSV, a batch's ZIP): its headers go
    out at `prepare`, before the middleware gets the response back."""
    if (request_id := request.get(request_id_key)) is not None:
        response.headers.setdefault(REQUEST_ID, request_id)


def _access_line(request: web.Request, status: int, seconds: float) -> None:
    """LOG_FORMAT=json: one line per request (web/http/logs.py), instead of gunicorn's."""
    from web.http.clientip import client_ip
    from web.http.metrics import route_of

    access_log.info(
        "%s %s %s",
        request.method,
        request.path,
        status,
        extra={
            "request_id": request.get(request_id_key),
            "method": request.method,
            "route": route_of(request),
            "path": request.path,
            "status": status,
            "duration_ms": round(seconds * 1000, 3),
            "remote": client_ip(request),
            "user_agent": request.headers.get("User-Agent"),
        },
    )


def _wants_json(request: web.Request) -> bool:
    return request.path.startswith(("/api/", "/graphql")) or request.path in ("/health", "/ready")
