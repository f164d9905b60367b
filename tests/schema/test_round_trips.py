"""DataLoaders and aggregates: the number of SQL statements does not grow with the data."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from tortoise.backends.sqlite.client import SqliteClient

from models import DailyUsage
from tests.schema.conftest import NOW, seed_ledger

DASHBOARD = """{
  me { email apiKey apiKeyCreatedAt plan { name } }
  again: me { apiKey apiKeyCreatedAt }
  usage { used quota daily { date images apiCalls spend } monthly { month images spend } }
  u2: usage { daily { date } }
  balance { current totalSpent apiCalls estimates { service remainingUnits } services { service } }
  b2: balance { low }
  transactions(first: 100) { totalCount edges { cursor node { id amount service } } }
  invoices { totalCount edges { node { id } } }
  notifications { id }
}"""


@pytest.fixture
def statements(monkeypatch) -> list[str]:
    seen: list[str] = []
    for name in ("execute_query", "execute_query_dict", "execute_insert"):
        original = getattr(SqliteClient, name)

        async def counted(self, query, *args, _original=original, **kwargs):
            task = asyncio.current_task()
            # The app's own loops (e.g. webhook deliveries every 2 s) are not the query's work.
            if task is None or not task.get_name().startswith("background:"):
                seen.append(query)
            return await _original(self, query, *args, **kwargs)

        monkeypatch.setattr(SqliteClient, name, counted)
    return seen


async def _count(gql, statements) -> int:
    statements.clear()
    await gql.data(DASHBOARD)
    return len(statements)


async def test_statement_count_is_constant(gql, signup, now, statements):
    user = await signup()
    small = await _count(gql, statements)
    await seed_ledger(user.id, 150, NOW - timedelta(days=20))
    await DailyUsage.bulk_create(
        DailyUsage(account_id=user.id, day=NOW.date() - timedelta(days=i), service=s, images=i)
        for i in range(365)
        for s in ("og_image", "ai_images")
    )
    big = await _count(gql, statements)
    assert big == small, statements
    # session (1) + key (1) + usage (1) + daily (1) + monthly (1) + balance (2)
    # + transactions (2) + invoices (2) + notifications (1): one per field, aliases shared
    assert big <= 12, statements
