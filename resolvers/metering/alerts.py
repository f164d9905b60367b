"""Quota alerts (docs/metering.md): at ceil(80 %), ceil(95 %) and 100 % of the monthly quota,
and when the month's overage reaches the spending cap.

Each threshold fires once per account and month, on any number of workers: the alert is a
Notification row whose unique (account, dedupe_key) — e.g. `QUOTA_80:2026-11` — only one
insert can win. The winner sends the mail (resolvers.mail); the dashboard reads the row; the
row goes out as a `quota.threshold` webhook event with `data` (resolvers/notify/events.py).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import Account, Notification, NotificationKind
from resolvers.ledger.spending_cap import dollars
from resolvers.mail import Mailer

log = logging.getLogger("ogapi.alerts")


@dataclass(frozen=True)
class Threshold:
    kind: NotificationKind
    percent: int

    def reached_at(self, quota: int) -> int:
        """The image count that crosses this threshold (for 25: 20, 24, 25)."""
        return math.ceil(quota * self.percent / 100)


THRESHOLDS = (
    Threshold(NotificationKind.QUOTA_80, 80),
    Threshold(NotificationKind.QUOTA_95, 95),
    Threshold(NotificationKind.QUOTA_100, 100),
)


def due(used: int, quota: int) -> list[Threshold]:
    """Thresholds that `used` images have reached (none for a zero quota)."""
    if quota <= 0:
        return []
    return [t for t in THRESHOLDS if used >= t.reached_at(quota)]


def _message(t: Threshold, quota: int, used: int, month: str) -> tuple[str, str]:
    if t.percent == 100:
        subject = "You have used all of your monthly OG Image API quota"
        text = (
            f"You have used all {quota} images of your monthly quota for {month}. Further "
            "renders are refused until the quota resets on the 1st (00:00 UTC), unless overage "
            "is enabled and your credit balance covers it."
        )
    else:
        subject = f"You have used {t.percent}% of your monthly OG Image API quota"
        text = f"You have used {used} of {quota} images ({t.percent}%) of your quota for {month}."
    return subject, text


async def notify(
    account_id: int,
    kind: NotificationKind,
    key: str,
    subject: str,
    text: str,
    now: datetime,
    mailer: Mailer,
    data: dict[str, Any] | None = None,
) -> bool:
    """Create the notification `key` (e.g. `QUOTA_80:2026-11`) unless it exists, and mail it:
    True when this call fired it (once per key, on any number of workers). The row goes out as
    a webhook event with `data` where its kind maps to one (resolvers/notify/events.py), in
    the row's transaction."""
    if await Notification.exists(account_id=account_id, dedupe_key=key):
        return False
    try:
        async with in_transaction():
            await Notification.create(
                account_id=account_id,
                created_at=now,
                kind=kind,
                message=text,
                dedupe_key=key,
                data=data,
            )
    except IntegrityError:
        return False  # another request or worker fired it first
    account = await Account.get_or_none(id=account_id)
    if account is not None:
        await mailer.send(account.email, subject, text + "\n\nOG Image API\n")
    return True


async def check_quota_alerts(
    account_id: int, used: int, quota: int, month: str, now: datetime, mailer: Mailer
) -> list[NotificationKind]:
    """Create (and mail) every threshold `used` has reached that this month has not seen yet."""
    fired = []
    for t in due(used, quota):
        subject, text = _message(t, quota, used, month)
        data = {"threshold": t.percent, "used": used, "quota": quota, "month": month}
        if not await notify(
            account_id, t.kind, f"{t.kind.value}:{month}", subject, text, now, mailer, data=data
        ):
            continue
        fired.append(t.kind)
        log.info(
            "quota alert %s account=%s used=%s quota=%s", t.kind.value, account_id, used, quota
        )
    return fired


@dataclass(frozen=True)
class CapUsage:
    """The month's images when the spending cap is reached: the quota.threshold fields."""

    used: int
    quota: int
    month: str


async def check_cap_alert(
    account_id: int, cap: Decimal, spend: Decimal, usage: CapUsage, now: datetime, mailer: Mailer
) -> bool:
    """The month's overage `spend` reached the spending cap (resolvers/ledger/spending_cap.py): one
    `SPENDING_CAP_100` notification and mail per month. True when this call sent it. Its event
    is a quota.threshold with every field the quota's own has (threshold, used, quota, month)
    and `kind: "spending_cap"` with the cap and the spend, to tell the two apart."""
    kind, month = NotificationKind.SPENDING_CAP_100, usage.month
    subject = "You have reached your monthly OG Image API spending cap"
    text = (
        f"Overage charged for {month} has reached your spending cap of {dollars(cap)} "
        f"({dollars(spend)} charged). Images past the quota are refused (signed URLs show the "
        "fallback card) until the quota resets on the 1st (00:00 UTC), or until you raise or "
        "clear the cap in the dashboard."
    )
    data = {
        "threshold": 100,
        "used": usage.used,
        "quota": usage.quota,
        "month": month,
        "kind": "spending_cap",
        "spending_cap": str(cap),
        "overage_spend": str(spend),
    }
    if not await notify(
        account_id, kind, f"{kind.value}:{month}", subject, text, now, mailer, data=data
    ):
        return False
    log.info("spending cap alert account=%s cap=%s spend=%s", account_id, cap, spend)
    return True
