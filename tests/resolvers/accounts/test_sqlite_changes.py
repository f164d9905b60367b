"""resolvers/accounts/sqlite_changes.py: another connection's or process's commit to a SQLite
database is seen on the next call; no SQL runs per call in WAL mode (the image hot path asks on
every key lookup: docs/caching.md)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest

from resolvers.accounts.sqlite_changes import SqliteChanges


def _db(path, mode: str = "wal") -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(f"PRAGMA journal_mode={mode}")
    conn.execute("CREATE TABLE IF NOT EXISTS t (v INTEGER)")
    return conn


@pytest.mark.parametrize("mode", ["wal", "delete"])
def test_a_commit_by_another_connection_is_a_change_once(tmp_path, mode):
    path = str(tmp_path / "db.sqlite3")
    writer = _db(path, mode)
    changes = SqliteChanges(path)
    try:
        assert changes.changed()  # the first look: nothing seen before
        assert not changes.changed() and not changes.changed()
        writer.execute("INSERT INTO t VALUES (1)")
        assert changes.changed()
        assert not changes.changed()
        writer.execute("BEGIN")
        writer.execute("INSERT INTO t VALUES (2)")
        assert not changes.changed()  # not committed yet
        writer.execute("COMMIT")
        assert changes.changed()
        writer.execute("SELECT count(*) FROM t").fetchone()  # reads are not changes
        assert not changes.changed()
    finally:
        changes.close()
        writer.close()


def test_another_process_commit_and_a_wal_restart_are_seen(tmp_path):
    path = str(tmp_path / "db.sqlite3")
    _db(path).close()
    changes = SqliteChanges(path)
    script = (
        "import sqlite3, sys; c = sqlite3.connect(sys.argv[1], isolation_level=None); "
        "c.execute('INSERT INTO t VALUES (1)'); "
        "c.execute('PRAGMA wal_checkpoint(TRUNCATE)') if sys.argv[2:] else None; c.close()"
    )
    try:
        changes.changed()
        for restart in ([], ["restart"], []):  # after a TRUNCATE checkpoint the WAL starts over
            subprocess.run([sys.executable, "-c", script, path, *restart], check=True)
            assert changes.changed()
            assert not changes.changed()
    finally:
        changes.close()


def test_wal_mode_runs_no_sql_per_call(tmp_path):
    """The check reads the shared wal-index header: no statement (no read transaction, no
    file locks) per call."""
    path = str(tmp_path / "db.sqlite3")
    writer = _db(path)
    changes = SqliteChanges(path)
    try:
        changes.changed()
        statements: list[str] = []
        assert changes._conn is not None
        changes._conn.set_trace_callback(statements.append)
        for i in range(5):
            writer.execute("INSERT INTO t VALUES (?)", (i,))
            assert changes.changed() and not changes.changed()
        assert statements == []
    finally:
        changes.close()
        writer.close()


def test_errors_count_as_changes(tmp_path):
    changes = SqliteChanges(str(tmp_path / "missing" / "db.sqlite3"))  # cannot be opened
    assert changes.changed() and changes.changed()
    changes.close()
