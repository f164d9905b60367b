"""`ogapi demo`: an account with ~90 days of realistic history, so every dashboard panel has data.

Money moves through resolvers.ledger.entries like real traffic (purchases, usage charges, a refund,
a Stripe-style purchase refund), dated in the past; renders and API calls go into the daily
roll-ups and the monthly quota counters; invoices look like Stripe's.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from models import Account, DailyUsage, Invoice, MonthlyUsage, PlanId
from resolvers.accounts import accounts
from resolvers.crypto import SecretBox, random_token
from resolvers.ledger import entries as ledger
from resolvers.metering import quota
from resolvers.rollups import IMAGE_SERVICE

DAYS = 90


@dataclass(frozen=True)
class Demo:
    account: Account
    password: str


def _stripe_id(rng: random.Random, prefix: str, n: int = 24) -> str:
    return prefix + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(n))


def _at(day: date, rng: random.Random) -> datetime:
    return datetime.combine(day, time(rng.randint(7, 22), rng.randint(0, 59)), tzinfo=UTC)


async def _renders(account: Account, days: list[date], now: datetime, rng: random.Random) -> None:
    rows: list[DailyUsage] = []
    months: dict[str, int] = {}
    for i, day in enumerate(days):
        weekday = day.weekday() < 5
        base = 25 + i * 0.35  # a growing site
        images = max(0, int(rng.gauss(base if weekday else base * 0.4, base * 0.2)))
        if day == now.date():
            images = images * now.hour // 24
        calls = images + int(images * rng.uniform(0.8, 2.5)) + rng.randint(0, 6)
        rows.append(
            DailyUsage(
                account_id=account.id,
                day=day,
                service=IMAGE_SERVICE,
                images=images,
                api_calls=calls,
            )
        )
        month = day.strftime("%Y-%m")
        months[month] = months.get(month, 0) + images
    await DailyUsage.bulk_create(rows)
    for month, used in months.items():
        await MonthlyUsage.create(account_id=account.id, month=month, used=used)


async def _money(account: Account, days: list[date], rng: random.Random) -> None:
    purchase_days = {days[0]: "25", days[30]: "50", days[62]: "25"}
    for i, day in enumerate(days):
        if day in purchase_days:
            await ledger.grant(
                account.id,
                purchase_days[day],
                _at(day, rng),
                description="Credit top-up",
                external_ref=_stripe_id(rng, "cs_live_", 40),
            )
        if rng.random() < 0.7:
            tokens = rng.randint(20_000, 400_000)
            service = rng.choice(["ai_data", "ai_data", "ai_data_cached", "ai_data_completion"])
            await ledger.record_usage(
                account.id,
                service,
                _at(day, rng),
                tokens=tokens,
                description=f"Alt-text generation, {tokens:,} tokens",
            )
        if rng.random() < 0.3:
            await ledger.record_usage(
                account.id,
                "ai_images",
                _at(day, rng),
                images=rng.randint(50, 900),
                description="Background removal batch",
            )
        if i == 50:
            await ledger.refund(
                account.id, "2.50", _at(day, rng), description="Compensation for a render outage"
            )
    await ledger.purchase_refund(
        account.id,
        "5",
        _at(days[75], rng),
        external_ref=_stripe_id(rng, "ch_", 24),
        description="Refund of a duplicate top-up",
    )


async def _invoices(account: Account, now: datetime, rng: random.Random) -> None:
    acct = _stripe_id(rng, "acct_", 16)
    prefix = "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(8))
    first = quota.next_reset(now - timedelta(days=DAYS))  # monthly Pro invoices
    n = 0
    while first <= now:
        n += 1
        token = _stripe_id(rng, "", 40)
        await Invoice.create(
            account=account,
            stripe_id=_stripe_id(rng, "in_"),
            number=f"{prefix}-{n:04d}",
            date=first.date(),
            amount=Decimal("19.00"),
            currency="usd",
            status="paid",
            pdf_url=f"https://pay.stripe.com/invoice/{acct}/{token}/pdf",
            hosted_url=f"https://invoice.stripe.com/i/{acct}/{token}",
        )
        first = quota.next_reset(first)


async def create_demo(box: SecretBox, now: datetime, seed: int | None = None) -> Demo:
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    password = random_token(16)
    email = f"demo-{random_token(6).lower()}@example.com"
    account = await accounts.create_account(
        email, password, box, domain="demo.example.com", plan=PlanId.PRO
    )
    account.overage_enabled = True
    await account.save(update_fields=["overage_enabled"])
    await Account.filter(id=account.id).update(created_at=now - timedelta(days=DAYS + 5))
    days = [(now - timedelta(days=DAYS - 1 - i)).date() for i in range(DAYS)]
    await _renders(account, days, now, rng)
    await _money(account, days, rng)
    await _invoices(account, now, rng)
    return Demo(await Account.get(id=account.id), password)
