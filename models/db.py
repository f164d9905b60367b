"""Database configuration and lifecycle (Tortoise 1.x, built-in migrations)."""

from __future__ import annotations

import os
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from tortoise import Tortoise
from tortoise.context import TortoiseContext

DEFAULT_DATABASE_URL = "sqlite://data/ogapi.sqlite3"
_SSL_MODES = {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}


def _postgres_connection(url: str) -> dict[str, Any]:
    """Tortoise's URL parser drops `sslmode`; asyncpg takes it as `ssl`."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    sslmode = query.pop("sslmode", None)
    if sslmode is not None and sslmode not in _SSL_MODES:
        raise ValueError(f"DATABASE_URL: unknown sslmode {sslmode!r}")
    if sslmode:
        query["ssl"] = sslmode
    scheme = "postgres" if parts.scheme in ("postgres", "postgresql") else parts.scheme
    return {"connection_url": urlunsplit((scheme, parts.netloc, parts.path, urlencode(query), ""))}


def connection_url(database_url: str) -> str:
    """Normalise DATABASE_URL into the form Tortoise accepts."""
    if database_url.startswith("sqlite://"):
        return database_url
    if database_url.startswith(("postgres://", "postgresql://")):
        return _postgres_connection(database_url)["connection_url"]
    raise ValueError("DATABASE_URL must start with sqlite:// or postgres://")


def is_sqlite(database_url: str) -> bool:
    return database_url.startswith("sqlite://")


def _ensure_sqlite_dir(database_url: str) -> None:
    if database_url.startswith("sqlite://"):
        path = database_url.removeprefix("sqlite://").split("?", 1)[0]
        if path != ":memory:":
            Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)


def tortoise_config(database_url: str) -> dict[str, Any]:
    return {
        "connections": {"default": connection_url(database_url)},
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
    or f"sqlite://{os.environ.get('OGAPI_DATA_DIR') or 'data'}/ogapi.sqlite3"
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


@asynccontextmanager
async def database(database_url: str):
    """Open the ORM for the app's lifetime and close exactly the context we opened."""
    _ensure_sqlite_dir(database_url)
    ctx: TortoiseContext = await Tortoise.init(
        config=tortoise_config(database_url), _enable_global_fallback=True
    )
    try:
        yield ctx
    finally:
        await ctx.close_connections()
