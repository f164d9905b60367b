"""Errors on the wire: every error carries `extensions.code`; unexpected ones are masked.

Resolvers raise `resolvers.errors.AppError` (a code a client can act on); those, and GraphQL's
own parse/validation messages, stay readable. Anything else becomes "Internal server error."
with code INTERNAL_ERROR, and only those are logged (with their traceback).
"""

from __future__ import annotations

from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.extensions import MaskErrors

from resolvers.errors import AppError

MASKED_MESSAGE = "Internal server error."


def should_mask_error(error: GraphQLError) -> bool:
    original = error.original_error
    return original is not None and not isinstance(original, AppError | GraphQLError)


def error_code(error: GraphQLError) -> str:
    original = error.original_error
    if isinstance(original, AppError):
        return original.code
    if isinstance(error, GraphQLSyntaxError) or isinstance(original, GraphQLSyntaxError):
        return "GRAPHQL_PARSE_FAILED"
    return "GRAPHQL_VALIDATION_FAILED"


class ErrorCodes(MaskErrors):
    def __init__(self) -> None:
        super().__init__(should_mask_error=should_mask_error, error_message=MASKED_MESSAGE)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        masked = super().anonymise_error(error)
        masked.extensions = {"code": "INTERNAL_ERROR"}
        return masked

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        out = super()._process_errors(errors)
        for error in out:
            extensions = dict(error.extensions or {})
            extensions.setdefault("code", error_code(error))
            if isinstance(error.original_error, AppError):  # e.g. INVALID_DESIGN's errors
                extensions.update(error.original_error.extra)
            error.extensions = extensions
        return out
