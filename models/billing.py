"""Local copies of Stripe state: invoices and processed webhook events."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.accounts import Account


class Invoice(Model):
    id = fields.BigIntField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="invoices", on_delete=fields.CASCADE
    )
    stripe_id = fields.CharField(max_length=255, unique=True)
    number = fields.CharField(max_length=64, null=True)
    date = fields.DateField()
    amount = fields.DecimalField(max_digits=18, decimal_places=2)  # major units
    currency = fields.CharField(max_length=3)
    status = fields.CharField(max_length=32)
    pdf_url = fields.CharField(max_length=1024, null=True)
    hosted_url = fields.CharField(max_length=1024, null=True)

    class Meta:
        table = "invoice"
        indexes = (("account_id", "date"),)


class StripeEvent(Model):
    # Webhook events already processed, so each event id is handled at most once.

    id = fields.CharField(max_length=255, primary_key=True)
    type = fields.CharField(max_length=128)
    processed_at = fields.DatetimeField()

    class Meta:
        table = "stripe_event"
