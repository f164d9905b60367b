"""Enums shared by the models, the service layer and the GraphQL schema (defined once, here)."""

from __future__ import annotations

from enum import StrEnum


class PlanId(StrEnum):
    FREE = "free"
    STARTER = "starter"
    PRO = "pro"
    AGENCY = "agency"
    PUBLISHING = "publishing"


class AccountStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


class SubscriptionStatus(StrEnum):
    NONE = "none"
    ACTIVE = "active"
    TRIALING = "trialing"
    PAST_DUE = "past_due"
    UNPAID = "unpaid"
    CANCELED = "canceled"
    INCOMPLETE = "incomplete"


class TransactionType(StrEnum):
    PURCHASE = "purchase"
    USAGE = "usage"
    REFUND = "refund"


class NotificationKind(StrEnum):
    QUOTA_80 = "QUOTA_80"
    QUOTA_95 = "QUOTA_95"
    QUOTA_100 = "QUOTA_100"
    LOW_BALANCE = "LOW_BALANCE"
    SPENDING_CAP_100 = "SPENDING_CAP_100"  # the month's overage reached the spending cap
    WEBHOOK_DISABLED = "WEBHOOK_DISABLED"  # an endpoint failed for 24 h (docs/webhooks.md)


class DeliveryStatus(StrEnum):
    """A webhook delivery (docs/webhooks.md): waiting for its next attempt, or done either way."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
