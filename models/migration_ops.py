"""Migration operations of our own (models/migrations/).

`DescribeEnum`: a CharEnumField's list of values changed (a new NotificationKind). Only the
column's description changes, which no database stores; Tortoise would still run an
AlterField, and on SQLite that rebuilds the table without its unique constraints (the
`notification` table would lose the (account, dedupe_key) rule that makes each alert fire
once). This changes the migration state alone.
"""

from __future__ import annotations

from typing import Any

from tortoise.migrations import operations as ops


class DescribeEnum(ops.AlterField):
    async def database_forward(self, *args: Any, **kwargs: Any) -> None:
        return None

    async def database_backward(self, *args: Any, **kwargs: Any) -> None:
        return None
