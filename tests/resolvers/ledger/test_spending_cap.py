"""The spending cap (docs/metering.md#spending-cap): the month's overage never passes it, exactly,
under concurrency, on SQLite and PostgreSQL; one alert per month; charges given back make room
again in the month they were charged."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from tortoise import Tortoise
from tortoise.context import get_current_context
from tortoise.exceptions import IntegrityError
from tortoise.migrations.api.migrate import migrate as run_migrations

from models import Account, LedgerEntry, Notification, OutboxMail, PlanId
from models.db import migrate, tortoise_config
from resolvers.accounts import accounts
from resolvers.errors import AppError
from resolvers.ledger import entries as ledger
from resolvers.ledger import spending_cap
from resolvers.limits.per_second import MemoryRateLimiter
from resolvers.mail import Mailer
from resolvers.metering import quota
from resolvers.metering.meter import Meter, RenderTicket
from tests.resolvers.conftest import on_database
from tests.resolvers.ledger.test_ledger_totals import _fresh_url

NOW = datetime(2026, 4, 30, 23, 0, tzinfo=UTC)
CAP_MESSAGE = "Monthly spending cap reached. Cap: $0.10 of overage."


@pytest.fixture
def meter() -> Meter:
    return Meter(MemoryRateLimiter(), Mailer("test@localhost"))


async def _capped(email: str, cap: str | None, balance: str = "1.00") -> Account:
    """A starter account ($0.02 per overage image) with 2 images of quota and overage on."""
    account = await Account.create(email=email, password_hash="x", plan=PlanId.STARTER,
                                   custom_quota=2, overage_enabled=True)  # fmt: skip
    await accounts.update_account(account, overage_cap=cap)
    await ledger.grant(account.id, balance, NOW)
    return account


async def _reserve_all(meter: Meter, account: Account, n: int):
    results = await asyncio.gather(
        *(meter.reserve(account, NOW) for _ in range(n)), return_exceptions=True
    )
    for r in results:
        if not isinstance(r, (RenderTicket, AppError)):
            raise r
    ok = [r for r in results if isinstance(r, RenderTicket)]
    return ok, [r for r in results if isinstance(r, AppError)]


async def test_concurrent_overage_stops_exactly_at_the_cap(db, meter):
    account = await _capped("cap@example.com", "0.10")  # 5 overage images, balance for 50
    ok, refused = await _reserve_all(meter, account, 20)
    assert (len(ok), len(refused)) == (7, 13)  # 2 in quota + $0.10 / $0.02
    assert {(e.status, e.code, e.message) for e in refused} == {
        (429, "QUOTA_EXCEEDED", CAP_MESSAGE)
    }
    assert await ledger.balance_of(account.id) == Decimal("0.90")
    assert await spending_cap.spent(account.id, "2026-04") == Decimal("0.10")
    # Refusals wrote nothing: no charge, no count past the 7 images.
    assert await LedgerEntry.filter(account_id=account.id, type="usage").count() == 5
    assert await quota.used_this_month(account.id, NOW) == 7

    # Raising the cap makes room at once; clearing it leaves only the balance.
    await accounts.update_account(account, overage_cap="0.12")
    ok2, refused2 = await _reserve_all(meter, account, 3)
    assert (len(ok2), len(refused2)) == (1, 2)
    await accounts.update_account(account, overage_cap=None)
    ok3, _ = await _reserve_all(meter, account, 3)
    assert len(ok3) == 3 and await spending_cap.spent(account.id, "2026-04") == Decimal("0.18")


async def test_a_cap_below_one_image_and_a_zero_cap_refuse_all_overage(db, meter):
    account = await _capped("tiny@example.com", "0.019")
    ok, refused = await _reserve_all(meter, account, 4)
    assert len(ok) == 2 and {e.message for e in refused} == {
        "Monthly spending cap reached. Cap: $0.019 of overage."
    }
    await accounts.update_account(account, overage_cap=0)
    with pytest.raises(AppError, match=r"Cap: \$0\.00 of overage"):
        await meter.reserve(account, NOW)
    assert await ledger.balance_of(account.id) == Decimal("1.00")


async def test_a_failed_render_gives_its_room_back_in_the_month_it_was_charged(db, meter):
    account = await _capped("back@example.com", "0.04")
    ok, _ = await _reserve_all(meter, account, 4)
    overage = [t for t in ok if t.overage is not None]
    assert len(overage) == 2
    may = datetime(2026, 5, 1, 0, 5, tzinfo=UTC)  # the render fails after midnight
    await meter.release(overage[0], may)
    assert await spending_cap.spent(account.id, "2026-04") == Decimal("0.02")
    assert await spending_cap.spent(account.id, "2026-05") == 0
    again = await meter.reserve(account, NOW)  # April has room for one again
    assert again.overage is not None
    with pytest.raises(AppError, match="spending cap"):
        await meter.reserve(account, NOW)


async def test_credits_refunded_by_the_operator_make_no_room_under_the_cap(db, meter):
    account = await _capped("comp@example.com", "0.02")
    ok, _ = await _reserve_all(meter, account, 5)
    assert len(ok) == 3  # 2 in the quota, 1 at $0.02
    # Compensation booked against the overage service is credits, not a charge returned.
    await ledger.refund(account.id, "0.50", NOW, service="og_image_overage")
    assert await spending_cap.spent(account.id, "2026-04") == Decimal("0.02")
    with pytest.raises(AppError, match="spending cap"):
        await meter.reserve(account, NOW)


async def test_a_late_delivery_is_charged_again_only_within_the_cap(db, meter):
    account = await _capped("late@example.com", "0.02")
    ok, _ = await _reserve_all(meter, account, 3)
    (late,) = [t for t in ok if t.overage is not None]
    survivor = Meter(MemoryRateLimiter(), Mailer("t@localhost"))
    assert await survivor.release_stale(older_than=0) == 3  # its worker looked dead
    ok2, _ = await _reserve_all(meter, account, 3)  # the room was taken meanwhile
    assert sum(t.overage is not None for t in ok2) == 1
    await meter.commit(late, NOW)  # delivered after all: no room left to charge it again
    assert await spending_cap.spent(account.id, "2026-04") == Decimal("0.02")
    assert await ledger.balance_of(account.id) == Decimal("0.98")


async def test_reaching_the_cap_notifies_once_a_month(db):
    mailer = Mailer("test@localhost")
    meters = [Meter(MemoryRateLimiter(), mailer) for _ in range(2)]  # two workers
    account = await _capped("alert@example.com", "0.05")  # room for 2 images, then $0.01

    async def render(m: Meter) -> None:
        try:
            ticket = await m.reserve(account, NOW)
        except AppError:
            return
        await m.commit(ticket, NOW)

    await asyncio.gather(*(render(meters[i % 2]) for i in range(10)))
    notes = await Notification.filter(account_id=account.id, kind="SPENDING_CAP_100")
    assert len(notes) == 1
    assert "spending cap of $0.05 ($0.04 charged)" in notes[0].message
    mails = await OutboxMail.filter(to="alert@example.com", subject__contains="spending cap")
    assert len(mails) == 1
    await asyncio.gather(*(render(m) for m in meters))  # refused again: no second alert
    assert await Notification.filter(account_id=account.id, kind="SPENDING_CAP_100").count() == 1

    june = datetime(2026, 6, 2, tzinfo=UTC)  # a new month: a new alert when it is reached
    for _ in range(5):
        try:
            await meters[0].commit(await meters[0].reserve(account, june), june)
        except AppError:
            break
    assert await spending_cap.spent(account.id, "2026-06") == Decimal("0.04")
    keys = await Notification.filter(account_id=account.id, kind="SPENDING_CAP_100").values_list(
        "dedupe_key", flat=True
    )
    assert sorted(keys) == ["SPENDING_CAP_100:2026-04", "SPENDING_CAP_100:2026-06"]


async def test_a_refused_image_alerts_when_the_cap_was_lowered_below_the_spend(db, meter):
    account = await _capped("lowered@example.com", "1.00")
    ok, _ = await _reserve_all(meter, account, 4)
    for t in ok:
        await meter.commit(t, NOW)
    assert not await Notification.exists(account_id=account.id, kind="SPENDING_CAP_100")
    await accounts.update_account(account, overage_cap="0.01")
    with pytest.raises(AppError, match=r"Cap: \$0\.01 of overage"):
        await meter.reserve(account, NOW)
    note = await Notification.get(account_id=account.id, kind="SPENDING_CAP_100")
    # Its webhook is a quota.threshold: the fields every one has (docs/webhooks.md), and a kind.
    data = dict(note.data)
    assert Decimal(data.pop("spending_cap")) == Decimal("0.01")
    assert data == {"threshold": 100, "used": 4, "quota": 2, "month": "2026-04",
                    "kind": "spending_cap", "overage_spend": "0.040000"}  # fmt: skip


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_the_upgrade_counts_this_months_overage_so_far(backend, request, tmp_path):
    url = await _fresh_url(backend, request, tmp_path)
    await run_migrations(config=tortoise_config(url), target="models.0011_templates")
    await get_current_context().close_connections()
    async with on_database(url):  # rows as the release before wrote them (raw: no new columns)
        await Tortoise.get_connection("default").execute_script(
            "INSERT INTO account (id, email, password_hash, plan, status, overage_enabled, balance,"
            " subscription_status, created_at) VALUES (7, 'up@example.com', 'x', 'starter',"
            " 'active', TRUE, '1', 'none', '2026-03-01');"
            " INSERT INTO monthly_usage (account_id, month, used) VALUES (7, '2026-03', 9),"
            " (7, '2026-04', 7);"
            " INSERT INTO daily_usage (account_id, day, service, images, api_calls, tokens, spend)"
            " VALUES (7, '2026-03-31', 'og_image_overage', 0, 0, 0, 0.5),"
            " (7, '2026-04-01', 'og_image_overage', 0, 0, 0, 0.02),"
            " (7, '2026-04-30', 'og_image_overage', 0, 0, 0, 0.04),"
            " (7, '2026-04-30', 'og_image', 3, 0, 0, 0);"
        )
    await migrate(url)  # 0012: the cap, the month's spend and its backfill
    async with on_database(url):
        a = await Account.get(id=7)
        assert a.overage_cap is None
        assert await spending_cap.spent(a.id, "2026-03") == Decimal("0.5")
        assert await spending_cap.spent(a.id, "2026-04") == Decimal("0.06")
        assert await quota.used_in_month(a.id, "2026-04") == 7
        # Each alert still fires once: the notification table kept its unique key.
        key = "SPENDING_CAP_100:2026-04"
        await Notification.create(account_id=a.id, created_at=NOW, kind="SPENDING_CAP_100",
                                  message="m", dedupe_key=key)  # fmt: skip
        with pytest.raises(IntegrityError):
            await Notification.create(account_id=a.id, created_at=NOW, kind="QUOTA_80",
                                      message="n", dedupe_key=key)  # fmt: skip


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, None), ("25", Decimal("25.000000")), (0, Decimal(0)), (Decimal("0.5"), Decimal("0.5")),
     (" 1000000 ", Decimal(1000000))],
)  # fmt: skip
def test_caps_accepted(value, expected):
    assert spending_cap.parse_cap(value) == expected


@pytest.mark.parametrize(
    ("value", "says"),
    [("-1", "zero or more"), ("1000000.01", "at most 1000000"), ("1e30", "at most"),
     ("NaN", "zero or more"), ("Infinity", "zero or more"), ("abc", "decimal number"),
     (True, "decimal number"), (1.5, "decimal number"), ([], "decimal number"),
     ("0.0000001", "6 decimal places"), ("1e-999999999", "6 decimal places")],
)  # fmt: skip
def test_caps_refused_with_a_clear_message(value, says):
    with pytest.raises(AppError) as info:
        spending_cap.parse_cap(value)
    assert (info.value.status, info.value.code) == (400, "INVALID_PARAMETER")
    assert "overageCap" in info.value.message and says in info.value.message


def test_dollars():
    assert [spending_cap.dollars(Decimal(v)) for v in ("25", "0.5", "0.005", "1000000")] == [
        "$25.00", "$0.50", "$0.005", "$1000000.00"
    ]  # fmt: skip
