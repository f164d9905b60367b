"""The only sender of mail: SMTP (aiosmtplib) when SMTP_HOST is set, else the outbox and the log.

Every message is first recorded in the outbox table; delivery then happens in a background
task, so a slow or dead mail server never holds up the request (a render crossing a quota
alert, a password reset) that triggered the mail. `drain()` waits for deliveries in flight
(the app calls it at shutdown; tests call it before looking at the outbox).

A delivery that fails is tried again later with exponential backoff (`RETRY_BASE` seconds,
doubling, at most `MAX_ATTEMPTS` tries): `retry_due()`, which every worker runs periodically,
claims each due mail through the outbox (resolvers/outbox.py), so one worker at a time retries
it. A new mail
is recorded as claimed by its own worker for `CLAIM_SECONDS`: if that worker dies before the
first delivery ends, another one retries it then.

A mail may carry a `secret` (a password-reset token): the outbox keeps its body with the
secret redacted, plus the whole body encrypted with SECRET_KEY only while its delivery is
pending (for retries), so no usable token stays at rest (docs/accounts.md). Without SMTP the
log line is the mailbox and shows the whole body.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import aiosmtplib

from models import OutboxMail
from resolvers import outbox
from resolvers.crypto import SecretBox

log = logging.getLogger("ogapi.mail")
MAX_ATTEMPTS = 6
RETRY_BASE = 30.0  # seconds before the first retry; doubled after each failure
CLAIM_SECONDS = 300.0  # a claimed mail is left alone this long (its worker may have died)
RETRY_EVERY = 15.0  # seconds between looks for due retries
REDACTED = "[redacted]"


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 587
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout: float = 10.0


class Mailer:
    def __init__(
        self, sender: str, smtp: SmtpConfig | None = None, box: SecretBox | None = None
    ) -> None:
        self.sender = sender
        self.smtp = smtp
        self.box = box  # seals the bodies of mail with a secret (needed with SMTP)
        self._deliveries: set[asyncio.Task] = set()

    async def send(self, to: str, subject: str, body: str, secret: str | None = None) -> OutboxMail:
        """Record one plain-text mail and start delivering it. Never raises for delivery
        problems: those are logged and kept on the outbox row. `secret`: a part of `body` that
        must not stay at rest (redacted in the outbox; sealed until delivered)."""
        now = datetime.now(UTC)
        sealed = None
        if secret and self.smtp is not None:
            if self.box is None:
                raise RuntimeError("a Mailer with SMTP needs a SecretBox to send secrets")
            sealed = self.box.seal(body)
        record = await OutboxMail.create(
            to=to,
            subject=subject,
            body=body.replace(secret, REDACTED) if secret else body,
            sealed_body=sealed,
            created_at=now,
            # Claimed by this worker for its first delivery; another retries it if we die.
            next_attempt_at=now + timedelta(seconds=CLAIM_SECONDS) if self.smtp else None,
        )
        if self.smtp is None:
            log.info("mail (no SMTP configured) to=%s subject=%r\n%s", to, subject, body)
            return record
        task = asyncio.create_task(self._deliver(record))
        self._deliveries.add(task)
        task.add_done_callback(self._deliveries.discard)
        return record

    async def _deliver(self, record: OutboxMail, now: datetime | None = None) -> None:
        """One attempt; a failure schedules the next one `RETRY_BASE * 2**(attempts-1)` s after
        `now` (the attempt's time)."""
        assert self.smtp is not None
        record.attempts += 1
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, record.to, record.subject
        body = record.body
        if record.sealed_body is not None:
            assert self.box is not None
            body = self.box.open(record.sealed_body) or body  # SECRET_KEY changed: redacted
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
            record.error = str(exc)[:2000]
            if record.attempts < MAX_ATTEMPTS:
                delay = outbox.backoff(record.attempts, RETRY_BASE)
                record.next_attempt_at = (now or datetime.now(UTC)) + timedelta(seconds=delay)
                log.warning(
                    "mail to %s failed (attempt %d): %s; retrying in %.0f s",
                    record.to,
                    record.attempts,
                    exc,
                    delay,
                )
            else:
                record.next_attempt_at = None
                record.sealed_body = None  # type: ignore[assignment]  # a nullable column
                log.error(
                    "mail to %s failed %d times, giving up: %s", record.to, record.attempts, exc
                )
        else:
            record.sent_at = datetime.now(UTC)
            record.error = None  # type: ignore[assignment]  # a nullable column
            record.next_attempt_at = None
            record.sealed_body = None  # type: ignore[assignment]  # a nullable column
        fields = ["error", "sent_at", "attempts", "next_attempt_at", "sealed_body"]
        try:
            await record.save(update_fields=fields)
        except Exception:  # the database went away (shutdown): the log line above remains
            log.exception("could not record delivery of mail %s", record.id)

    async def retry_due(self, now: datetime | None = None) -> int:
        """Deliver again the mails whose retry is due; returns how many this worker claimed
        (resolvers/outbox.py: one worker per mail)."""
        if self.smtp is None:
            return 0
        now = now or datetime.now(UTC)
        claimed = await outbox.claim_due(OutboxMail, now, CLAIM_SECONDS, sent_at=None)
        for record in claimed:
            await self._deliver(record, now)
        return len(claimed)

    async def run_retries(self, every: float = RETRY_EVERY) -> None:
        """`retry_due` every `every` seconds until cancelled."""
        await outbox.run_every(every, self.retry_due, "mail")

    async def drain(self) -> None:
        """Wait for every delivery in flight."""
        while self._deliveries:
            await asyncio.gather(*self._deliveries, return_exceptions=True)
