"""The only sender of mail: SMTP (aiosmtplib) when SMTP_HOST is set, else the outbox and the log.

Every message is recorded in the outbox table either way, with its delivery result.
"""

from __future__ import annotations

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

    async def send(self, to: str, subject: str, body: str) -> OutboxMail:
        """Send (or store) one plain-text mail. Delivery failures are logged, never raised:
        a mail server outage must not fail the sign-up or the render that triggered it."""
        record = await OutboxMail.create(
            to=to, subject=subject, body=body, created_at=datetime.now(UTC)
        )
        if self.smtp is None:
            log.info("mail (no SMTP configured) to=%s subject=%r\n%s", to, subject, body)
            return record
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, to, subject
        message.set_content(body)
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
            log.warning("mail to %s failed: %s", to, exc)
            record.error = str(exc)[:2000]
        else:
            record.sent_at = datetime.now(UTC)
        await record.save(update_fields=["error", "sent_at"])
        return record
