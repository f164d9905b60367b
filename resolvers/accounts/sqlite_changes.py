"""Seeing other processes' commits to a SQLite database cheaply: the key cache's invalidation on
the embedded default, where there is no Redis to announce changes (resolvers.accounts.keycache,
docs/caching.md).

In WAL mode (Tortoise's default) every commit rewrites the wal-index header at the start of the
`-shm` file that all connections share (https://www.sqlite.org/walformat.html, "The WAL-Index
Header": `iChange` is incremented with each transaction, `mxFrame` and the checksum move with
every commit). Comparing those 48 bytes, read with one `pread`, with the last ones seen is the
same signal as `PRAGMA data_version` at about a twentieth of its cost (no read transaction, no
file locks): it runs on every key lookup of the image hot path. A database in another journal
mode is asked `PRAGMA data_version`.
"""

from __future__ import annotations

import os
import sqlite3

WAL_HEADER = 48  # bytes: the first copy of the wal-index header (walformat.html)


class SqliteChanges:
    """Whether any connection committed to a SQLite database since the last call.

    A connection of this object's own keeps the `-shm` file mapped and shared-locked, so SQLite
    never truncates or rebuilds it under us; the server's own writes count too (they merely make
    the key cache read a key again). Any error counts as a change."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._shm: int | None = None  # the -shm file, in WAL mode
        self._seen: int | bytes | None = None  # data_version, or the wal-index header

    def changed(self) -> bool:
        try:
            if self._conn is None:
                self._open()
            seen: int | bytes
            if self._shm is not None:
                seen = header = os.pread(self._shm, WAL_HEADER, 0)
                if len(header) != WAL_HEADER:
                    raise OSError("short wal-index header")
            else:
                assert self._conn is not None
                seen = self._conn.execute("PRAGMA data_version").fetchone()[0]
        except (sqlite3.Error, OSError):
            self.close()
            return True
        if seen == self._seen:
            return False
        self._seen = seen
        return True

    def _open(self) -> None:
        # timeout=0: never wait for a lock on the event loop (WAL readers rarely need to)
        conn = self._conn = sqlite3.connect(
            self.path, timeout=0, isolation_level=None, check_same_thread=False
        )
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        # One read transaction maps the -shm (creating it if need be) and takes SQLite's shared
        # lock on it for as long as this connection is open.
        conn.execute("PRAGMA data_version").fetchone()
        if str(mode).lower() == "wal":
            self._shm = os.open(self.path + "-shm", os.O_RDONLY | os.O_CLOEXEC)

    def close(self) -> None:
        if self._shm is not None:
            os.close(self._shm)
            self._shm = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self._seen = None
