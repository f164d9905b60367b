"""Scalars and enums shared by the schema's types (enums are defined once, in models.enums)."""

from __future__ import annotations

import decimal
from datetime import datetime
from typing import NewType

import strawberry
from strawberry.types.scalar import ScalarDefinition

from models.enums import TransactionType
from resolvers.timefmt import iso_utc


def _serialize_decimal(value: decimal.Decimal) -> str:
    # Fixed-point, never exponent notation: 0.0000006, not 6E-7.
    return format(value, "f")


def _parse_decimal(value: object) -> decimal.Decimal:
    try:
        return decimal.Decimal(str(value))
    except decimal.InvalidOperation:
        raise ValueError(f"{value!r} is not a decimal number") from None


BigInt = NewType("BigInt", int)

# Money and unit prices: a decimal string on the wire, never a float.
DecimalScalar = strawberry.scalar(
    name="Decimal",
    description='A decimal number as a string, e.g. "12.500000" (money is never a float).',
    serialize=_serialize_decimal,
    parse_value=_parse_decimal,
)

BigIntScalar = strawberry.scalar(
    name="BigInt",
    description="A whole number beyond 32 bits (token counts), sent as a JSON number.",
    serialize=int,
    parse_value=int,
)


# strawberry.enum registers an enum in place (GraphQL name, description); the types use the
# models' enums directly, so only the one with a description needs the call.
strawberry.enum(TransactionType, name="TransactionType", description="A ledger entry's kind.")


def _parse_datetime(value: object) -> datetime:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO 8601 date-time") from None


# Times as REST and CSV write them: ISO 8601 in UTC with a `Z`.
DateTimeScalar = strawberry.scalar(
    name="DateTime",
    description='An ISO 8601 date-time in UTC, e.g. "2026-12-01T00:00:00Z".',
    serialize=iso_utc,
    parse_value=_parse_datetime,
)

SCALAR_MAP: dict[object, ScalarDefinition] = {
    decimal.Decimal: DecimalScalar,
    BigInt: BigIntScalar,
    datetime: DateTimeScalar,
}
