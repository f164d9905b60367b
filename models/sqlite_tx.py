"""SQLite transactions that take the write lock when they start (`BEGIN IMMEDIATE`).

Tortoise begins every SQLite transaction with a deferred `BEGIN`: it reads (a balance, a
counter), then writes. Another process on the same file (an `ogapi admin` command beside the
server) that commits in between makes the write fail at once with "database is locked":
SQLite cannot upgrade a read snapshot that is no longer the newest, and a reader waiting on a
writer that waits on it is a deadlock, so the busy timeout is not waited on. `BEGIN IMMEDIATE`
takes the write lock first, waiting on the busy timeout while another process holds it, so
the read and the write that follows see one state (docs/operations.md, "Operator commands").

Inside one process Tortoise already runs one transaction at a time on its one connection, so
this costs the server nothing; only what another process holds is waited for.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from tortoise.backends.base.client import TransactionalDBClient
from tortoise.backends.sqlite.client import SqliteTransactionContext, SqliteTransactionWrapper
from tortoise.connection import get_connections
from tortoise.exceptions import OperationalError

BUSY_TIMEOUT_MS = 10_000  # how long a write waits for another process's transaction


class ImmediateTransactionWrapper(SqliteTransactionWrapper):
    async def begin(self) -> None:
        try:
            # Tortoise commits first, a round trip to the connection's thread each time; only
            # a transaction left open needs it (`in_transaction` is read here, not there).
            if self._connection.in_transaction:
                await self._connection.commit()
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:  # still locked after the busy timeout
            raise OperationalError(exc) from exc


class ImmediateTransactionContext(SqliteTransactionContext):
    """Tortoise's context, except that a `BEGIN` that fails (the busy timeout ran out) gives
    back the connection's lock instead of keeping it for good."""

    def __init__(self, client: Any) -> None:
        super().__init__(ImmediateTransactionWrapper(client), client._lock)

    async def __aenter__(self) -> TransactionalDBClient:
        await self._trxlock.acquire()
        try:
            await self.ensure_connection()
            self.token = get_connections().set(self.connection_name, self.connection)
            try:
                await self.connection.begin()
            except BaseException:
                get_connections().reset(self.token)
                raise
        except BaseException:
            self._trxlock.release()
            raise
        return self.connection
