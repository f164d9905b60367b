"""What every `ogapi` command shares (web/cli/main.py, web/cli/metering.py): an error line
and exit status, running an async command with the database open, argument types."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable

from models.db import database, is_sqlite, migrate
from resolvers.errors import AppError
from web.settings import Settings

Command = Callable[[argparse.Namespace, Settings], Awaitable[int]]


def fail(message: str, status: int = 1) -> int:
    print(f"error: {message}", file=sys.stderr)
    return status


def with_db(fn: Command) -> Callable[[argparse.Namespace, Settings], int]:
    """Run an async admin command with the database open; AppErrors become clean exits."""

    def run(args: argparse.Namespace, settings: Settings) -> int:
        async def main() -> int:
            from resolvers.accounts.keycache import publishing

            if is_sqlite(settings.database_url):
                await migrate(settings.database_url)
            # With REDIS_URL, account changes reach the servers' key caches at once; without
            # it (the embedded default) within resolvers.accounts.keycache.TTL seconds.
            async with database(settings.database_url), publishing(settings.redis_url):
                try:
                    return await fn(args, settings)
                except AppError as exc:
                    return fail(exc.message)

        return asyncio.run(main())

    return run


def non_negative(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError("must be zero or more")
    return n
