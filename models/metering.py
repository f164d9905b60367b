"""Usage counters, daily roll-ups, the credit ledger and notifications."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

from models.accounts import Account
from models.enums import NotificationKind, TransactionType


class QuotaReservation(Model):
    # An image of the monthly quota taken before rendering and not settled yet. Deleted when
    # the render succeeds (kept) or fails (given back). The worker rendering it marks it alive
    # every sweep; the sweeper of any worker gives it back once it has not been marked for
    # RESERVATION_TIMEOUT: its worker died, so its render can no longer finish
    # (resolvers/metering/meter.py).

    id = fields.BigIntField(primary_key=True)
    account_id = fields.BigIntField()
    month = fields.CharField(max_length=7)
    overage_entry_id = fields.BigIntField(null=True)  # the ledger charge of an overage image
    created_at = fields.DatetimeField(db_index=True)
    alive_at = fields.DatetimeField(null=True, db_index=True)  # last marked alive (None: never)

    class Meta:
        table = "quota_reservation"


class MonthlyUsage(Model):
    # The quota counter: one row per account and calendar month (UTC), bumped atomically.

    id = fields.BigIntField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="monthly_usage", on_delete=fields.CASCADE
    )
    month = fields.CharField(max_length=7)  # "YYYY-MM"
    used = fields.IntField(default=0)
    # Dollars of overage charged for this month's images, net of charges returned: what the
    # spending cap counts (resolvers/ledger/spending_cap.py; changed only by
    # resolvers/ledger/posting.py).
    overage_spend = fields.DecimalField(max_digits=18, decimal_places=6, default=0, db_default=0)

    class Meta:
        table = "monthly_usage"
        unique_together = (("account", "month"),)


class DailyUsage(Model):
    # Per-day, per-service roll-up so charts stay fast however many calls an account makes.

    id = fields.BigIntField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="daily_usage", on_delete=fields.CASCADE
    )
    day = fields.DateField()
    service = fields.CharField(max_length=64)
    images = fields.BigIntField(default=0)
    api_calls = fields.BigIntField(default=0)
    tokens = fields.BigIntField(default=0)
    spend = fields.DecimalField(max_digits=18, decimal_places=6, default=0)

    class Meta:
        table = "daily_usage"
        unique_together = (("account", "day", "service"),)


class LedgerEntry(Model):
    id = fields.BigIntField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="ledger", on_delete=fields.CASCADE
    )
    account_id: int  # the foreign key's column (Tortoise sets it)
    created_at = fields.DatetimeField(db_index=True)
    type = fields.CharEnumField(TransactionType, max_length=16)
    service = fields.CharField(max_length=64)
    amount = fields.DecimalField(max_digits=18, decimal_places=6)  # always positive
    tokens = fields.BigIntField(default=0)
    images = fields.IntField(default=0)
    description = fields.CharField(max_length=255, default="")
    external_ref = fields.CharField(max_length=255, null=True, unique=True)
    balance_after = fields.DecimalField(max_digits=18, decimal_places=6)

    class Meta:
        table = "ledger_entry"
        indexes = (("account_id", "created_at"),)  # the transactions list, newest first


class LedgerTotal(Model):
    # Per (account, type, service): how many ledger entries there are and what they add up to.
    # The ledger's one write path (resolvers/ledger/posting.py) keeps it in the entry's transaction,
    # so balance statistics and transaction counts read a few rows however long the history is.

    id = fields.BigIntField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="ledger_totals", on_delete=fields.CASCADE
    )
    account_id: int
    type = fields.CharEnumField(TransactionType, max_length=16)
    service = fields.CharField(max_length=64)
    entries = fields.BigIntField(default=0)
    amount = fields.DecimalField(max_digits=18, decimal_places=6, default=0)
    tokens = fields.BigIntField(default=0)
    images = fields.BigIntField(default=0)

    class Meta:
        table = "ledger_total"
        unique_together = (("account", "type", "service"),)


class Notification(Model):
    id = fields.BigIntField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="notifications", on_delete=fields.CASCADE
    )
    account_id: int  # the foreign key's column (Tortoise sets it)
    created_at = fields.DatetimeField()
    kind = fields.CharEnumField(NotificationKind, max_length=16)
    message = fields.CharField(max_length=500)
    read = fields.BooleanField(default=False)
    # e.g. "QUOTA_80:2026-11": the unique constraint makes each alert happen once, on any worker.
    dedupe_key = fields.CharField(max_length=64)
    # What a webhook event made from it carries as `data` (resolvers/notify/events.py).
    data: fields.JSONField[dict[str, Any] | None] = fields.JSONField(null=True)

    class Meta:
        table = "notification"
        unique_together = (("account", "dedupe_key"),)


class IdempotencyRecord(Model):
    # Stored answer of an idempotent admin request (`Idempotency-Key`).

    key = fields.CharField(max_length=255, primary_key=True)
    request_hash = fields.CharField(max_length=64)
    status = fields.IntField()
    body: fields.JSONField[Any] = fields.JSONField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "idempotency_record"
