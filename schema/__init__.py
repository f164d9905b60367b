"""The GraphQL schema (docs/graphql.md): Strawberry types over the resolvers/ service layer.

`schema` is the development schema (what `ogapi export-schema` prints); the web view builds its
own with `build_schema(production=...)`, which only adds runtime protections, never fields.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import suppress
from functools import lru_cache
from typing import Any

import strawberry
from graphql import GraphQLError, parse
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.utils.logging import StrawberryLogger

from schema.account import AccountMutation, AccountQuery
from schema.billing import BillingMutation, BillingQuery
from schema.execution import ExecutionContext
from schema.ledger import LedgerQuery
from schema.link_previews import LinkPreviewsQuery
from schema.masking import ErrorCodes, should_mask_error
from schema.notifications import NotificationQuery
from schema.scalars import SCALAR_MAP
from schema.templates import TemplateMutation, TemplateQuery
from schema.usage import UsageQuery
from schema.webhooks import WebhookQuery

MAX_DEPTH = 8
MAX_ALIASES = 15
MAX_TOKENS = 2_000

# The limiters' rule classes are built once, so the validation cache can recognise a document
# it has already checked (a limiter built per request would make a new rule class each time).
LIMIT_RULES = [
    *QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
    *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
]

_parse = lru_cache(maxsize=256)(parse)


class CachedParse(SchemaExtension):
    """Strawberry's ParserCache, except that a document that fails to parse is left to
    Strawberry's own parse, which reports it like any other error (ParserCache's raise escapes
    the error handling, so the answer would lose its GRAPHQL_PARSE_FAILED code).

    Keyed by the query text and the parse options (MaxTokensLimiter's limit among them); a
    failure is never cached. Documents are immutable, so requests can share one.
    """

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.query and context.graphql_document is None:
            with suppress(GraphQLError):
                context.graphql_document = _parse(context.query, **context.parse_options)
        yield


Query = merge_types(
    "Query",
    (
        AccountQuery,
        NotificationQuery,
        UsageQuery,
        LedgerQuery,
        BillingQuery,
        TemplateQuery,
        LinkPreviewsQuery,
        WebhookQuery,
    ),
)
Mutation = merge_types("Mutation", (AccountMutation, BillingMutation, TemplateMutation))


class Schema(strawberry.Schema):
    def process_errors(self, errors: list[Any], execution_context: Any = None) -> None:
        # Expected errors (codes a client acts on, invalid queries) are answers, not incidents.
        for error in errors:
            if should_mask_error(error):
                StrawberryLogger.error(error, execution_context)


def build_schema(*, production: bool = False) -> Schema:
    # Factories: Strawberry builds fresh extension instances for every request.
    extensions: list[Any] = [
        lambda: AddValidationRules(LIMIT_RULES),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        ErrorCodes,
        # Clients send the same few documents again and again: parse and validate each once.
        CachedParse,
        lambda: ValidationCache(maxsize=256),
    ]
    if production:
        extensions.append(DisableIntrospection)
    return Schema(
        query=Query,
        mutation=Mutation,
        extensions=extensions,
        execution_context_class=ExecutionContext,
        config=StrawberryConfig(scalar_map=SCALAR_MAP, disable_field_suggestions=production),
    )


schema = build_schema()

__all__ = ["Schema", "build_schema", "schema"]
