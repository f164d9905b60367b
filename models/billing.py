"""Local copies of Stripe state: invoices, processed webhook events, subscriptions, credit
purchases and the Checkout Sessions this server opened."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.accounts import Account
from models.enums import PlanId


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
    # `created` (unix seconds) of the webhook event this row was last written from: an older
    # event arriving late changes nothing.
    version = fields.BigIntField(default=0)

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


class StripeSubscription(Model):
    # The last state seen of each Stripe subscription (webhooks, or fetched at checkout). The
    # account's plan and subscription_status are derived from these rows (resolvers/subscriptions).

    id = fields.CharField(max_length=255, primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="stripe_subscriptions", on_delete=fields.CASCADE
    )
    status = fields.CharField(max_length=32)
    # The plan its price's lookup key names (None: a price this server does not sell).
    plan = fields.CharEnumField(PlanId, max_length=16, null=True)
    cancel_at_period_end = fields.BooleanField(default=False)
    current_period_end = fields.DatetimeField(null=True)
    created = fields.BigIntField()  # the subscription's own `created`: newest subscription wins
    version = fields.BigIntField(default=0)  # `created` of the event last applied

    class Meta:
        table = "stripe_subscription"


class CreditPurchase(Model):
    # A paid credit Checkout Session; refunds of its charge take credits back up to its amount.
    # `id` is the purchase's ledger external_ref (the PaymentIntent id, else the session id).

    id = fields.CharField(max_length=255, primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="credit_purchases", on_delete=fields.CASCADE
    )
    session_id = fields.CharField(max_length=255, unique=True)
    amount_cents = fields.IntField()
    refunded_cents = fields.IntField(default=0)  # cumulative, as far as already taken back
    created_at = fields.DatetimeField()

    class Meta:
        table = "credit_purchase"


class CheckoutSession(Model):
    # A Stripe Checkout Session this server opened. The return page needs the dashboard session
    # of its account, and a new subscription session expires the account's older open ones
    # (resolvers/billing/checkouts.py). `id` orders them by when they were opened.

    id = fields.BigIntField(primary_key=True)
    stripe_id = fields.CharField(max_length=255, unique=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="checkout_sessions", on_delete=fields.CASCADE
    )
    account_id: int  # the foreign key's column (Tortoise sets it)
    mode = fields.CharField(max_length=16)  # subscription or payment
    status = fields.CharField(max_length=16, default="open")  # open, complete or expired
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()

    class Meta:
        table = "checkout_session"
        indexes = (("account_id", "mode", "status"),)


class CreditDispute(Model):
    # A dispute (chargeback) of a credit purchase's charge (resolvers/billing/disputes.py): the
    # credits taken back when it opened, given back once if it closes in our favour.

    id = fields.CharField(max_length=255, primary_key=True)  # Stripe's dispute id
    purchase: fields.ForeignKeyRelation[CreditPurchase] = fields.ForeignKeyField(
        "models.CreditPurchase", related_name="disputes", on_delete=fields.CASCADE
    )
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="credit_disputes", on_delete=fields.CASCADE
    )
    account_id: int  # the foreign key's column (Tortoise sets it)
    amount_cents = fields.IntField()  # disputed
    # Dollars taken from the balance when it opened (less than disputed when credits were spent).
    taken = fields.DecimalField(max_digits=18, decimal_places=6, default=0)
    status = fields.CharField(max_length=16)  # open, won or lost; won and lost are final
    created_at = fields.DatetimeField()

    class Meta:
        table = "credit_dispute"
