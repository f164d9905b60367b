"""Domain errors: one exception type carrying the error code (docs/rest-api.md) and HTTP status.

Resolvers raise these; the REST middleware turns them into `{"error", "message", "code"}` JSON
and the GraphQL layer into `extensions.code`. Nothing here knows about either framework.
"""

from __future__ import annotations


class AppError(Exception):
    """An expected failure a client can act on. A subclass names its code and status once, in
    its class line: `class NotFound(AppError, code="NOT_FOUND", status=404): ...`."""

    code = "INTERNAL_ERROR"
    status = 500

    def __init_subclass__(cls, code: str | None = None, status: int | None = None) -> None:
        super().__init_subclass__()
        if code is not None:
            cls.code = code
        if status is not None:
            cls.status = status

    def __init__(
        self,
        message: str,
        code: str | None = None,
        status: int | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.headers = headers or {}
        self.extra = extra or {}  # more members of the JSON error (e.g. INVALID_DESIGN's errors)


class InvalidParameter(AppError, code="INVALID_PARAMETER", status=400): ...


class Unauthorized(AppError, code="INVALID_API_KEY", status=401): ...


class Forbidden(AppError, code="FORBIDDEN", status=403): ...


class NotFound(AppError, code="NOT_FOUND", status=404): ...


class Conflict(AppError, code="CONFLICT", status=409): ...


class ServiceUnavailable(AppError, code="SERVICE_UNAVAILABLE", status=503): ...


class BillingNotConfigured(AppError, code="BILLING_NOT_CONFIGURED", status=503): ...


class BillingUnavailable(AppError, code="BILLING_UNAVAILABLE", status=503):
    """Stripe is unreachable or failing: nothing was charged or stored; retry later."""


class TooManyRequests(AppError, code="RATE_LIMITED", status=429):
    def __init__(
        self,
        message: str,
        retry_after: float,
        code: str | None = None,
        rate: tuple[int, int] | None = None,
    ) -> None:
        seconds = max(1, int(-(-retry_after // 1)))  # ceil, at least 1 s
        super().__init__(message, code=code, headers={"Retry-After": str(seconds)})
        self.retry_after = seconds
        # (limit, remaining) of the budget that refused, if it is one the client sees in the
        # X-RateLimit-* headers (written by web/)
        self.rate = rate


# The code of an error that has only an HTTP status (a framework's 404, 405, 413, ...): REST
# (web/http/middleware.py) and GraphQL (web/routes/graphql.py) answer with the same one.
HTTP_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    414: "URI_TOO_LONG",
    415: "UNSUPPORTED_MEDIA_TYPE",
}
