"""Shared by the read side: limits and plain rows instead of ORM objects."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from tortoise.queryset import ValuesQuery

MAX_PAGE = 100
MAX_DAYS = 366
MAX_MONTHS = 36


# ---- raw rows -----------------------------------------------------------------------------
# Tortoise converts every cell of a result through its field (a regex date parser, several
# calls per cell): for a 100-row page that is most of the request. The read side builds its
# queries with the ORM but fetches plain rows and converts the few columns it uses itself.


async def fetch_rows(query: ValuesQuery[Any]) -> list[dict[str, Any]]:
    """The rows of a `.values()` query as the driver returns them (keys: the value names)."""
    query._choose_db_if_not_chosen()
    query._make_query()
    return await query._db.execute_query_dict(*query.query.get_parameterized_sql())


def as_date(value: Any) -> date:
    """A DATE column: text on SQLite, a date on PostgreSQL."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def as_datetime(value: Any) -> datetime:
    """A timestamp column: ISO text on SQLite, a datetime on PostgreSQL; aware (UTC if naive,
    the ORM's timezone)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
