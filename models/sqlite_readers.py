"""SQLite with reader connections: the embedded default's database client (Tortoise engine).

Tortoise's SQLite client has one connection behind one asyncio.Lock: every query of every
request waits for the one before it, and each holds the lock for a round trip through the
connection's thread and back through the event loop. Under mixed load (renders writing their
counts, dashboards reading reports) that queue, not SQL, was the latency of every database-
backed request (docs/operations.md, "Load test").

This client keeps Tortoise's connection for everything that writes and for every transaction,
and sends plain `SELECT`s made outside a transaction to a few read-only connections of the
same file. SQLite's WAL journal (Tortoise's default) lets readers run beside the writer; each
statement reads the last committed state, as a query on another PostgreSQL connection does.
Transactions keep Tortoise's own wrapper, so their reads still see their own writes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any, cast

import aiosqlite
from tortoise.backends.base.client import TransactionContext
from tortoise.backends.sqlite.client import SqliteClient, translate_exceptions

from models.sqlite_tx import BUSY_TIMEOUT_MS, ImmediateTransactionContext

DEFAULT_READERS = 2


def _is_select(query: str) -> bool:
    return query.lstrip()[:6].upper() == "SELECT"


class _Reader:
    """One read-only connection; aiosqlite queues its calls on the connection's thread, and
    each read is a single execute-and-fetch there, so no lock is needed."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.inflight = 0
        self._conn: aiosqlite.Connection | None = None

    async def connection(self) -> aiosqlite.Connection:
        if self._conn is None:
            conn = await aiosqlite.connect(self.filename, isolation_level=None)
            conn._conn.row_factory = sqlite3.Row
            for pragma in ("query_only=ON", "busy_timeout=5000", "foreign_keys=ON"):
                await (await conn.execute(f"PRAGMA {pragma}")).close()
            if self._conn is None:
                self._conn = conn
            else:  # another request opened it meanwhile
                await conn.close()
        return self._conn

    async def fetchall(self, query: str, values: list | None) -> list[sqlite3.Row]:
        self.inflight += 1
        try:
            conn = await self.connection()
            return list(await conn.execute_fetchall(query, values))
        finally:
            self.inflight -= 1

    async def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await conn.close()


class SqliteReadersClient(SqliteClient):
    """`readers` read connections beside Tortoise's one (0: none). Transactions start as
    `BEGIN IMMEDIATE` and wait on the busy timeout for another process (models/sqlite_tx.py)."""

    def __init__(self, file_path: str, readers: int | str = DEFAULT_READERS, **kwargs: Any):
        kwargs.setdefault("busy_timeout", BUSY_TIMEOUT_MS)
        super().__init__(file_path, **kwargs)  # every other keyword is a PRAGMA for Tortoise
        count = int(readers) if file_path != ":memory:" and "mode=memory" not in file_path else 0
        self._readers = [_Reader(file_path) for _ in range(max(0, count))]

    def _in_transaction(self) -> TransactionContext:
        return ImmediateTransactionContext(self)

    def _reader(self) -> _Reader | None:
        if not self._readers or self._connection is None:  # the writer opens (and migrates) first
            return None
        return min(self._readers, key=lambda r: r.inflight)

    @translate_exceptions
    async def execute_query(
        self, query: str, values: list | None = None
    ) -> tuple[int, Sequence[dict]]:
        reader = self._reader() if _is_select(query) else None
        if reader is None:
            return await super().execute_query(query, values)
        rows = await reader.fetchall(query.replace("\x00", "'||CHAR(0)||'"), values)
        # sqlite3.Row, as Tortoise's own client returns (its executor reads rows by name)
        return len(rows), cast("Sequence[dict]", rows)

    @translate_exceptions
    async def execute_query_dict(self, query: str, values: list | None = None) -> list[dict]:
        reader = self._reader() if _is_select(query) else None
        if reader is None:
            return await super().execute_query_dict(query, values)
        rows = await reader.fetchall(query.replace("\x00", "'||CHAR(0)||'"), values)
        return list(map(dict, rows))

    async def close(self) -> None:
        for reader in self._readers:
            await reader.close()
        await super().close()


client_class = SqliteReadersClient
