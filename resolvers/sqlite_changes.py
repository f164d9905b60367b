"""Seeing other processes' commits to a SQLite database cheaply (`PRAGMA data_version`): the key
cache's invalidation on the embedded default, where there is no Redis to announce changes
(resolvers.keycache, docs/caching.md).
"""

from __future__ import annotations

import sqlite3


class SqliteChanges:
    """Whether another connection committed to a SQLite database since the last call.

    `PRAGMA data_version` changes when any connection other than the one asking commits; the
    asking connection is this object's own, so the server's writes count too (they merely
    make the key cache read a key again). Any error counts as a change."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._version: int | None = None

    def changed(self) -> bool:
        try:
            if self._conn is None:
                # timeout=0: never wait for a lock on the event loop (WAL readers rarely need to)
                self._conn = sqlite3.connect(self.path, timeout=0, isolation_level=None,
                                             check_same_thread=False)  # fmt: skip
            version = self._conn.execute("PRAGMA data_version").fetchone()[0]
        except sqlite3.Error:
            self.close()
            return True
        if version == self._version:
            return False
        self._version = version
        return True

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self._version = None
