"""Outgoing mail, kept as a record (and as the mailbox when no SMTP server is configured)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class OutboxMail(Model):
    # Every mail the service sends; without SMTP this table (and the log) is the mailbox.

    id = fields.BigIntField(primary_key=True)
    to = fields.CharField(max_length=254)
    subject = fields.CharField(max_length=255)
    body = fields.TextField()  # a secret in it (a reset token) is redacted (resolvers/mail.py)
    # The whole body, encrypted with SECRET_KEY, while its delivery is pending; None once
    # sent or given up, and for mail without a secret.
    sealed_body = fields.TextField(null=True)
    created_at = fields.DatetimeField()
    sent_at = fields.DatetimeField(null=True)
    error = fields.TextField(null=True)
    attempts = fields.IntField(default=0)  # deliveries tried (resolvers/mail.py retries)
    next_attempt_at = fields.DatetimeField(null=True, db_index=True)  # None: sent or given up

    class Meta:
        table = "outbox_mail"
