"""Quota alerts (docs/metering.md): 80 / 95 / 100 %, one mail per threshold and month, under
concurrency, through a real SMTP server (aiosmtpd on loopback)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from models import Account, Notification, OutboxMail
from resolvers.errors import AppError
from resolvers.limits.per_second import MemoryRateLimiter
from resolvers.mail import Mailer, SmtpConfig
from resolvers.metering import alerts
from resolvers.metering.meter import Meter

MARCH = datetime(2026, 3, 10, tzinfo=UTC)


def test_thresholds_for_25_are_the_20th_24th_and_25th_image():
    assert [t.reached_at(25) for t in alerts.THRESHOLDS] == [20, 24, 25]
    assert [t.reached_at(2000) for t in alerts.THRESHOLDS] == [1600, 1900, 2000]
    assert alerts.due(19, 25) == [] and len(alerts.due(24, 25)) == 2
    assert alerts.due(5, 0) == []


async def _render_all(meter: Meter, account: Account, n: int, now: datetime) -> int:
    async def one() -> bool:
        try:
            ticket = await meter.reserve(account, now)
        except AppError:
            return False
        await meter.commit(ticket, now)
        return True

    return sum(await asyncio.gather(*(one() for _ in range(n))))


async def test_one_mail_per_threshold_under_concurrency(db, smtp_server):
    port, inbox = smtp_server
    mailer = Mailer("OG Image API <noreply@og.test>", SmtpConfig("127.0.0.1", port, timeout=5))
    account = await Account.create(email="alerts@example.com", password_hash="x")  # free: 25
    # Two Meters: two workers' in-process state; the database decides who sends.
    meters = [Meter(MemoryRateLimiter(), mailer) for _ in range(2)]
    done = await asyncio.gather(*(_render_all(m, account, 20, MARCH) for m in meters))
    assert sum(done) == 25
    await inbox.wait_for(3)
    await asyncio.sleep(0.2)
    subjects = sorted(m["Subject"] for m in inbox.messages)
    assert len(subjects) == 3, subjects
    assert all(m["To"] == "alerts@example.com" for m in inbox.messages)
    assert sum("80%" in s for s in subjects) == 1 and sum("95%" in s for s in subjects) == 1
    kinds = sorted(n.kind.value for n in await Notification.filter(account_id=account.id))
    assert kinds == ["QUOTA_100", "QUOTA_80", "QUOTA_95"]
    await mailer.drain()
    assert await OutboxMail.filter(to="alerts@example.com", sent_at__isnull=False).count() == 3

    # Next month: the same thresholds alert again, once.
    april = datetime(2026, 4, 1, 0, 0, 1, tzinfo=UTC)
    assert await _render_all(meters[0], account, 20, april) == 20
    await inbox.wait_for(4)
    notes = await Notification.filter(account_id=account.id, dedupe_key__endswith="2026-04")
    assert [n.kind.value for n in notes] == ["QUOTA_80"]


async def test_no_alert_below_80_percent(db):
    mailer = Mailer("noreply@og.test")  # no SMTP: outbox only
    account = await Account.create(email="quiet@example.com", password_hash="x", custom_quota=100)
    assert await _render_all(Meter(MemoryRateLimiter(), mailer), account, 79, MARCH) == 79
    assert await Notification.filter(account_id=account.id).count() == 0
    assert await OutboxMail.all().count() == 0


@pytest.mark.parametrize("quota", [1, 3, 7])
async def test_small_quotas_alert_each_threshold_once(settings, quota):
    from models.db import database

    async with database(settings.database_url):
        account = await Account.create(email="s@example.com", password_hash="x", custom_quota=quota)
        await _render_all(Meter(MemoryRateLimiter(), Mailer("x@og.test")), account, quota, MARCH)
        kinds = sorted(n.kind.value for n in await Notification.filter(account_id=account.id))
        assert kinds == ["QUOTA_100", "QUOTA_80", "QUOTA_95"]
        assert await OutboxMail.filter(to="s@example.com").count() == 3
