"""Tortoise models. Every model module is listed in MODEL_MODULES (one Tortoise app: "models")."""

from models.accounts import Account, ApiKey, LoginFailure, PasswordReset, Session
from models.billing import CreditPurchase, Invoice, StripeEvent, StripeSubscription
from models.enums import (
    AccountStatus,
    NotificationKind,
    PlanId,
    SubscriptionStatus,
    TransactionType,
)
from models.mail import OutboxMail
from models.metering import DailyUsage, IdempotencyRecord, LedgerEntry, MonthlyUsage, Notification

MODEL_MODULES = ["models.accounts", "models.metering", "models.billing", "models.mail"]

__all__ = [
    "MODEL_MODULES",
    "Account",
    "AccountStatus",
    "ApiKey",
    "CreditPurchase",
    "DailyUsage",
    "IdempotencyRecord",
    "Invoice",
    "LedgerEntry",
    "LoginFailure",
    "MonthlyUsage",
    "Notification",
    "NotificationKind",
    "OutboxMail",
    "PasswordReset",
    "PlanId",
    "Session",
    "StripeEvent",
    "StripeSubscription",
    "SubscriptionStatus",
    "TransactionType",
]
