"""What one metered image costs the database (docs/metering.md): the SQL statements and the
commits (each a flush to disk) of a render within the quota, on SQLite and on PostgreSQL. They
are on every uncached render's path, so they must not grow."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from tortoise import Tortoise
from tortoise.backends.asyncpg.client import TransactionWrapper as PostgresTransaction
from tortoise.backends.base.client import TransactionalDBClient

from models import Account
from models.sqlite_tx import ImmediateTransactionWrapper
from resolvers.limits.per_second import MemoryRateLimiter
from resolvers.mail import Mailer
from resolvers.metering.meter import Meter

NOW = datetime(2026, 5, 12, 9, 0, tzinfo=UTC)
_inside = contextvars.ContextVar("inside", default=False)  # a client method calling another


@dataclass
class Trace:
    statements: list[str] = field(default_factory=list)
    commits: int = 0  # transactions committed, and writes outside one (each commits itself)

    def clear(self) -> None:
        self.statements.clear()
        self.commits = 0


def _counted(trace: Trace, original):
    async def run(self, query, *args, **kwargs):
        if _inside.get():
            return await original(self, query, *args, **kwargs)
        trace.statements.append(query)
        write = not query.lstrip().upper().startswith("SELECT")
        if write and not isinstance(self, TransactionalDBClient):
            trace.commits += 1
        token = _inside.set(True)
        try:
            return await original(self, query, *args, **kwargs)
        finally:
            _inside.reset(token)

    return run


@pytest.fixture
def trace(db, monkeypatch) -> Trace:
    seen = Trace()
    client = type(Tortoise.get_connection("default"))
    for cls in {
        c for k in (client, ImmediateTransactionWrapper, PostgresTransaction) for c in k.__mro__
    }:
        for name in ("execute_query", "execute_query_dict", "execute_insert"):
            if name in vars(cls):
                monkeypatch.setattr(cls, name, _counted(seen, vars(cls)[name]))
        if "commit" in vars(cls) and issubclass(cls, TransactionalDBClient):
            original = vars(cls)["commit"]

            async def commit(self, _original=original):
                if not isinstance(getattr(self, "_parent", None), TransactionalDBClient):
                    seen.commits += 1  # the outermost transaction's (a savepoint flushes nothing)
                return await _original(self)

            monkeypatch.setattr(cls, "commit", commit)
    return seen


async def test_an_image_within_the_quota_costs_four_statements_and_two_commits(db, trace):
    meter = Meter(MemoryRateLimiter(), Mailer("test@localhost"))
    account = await Account.create(email="s@example.com", password_hash="x", custom_quota=10)
    await meter.commit(await meter.reserve(account, NOW), NOW)  # the month's and day's rows
    trace.clear()
    ticket = await meter.reserve(account, NOW)
    await meter.commit(ticket, NOW)
    # reserve: UPDATE monthly_usage … RETURNING used, INSERT quota_reservation (one commit);
    # deliver: DELETE quota_reservation, UPDATE daily_usage (one commit). `used` for the alerts
    # and the X-Quota-* headers comes from the reservation's own UPDATE: no SELECT.
    assert len(trace.statements) == 4, trace.statements
    assert trace.commits == 2, trace.statements
    assert ticket.used == 2
    assert await meter.quota_snapshot.usage(account, NOW) == (10, 2)  # known: no read
