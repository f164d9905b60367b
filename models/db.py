"""Database configuration and lifecycle (Tortoise 1.x, built-in migrations)."""

from __future__ import annotations

import os
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from tortoise import Tortoise
from tortoise.context import TortoiseContext

SCHEMES = ("sqlite://", "postgres://", "postgresql://")
SCHEME_ERROR = "DATABASE_URL must start with sqlite:// or postgres://"


def default_database_url(data_dir: str | os.PathLike[str] = "data") -> str:
    """The embedded default: SQLite in the data directory (OGAPI_DATA_DIR, ./data)."""
    return f"sqlite://{data_dir}/ogapi.sqlite3"


def unreachable(exc: BaseException) -> bool:
    """Whether `exc` (or what caused it) says the database cannot be reached right now (down,
    restarting, failing over, connection dropped), as opposed to a bug or bad data."""
    import socket

    import asyncpg
    from tortoise.exceptions import DBConnectionError

    kinds = (
        ConnectionError,
        TimeoutError,
        socket.gaierror,
        DBConnectionError,
        asyncpg.PostgresConnectionError,
        asyncpg.InterfaceError,
        asyncpg.exceptions.OperatorInterventionError,
        # a pooled connection dropped in the middle of an operation leaves it confused:
        asyncpg.exceptions.InternalClientError,
    )
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kinds):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def is_sqlite(database_url: str) -> bool:
    return database_url.startswith("sqlite://")


DEFAULT_DATABASE_URL = default_database_url()
# Read-only connections beside SQLite's one writer (models/sqlite_readers.py); 0 turns them off.
SQLITE_READERS = int(os.environ.get("OGAPI_SQLITE_READERS", "2") or 0)
_SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
_SSL_FILES = ("sslrootcert", "sslcert", "sslkey")


def _ssl_context(mode: str, rootcert: str | None, cert: str | None, key: str | None):
    """libpq's meaning of `sslmode` (docs/operations.md), as asyncpg's `ssl` argument.

    - disable: plain TCP. allow / prefer: asyncpg's own (plain first / TLS first).
    - require: TLS, the certificate not checked (checked against `sslrootcert` when given, as
      libpq does).
    - verify-ca: TLS, the chain checked (`sslrootcert`, else the system's CAs), any host name.
    - verify-full: verify-ca plus the host name.
    """
    import ssl

    if mode == "disable":
        return False
    if mode in ("allow", "prefer"):
        return mode
    verify = mode != "require" or rootcert is not None
    if verify:
        ctx = ssl.create_default_context(cafile=rootcert)
    else:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = mode == "verify-full"
    ctx.verify_mode = ssl.CERT_REQUIRED if verify else ssl.CERT_NONE
    if cert:
        ctx.load_cert_chain(cert, key)
    return ctx


def _postgres_connection(url: str) -> dict[str, Any]:
    """Tortoise's connection config for a postgres:// URL. Tortoise's URL parser would read
    `?ssl=` with bool() (every value, "disable" included, meaning verified TLS) and drop
    `sslmode`: so TLS settings are taken out of the URL and handed to asyncpg as they mean."""
    from tortoise.backends.base.config_generator import expand_db_url

    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    sslmode = query.pop("sslmode", None)
    if sslmode is not None and sslmode not in _SSL_MODES:
        raise ValueError(
            f"DATABASE_URL: unknown sslmode {sslmode!r} (one of {', '.join(_SSL_MODES)})"
        )
    files = {name: query.pop(name, None) for name in _SSL_FILES}
    if "ssl" in query:
        raise ValueError("DATABASE_URL: use sslmode=… (disable, require, verify-ca, verify-full)")
    plain = urlunsplit(("postgres", parts.netloc, parts.path, urlencode(query), ""))
    config = expand_db_url(plain)
    if sslmode is not None:
        config["credentials"]["ssl"] = _ssl_context(
            sslmode, files["sslrootcert"], files["sslcert"], files["sslkey"]
        )
    return config


def connection_config(database_url: str) -> str | dict[str, Any]:
    """DATABASE_URL as a Tortoise connection: the URL itself for SQLite, a config for
    PostgreSQL (see `_postgres_connection`)."""
    if is_sqlite(database_url):
        return database_url
    if database_url.startswith(SCHEMES):
        return _postgres_connection(database_url)
    raise ValueError(SCHEME_ERROR)


def sqlite_path(database_url: str) -> str | None:
    """The file of a `sqlite://` DATABASE_URL (None for PostgreSQL and `:memory:`)."""
    if not is_sqlite(database_url):
        return None
    path = database_url.removeprefix("sqlite://").split("?", 1)[0]
    return None if path == ":memory:" else str(Path(path).expanduser())


def _ensure_sqlite_dir(database_url: str) -> None:
    path = sqlite_path(database_url)
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def _connection(database_url: str, readers: int) -> str | dict[str, Any]:
    """`connection_config`; on SQLite, the client whose transactions begin immediately
    (models/sqlite_tx.py), with `readers` read-only connections beside the writer
    (models/sqlite_readers.py)."""
    config = connection_config(database_url)
    if not isinstance(config, str) or not is_sqlite(database_url):
        return config
    from tortoise.backends.base.config_generator import expand_db_url

    expanded = expand_db_url(config)
    expanded["engine"] = "models.sqlite_readers"
    expanded["credentials"]["readers"] = readers
    return expanded


def tortoise_config(database_url: str, readers: int = 0) -> dict[str, Any]:
    return {
        "connections": {"default": _connection(database_url, readers)},
        "apps": {
            "models": {
                "models": ["models"],
                "default_connection": "default",
                "migrations": "models.migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


# For the `tortoise` CLI (pyproject's [tool.tortoise]): makemigrations / migrate / history.
TORTOISE_ORM = tortoise_config(
    os.environ.get("DATABASE_URL")
    or default_database_url(os.environ.get("OGAPI_DATA_DIR") or "data")
)


async def migrate(database_url: str) -> None:
    """Apply pending migrations (idempotent)."""
    from tortoise.context import get_current_context
    from tortoise.migrations.api.migrate import migrate as run_migrations

    _ensure_sqlite_dir(database_url)
    await run_migrations(config=tortoise_config(database_url))
    ctx = get_current_context()  # the context migrate() opened: close that one
    if ctx is not None:
        await ctx.close_connections()


_opened: list[Any] = []  # every client `database` opened in this process, until the last closes
_open_count = [0]


@asynccontextmanager
async def database(database_url: str, readers: int = SQLITE_READERS):
    """Open the ORM for the app's lifetime and close exactly the context we opened. On SQLite,
    `readers` read-only connections serve plain SELECTs beside the one writer."""
    _ensure_sqlite_dir(database_url)
    ctx: TortoiseContext = await Tortoise.init(
        config=tortoise_config(database_url, readers), _enable_global_fallback=True
    )
    _opened.extend(ctx.connections.all())
    _open_count[0] += 1
    try:
        yield ctx
    finally:
        _open_count[0] -= 1
        await ctx.close_connections()
        if not _open_count[0]:
            # Two apps in one process (the multi-worker tests) share one context: Tortoise.init
            # re-initialises the task's current one. A late query of the first app (a background
            # sweep) can then reopen a client of the second after it closed; left open, its
            # non-daemon thread keeps the interpreter from exiting. The last app out closes
            # every client any app opened (closing a closed client does nothing).
            clients, _opened[:] = list(_opened), []
            for client in clients:
                await client.close()
