"""Account webhooks (docs/webhooks.md): the endpoints an account registered, the events sent to
them (one body, signed anew on every attempt) and each event's delivery to each endpoint."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.accounts import Account
from models.enums import DeliveryStatus


class WebhookEndpoint(Model):
    # id: "we_" + 16 lowercase alphanumerics; at most 5 per account (resolvers/notify/endpoints.py).
    id = fields.CharField(primary_key=True, max_length=20)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="webhook_endpoints", on_delete=fields.CASCADE
    )
    account_id: int  # the foreign key's column (Tortoise sets it)
    url = fields.CharField(max_length=2048)
    events: fields.JSONField[list[str]] = fields.JSONField()  # the event types it receives
    sealed_secret = fields.TextField()  # the whsec_ secret, encrypted with SECRET_KEY
    created_at = fields.DatetimeField()
    # The first failed attempt since the last success; failing for 24 h disables it.
    failing_since = fields.DatetimeField(null=True)
    disabled_at = fields.DatetimeField(null=True)

    deliveries: fields.ReverseRelation[WebhookDelivery]

    class Meta:
        table = "webhook_endpoint"
        indexes = (("account_id", "created_at"),)


class WebhookEvent(Model):
    # id: "evt_" + 24 lowercase alphanumerics, the `id` of the JSON body, the same on retries.
    id = fields.CharField(primary_key=True, max_length=32)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="webhook_events", on_delete=fields.CASCADE
    )
    account_id: int  # the foreign key's column (Tortoise sets it)
    type = fields.CharField(max_length=40)
    created_at = fields.DatetimeField()
    body = fields.TextField()  # the exact JSON posted, byte for byte the same on every attempt

    class Meta:
        table = "webhook_event"


class WebhookDelivery(Model):
    # One event to one endpoint; the outbox's retries (resolvers/outbox.py) claim it by
    # moving `next_attempt_at` forward, so one worker at a time attempts it.
    id = fields.BigIntField(primary_key=True)
    event: fields.ForeignKeyRelation[WebhookEvent] = fields.ForeignKeyField(
        "models.WebhookEvent", related_name="deliveries", on_delete=fields.CASCADE
    )
    endpoint: fields.ForeignKeyRelation[WebhookEndpoint] = fields.ForeignKeyField(
        "models.WebhookEndpoint", related_name="deliveries", on_delete=fields.CASCADE
    )
    event_id: str  # the foreign keys' columns (Tortoise sets them)
    endpoint_id: str
    created_at = fields.DatetimeField()
    status = fields.CharEnumField(DeliveryStatus, max_length=12, default=DeliveryStatus.PENDING)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(null=True, db_index=True)  # None: delivered or failed
    last_attempt_at = fields.DatetimeField(null=True)
    last_status = fields.IntField(null=True)  # the receiver's HTTP status, None: no answer
    last_error = fields.TextField(null=True)
    delivered_at = fields.DatetimeField(null=True)

    class Meta:
        table = "webhook_delivery"
        unique_together = (("event", "endpoint"),)
        indexes = (("endpoint_id", "created_at"),)


__all__ = ["WebhookDelivery", "WebhookEndpoint", "WebhookEvent"]
