"""The owner of a live API key as the image hot path needs it (`KeyOwner`), read in one
indexed query. resolvers.accounts.keycache keeps these in memory; resolvers.accounts.keys reads
through it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from models import AccountStatus, PlanId, SubscriptionStatus
from models.native import native_sql


@dataclass(frozen=True, slots=True)
class KeyOwner:
    """The owner of a live key, as read from the database at `loaded` (time.monotonic())."""

    id: int  # the account's id (named like Account.id: quota and rate helpers take either)
    plan: PlanId
    custom_quota: int | None
    status: AccountStatus
    subscription_status: SubscriptionStatus
    key_id: int
    kid: str
    key_encrypted: str
    loaded: float


_SQL = (
    "SELECT a.id, a.plan, a.custom_quota, a.status, a.subscription_status,"
    " k.id AS key_id, k.kid, k.key_encrypted FROM api_key k JOIN account a ON a.id = k.account_id"
    " WHERE k.{} = ? AND k.revoked_at IS NULL"
)


async def read_owner(column: str, value: str) -> KeyOwner | None:
    """The owner of the live key whose `column` (key_hash or kid) is `value`, or None. One
    indexed query, in SQL: the ORM's query building costs ~10x the query itself."""
    conn, sql = native_sql(_SQL.format(column))
    rows = await conn.execute_query_dict(sql, [value])
    if not rows:
        return None
    r = rows[0]
    return KeyOwner(
        id=r["id"],
        plan=PlanId(r["plan"]),
        custom_quota=r["custom_quota"],
        status=AccountStatus(r["status"]),
        subscription_status=SubscriptionStatus(r["subscription_status"]),
        key_id=r["key_id"],
        kid=r["kid"],
        key_encrypted=r["key_encrypted"],
        loaded=time.monotonic(),
    )
