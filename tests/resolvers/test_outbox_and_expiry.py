"""Failed mail is retried with backoff by one worker at a time (resolvers/mail.py), and
idempotency records expire (resolvers/idempotency.py); on SQLite and PostgreSQL, against a
real SMTP server (aiosmtpd) that refuses the first deliveries."""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime, timedelta

import pytest

from models import IdempotencyRecord, OutboxMail
from resolvers import idempotency
from resolvers.crypto import SecretBox
from resolvers.mail import CLAIM_SECONDS, MAX_ATTEMPTS, RETRY_BASE, Mailer, SmtpConfig


class Flaky:
    """Answers 451 (try later) to the first `failures` messages, then accepts."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.accepted: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):
        if self.failures > 0:
            self.failures -= 1
            return "451 Try again later"
        self.accepted.append(envelope.content)
        return "250 OK"


@pytest.fixture
def flaky_smtp():
    from aiosmtpd.controller import Controller

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    handler = Flaky(failures=2)
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, handler
    finally:
        controller.stop()


async def test_failed_mail_is_retried_with_backoff_by_one_worker(db, flaky_smtp):
    port, handler = flaky_smtp
    workers = [Mailer("ogapi@example.com", SmtpConfig("127.0.0.1", port)) for _ in range(2)]
    sent = await workers[0].send("user@example.com", "Hello", "Body")
    await workers[0].drain()
    record = await OutboxMail.get(id=sent.id)
    assert (record.attempts, record.sent_at) == (1, None) and "451" in record.error
    first_due = record.next_attempt_at
    assert first_due is not None
    delay = (first_due - record.created_at).total_seconds()
    assert RETRY_BASE - 2 <= delay <= RETRY_BASE + 5

    assert await workers[0].retry_due(first_due - timedelta(seconds=1)) == 0  # not due yet
    claimed = await asyncio.gather(*(w.retry_due(first_due) for w in workers))
    assert sorted(claimed) == [0, 1]  # one worker took it
    record = await OutboxMail.get(id=sent.id)
    assert record.attempts == 2 and record.sent_at is None
    second_delay = (record.next_attempt_at - first_due).total_seconds()
    assert 2 * RETRY_BASE - 2 <= second_delay <= 2 * RETRY_BASE + 5  # doubled

    claimed = await asyncio.gather(*(w.retry_due(record.next_attempt_at) for w in workers))
    assert sorted(claimed) == [0, 1]
    record = await OutboxMail.get(id=sent.id)
    assert record.sent_at is not None and record.next_attempt_at is None and not record.error
    assert record.attempts == 3 and len(handler.accepted) == 1  # delivered exactly once
    later = record.sent_at + timedelta(days=1)
    assert await workers[1].retry_due(later) == 0  # nothing more to do


async def test_a_secret_is_sealed_until_delivered_then_gone(db, flaky_smtp):
    """A mail with a secret (a reset token): the outbox never holds it in plain text; retries
    still deliver it whole; once sent nothing usable is left."""
    port, handler = flaky_smtp
    box = SecretBox("a-secret-key-for-the-outbox-tests-0123456789")
    mailer = Mailer("ogapi@example.com", SmtpConfig("127.0.0.1", port), box)
    secret = "tok_" + "x7" * 16
    sent = await mailer.send("user@example.com", "Reset", f"Link: https://x/r?token={secret}\n",
                             secret=secret)  # fmt: skip
    await mailer.drain()
    record = await OutboxMail.get(id=sent.id)
    assert record.sent_at is None and record.attempts == 1  # 451: to be retried
    assert secret not in record.body and "token=[redacted]" in record.body
    assert record.sealed_body and secret not in record.sealed_body
    while record.sent_at is None:
        assert record.next_attempt_at is not None
        await mailer.retry_due(record.next_attempt_at)
        record = await OutboxMail.get(id=sent.id)
    assert secret.encode() in handler.accepted[0]  # the mail itself is whole
    assert record.sealed_body is None and secret not in record.body


async def test_a_first_delivery_cut_off_is_retried(db, flaky_smtp):
    """The worker died while sending a new mail (its delivery never recorded an outcome):
    another worker delivers it once the first one's claim has run out."""
    port, handler = flaky_smtp
    handler.failures = 0
    dying = Mailer("ogapi@example.com", SmtpConfig("127.0.0.1", port))
    sent = await dying.send("user@example.com", "Hello", "Body")
    for task in list(dying._deliveries):  # the worker is killed before its delivery ends
        task.cancel()
    await dying.drain()
    assert handler.accepted == []
    other = Mailer("ogapi@example.com", SmtpConfig("127.0.0.1", port))
    now = datetime.now(UTC)
    assert await other.retry_due(now) == 0  # still claimed by the first worker
    assert await other.retry_due(now + timedelta(seconds=CLAIM_SECONDS + 1)) == 1
    record = await OutboxMail.get(id=sent.id)
    assert record.sent_at is not None and len(handler.accepted) == 1
    assert b"Body" in handler.accepted[0]


async def test_gives_up_after_the_last_attempt(db):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mailer = Mailer("ogapi@example.com", SmtpConfig("127.0.0.1", port, timeout=2))
    sent = await mailer.send("user@example.com", "Hello", "Body")
    await mailer.drain()
    for _ in range(MAX_ATTEMPTS + 2):
        record = await OutboxMail.get(id=sent.id)
        if record.next_attempt_at is None:
            break
        await mailer.retry_due(record.next_attempt_at)
    record = await OutboxMail.get(id=sent.id)
    assert record.attempts == MAX_ATTEMPTS and record.next_attempt_at is None
    assert record.sent_at is None and record.error


async def test_idempotency_records_expire(db):
    now = datetime(2026, 6, 1, 12, tzinfo=UTC)
    runs: list[int] = []

    async def work() -> tuple[int, dict]:
        runs.append(1)
        return 201, {"run": len(runs)}

    assert await idempotency.once("t", "key-1", {"a": 1}, now, work) == (201, {"run": 1}, False)
    soon = now + timedelta(hours=23)
    assert await idempotency.once("t", "key-1", {"a": 1}, soon, work) == (201, {"run": 1}, True)
    later = now + idempotency.TTL + timedelta(seconds=1)  # expired: new data is not a conflict
    assert await idempotency.once("t", "key-1", {"a": 2}, later, work) == (201, {"run": 2}, False)
    await idempotency.once("t", "key-2", {}, now, work)
    assert await idempotency.purge(now + idempotency.TTL) == 1  # key-2; key-1 is fresh again
    assert await IdempotencyRecord.all().values_list("key", flat=True) == ["t:key-1"]
