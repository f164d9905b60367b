"""Accounts, their API keys, sessions and password-reset tokens."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.enums import AccountStatus, PlanId, SubscriptionStatus


class Account(Model):
    id = fields.IntField(primary_key=True)
    email = fields.CharField(max_length=254, unique=True)
    password_hash = fields.CharField(max_length=255)
    domain = fields.CharField(max_length=253, null=True)
    plan = fields.CharEnumField(PlanId, default=PlanId.FREE, max_length=16)
    # Set by an operator for enterprise deals; overrides the plan's monthly quota.
    custom_quota = fields.IntField(null=True)
    status = fields.CharEnumField(AccountStatus, default=AccountStatus.ACTIVE, max_length=16)
    overage_enabled = fields.BooleanField(default=False)
    # The most overage (dollars) charged in one calendar month; None: no cap (docs/metering.md).
    overage_cap = fields.DecimalField(max_digits=18, decimal_places=6, null=True)
    # Prepaid credits in dollars; only resolvers.ledger.entries changes it, always with a
    # LedgerEntry.
    balance = fields.DecimalField(max_digits=18, decimal_places=6, default=0)
    subscription_status = fields.CharEnumField(
        SubscriptionStatus, default=SubscriptionStatus.NONE, max_length=16
    )
    stripe_customer_id = fields.CharField(max_length=255, null=True, unique=True)
    stripe_subscription_id = fields.CharField(max_length=255, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    api_keys: fields.ReverseRelation[ApiKey]
    sessions: fields.ReverseRelation[Session]

    class Meta:
        table = "account"


class ApiKey(Model):
    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="api_keys", on_delete=fields.CASCADE
    )
    account_id: int  # the foreign key's column (Tortoise sets it)
    # SHA-256 hex of the plain key: lookups never touch the plain key.
    key_hash = fields.CharField(max_length=64, unique=True)
    # The plain key, encrypted with a key derived from SECRET_KEY, so the dashboard can show it.
    key_encrypted = fields.TextField()
    # Public key id carried by signed URLs (`kid=`); dies with the key.
    kid = fields.CharField(max_length=32, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_key"


class Session(Model):
    # SHA-256 hex of the cookie value: a database leak does not leak live sessions.
    id = fields.CharField(max_length=64, primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="sessions", on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField()
    last_seen_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()  # absolute lifetime
    ip = fields.CharField(max_length=64, null=True)
    user_agent = fields.CharField(max_length=255, null=True)

    class Meta:
        table = "session"


class PasswordReset(Model):
    token_hash = fields.CharField(max_length=64, primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="password_resets", on_delete=fields.CASCADE
    )
    account_id: int  # the foreign key's column (Tortoise sets it)
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "password_reset"


class LoginFailure(Model):
    # One login attempt that did not succeed (a failure, or one still being verified), counted
    # per email and per IP over a sliding window (all workers): see
    # resolvers.accounts.auth_throttle.

    id = fields.BigIntField(primary_key=True)
    email = fields.CharField(max_length=254, db_index=True)
    ip = fields.CharField(max_length=64, db_index=True)
    created_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "login_failure"
