"""The only sender of mail: SMTP (aiosmtplib) when SMTP_HOST is set, else the outbox and the log.

Every message is first recorded in the outbox table; delivery then happens in a background
task, so a slow or dead mail server never holds up the request (a render crossing a quota
alert, a password reset) that triggered the mail. `drain()` waits for deliveries in flight
(the app calls it at shutdown; tests call it before looking at the outbox).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage

import aiosmtplib

from models import OutboxMail

log = logging.getLogger("ogapi.mail")


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 587
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout: float = 10.0


class Mailer:
    def __init__(self, sender: str, smtp: SmtpConfig | None = None) -> None:
        self.sender = sender
        self.smtp = smtp
        self._deliveries: set[asyncio.Task] = set()

    async def send(self, to: str, subject: str, body: str) -> OutboxMail:
        """Record one plain-text mail and start delivering it. Never raises for delivery
        problems: those are logged and kept on the outbox row."""
        record = await OutboxMail.create(
            to=to, subject=subject, body=body, created_at=datetime.now(UTC)
        )
        if self.smtp is None:
            log.info("mail (no SMTP configured) to=%s subject=%r\n%s", to, subject, body)
            return record
        task = asyncio.create_task(self._deliver(record))
        self._deliveries.add(task)
        task.add_done_callback(self._deliveries.discard)
        return record

    async def _deliver(self, record: OutboxMail) -> None:
        assert self.smtp is not None
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, record.to, record.subject
        message.set_content(record.body)
        try:
            await aiosmtplib.send(
                message,
                hostname=self.smtp.host,
                port=self.smtp.port,
                username=self.smtp.username,
                password=self.smtp.password,
                start_tls=self.smtp.starttls,
                timeout=self.smtp.timeout,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            log.warning("mail to %s failed: %s", record.to, exc)
            record.error = str(exc)[:2000]
        else:
            record.sent_at = datetime.now(UTC)
        try:
            await record.save(update_fields=["error", "sent_at"])
        except Exception:  # the database went away (shutdown): the log line above remains
            log.exception("could not record delivery of mail %s", record.id)

    async def drain(self) -> None:
        """Wait for every delivery in flight."""
        while self._deliveries:
            await asyncio.gather(*self._deliveries, return_exceptions=True)
