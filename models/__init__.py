"""Tortoise models: one Tortoise app, "models" (models/db.py), made of every model imported here."""

from models.accounts import Account, ApiKey, LoginFailure, PasswordReset, Session
from models.billing import (
    CheckoutSession,
    CreditDispute,
    CreditPurchase,
    Invoice,
    StripeEvent,
    StripeSubscription,
)
from models.enums import (
    AccountStatus,
    DeliveryStatus,
    NotificationKind,
    PlanId,
    SubscriptionStatus,
    TransactionType,
)
from models.insight import CardFetch, CardFetchDay
from models.mail import OutboxMail
from models.metering import (
    DailyUsage,
    IdempotencyRecord,
    LedgerEntry,
    LedgerTotal,
    MonthlyUsage,
    Notification,
    QuotaReservation,
)
from models.templates import Font, Template, TemplateVersion
from models.webhooks import WebhookDelivery, WebhookEndpoint, WebhookEvent

__all__ = [
    "Account",
    "AccountStatus",
    "ApiKey",
    "CardFetch",
    "CardFetchDay",
    "CheckoutSession",
    "CreditDispute",
    "CreditPurchase",
    "DailyUsage",
    "DeliveryStatus",
    "Font",
    "IdempotencyRecord",
    "Invoice",
    "LedgerEntry",
    "LedgerTotal",
    "LoginFailure",
    "MonthlyUsage",
    "Notification",
    "NotificationKind",
    "OutboxMail",
    "PasswordReset",
    "PlanId",
    "QuotaReservation",
    "Session",
    "StripeEvent",
    "StripeSubscription",
    "SubscriptionStatus",
    "Template",
    "TemplateVersion",
    "TransactionType",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
]
