"""The read side of metering and billing: what the dashboard and usage scripts look at.

Everything is aggregated in SQL (GROUP BY / SUM); Python only folds the few aggregated rows
(days, months, services) into the shapes the callers return. Lists are keyset-paginated with
opaque cursors that carry the owning account, so a cursor never opens another account's data.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from pypika_tortoise.enums import SqlTypes
from pypika_tortoise.functions import Cast
from pypika_tortoise.terms import Function as SqlFunction
from tortoise.expressions import Function, Q
from tortoise.functions import Count, Sum
from tortoise.queryset import ValuesQuery

from models import (
    Account,
    DailyUsage,
    Invoice,
    LedgerEntry,
    Notification,
    PlanId,
    TransactionType,
)
from render.templates import TEMPLATES, Template
from resolvers.errors import InvalidParameter
from resolvers.ledger import LOW_BALANCE
from resolvers.pricing import PURCHASE_REFUND_SERVICE, price_list
from resolvers.rollups import IMAGE_SERVICE

MAX_PAGE = 100
MAX_DAYS = 366
MAX_MONTHS = 36
MONEY = Decimal("0.000001")
ZERO_MONEY = Decimal("0.000000")


def money(value: Any) -> Decimal:
    """A SUM from the database (Decimal on PostgreSQL, float or str on SQLite) as 6-place money."""
    if value is None:
        return Decimal(0).quantize(MONEY)
    return Decimal(str(value)).quantize(MONEY)


# ---- raw rows -----------------------------------------------------------------------------
# Tortoise converts every cell of a result through its field (a regex date parser, several
# calls per cell): for a 100-row page that is most of the request. The read side builds its
# queries with the ORM but fetches plain rows and converts the few columns it uses itself.


async def _rows(query: ValuesQuery[Any]) -> list[dict[str, Any]]:
    """The rows of a `.values()` query as the driver returns them (keys: the value names)."""
    query._choose_db_if_not_chosen()
    query._make_query()
    return await query._db.execute_query_dict(*query.query.get_parameterized_sql())


def _date(value: Any) -> date:
    """A DATE column: text on SQLite, a date on PostgreSQL."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _datetime(value: Any) -> datetime:
    """A timestamp column: ISO text on SQLite, a datetime on PostgreSQL; aware (UTC if naive,
    the ORM's timezone)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


# ---- daily and monthly series -------------------------------------------------------------


@dataclass(frozen=True)
class DayPoint:
    day: date
    images: int = 0
    api_calls: int = 0
    spend: Decimal = Decimal("0.000000")


@dataclass(frozen=True)
class MonthPoint:
    month: str  # "YYYY-MM"
    images: int = 0
    spend: Decimal = Decimal("0.000000")


def check_range(name: str, value: int, high: int) -> int:
    if not 1 <= value <= high:
        raise InvalidParameter(f"{name} must be between 1 and {high}")
    return value


async def _days_totals(account_id: int, start: date, end: date) -> dict[date, DayPoint]:
    # Grouped by (day, service): charts count OG renders (the quota's unit, service og_image)
    # as images, while spend and API calls add up across every service.
    rows = await _rows(
        DailyUsage.filter(account_id=account_id, day__gte=start, day__lte=end)
        .annotate(n_images=Sum("images"), n_calls=Sum("api_calls"), total=Sum("spend"))
        .group_by("day", "service")
        .values("day", "service", "n_images", "n_calls", "total")
    )
    sums: dict[date, list[Any]] = {}  # day -> [images, api calls, spend]
    for r in rows:
        day = _date(r["day"])
        acc = sums.get(day)
        if acc is None:
            acc = sums[day] = [0, 0, ZERO_MONEY]
        if r["service"] == IMAGE_SERVICE:
            acc[0] += int(r["n_images"] or 0)
        acc[1] += int(r["n_calls"] or 0)
        acc[2] += money(r["total"])
    return {day: DayPoint(day, *acc) for day, acc in sums.items()}


async def daily_usage(account_id: int, today: date, days: int = 30) -> list[DayPoint]:
    """The last `days` days ending today, oldest first, every day present (zeros filled)."""
    check_range("days", days, MAX_DAYS)
    start = today - timedelta(days=days - 1)
    totals = await _days_totals(account_id, start, today)
    return [totals.get(d) or DayPoint(d) for d in (start + timedelta(i) for i in range(days))]


def _month_starts(today: date, months: int) -> list[date]:
    y, m = today.year, today.month
    out = []
    for _ in range(months):
        out.append(date(y, m, 1))
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return out[::-1]


class _SqlMonth(SqlFunction):
    # SUBSTR(CAST(day AS VARCHAR), 1, 7): "YYYY-MM" on SQLite (text dates) and PostgreSQL.
    def __init__(self, term: Any, alias: str | None = None) -> None:
        super().__init__("SUBSTR", Cast(term, SqlTypes.VARCHAR), 1, 7, alias=alias)


class MonthOf(Function):
    database_func = _SqlMonth


async def monthly_usage(account_id: int, today: date, months: int = 12) -> list[MonthPoint]:
    """The last `months` calendar months ending with this one, oldest first, zeros filled."""
    check_range("months", months, MAX_MONTHS)
    keys = [s.strftime("%Y-%m") for s in _month_starts(today, months)]
    rows = await _rows(
        DailyUsage.filter(account_id=account_id, day__gte=date.fromisoformat(keys[0] + "-01"))
        .filter(day__lte=today)
        .annotate(month=MonthOf("day"), n_images=Sum("images"), total=Sum("spend"))
        .group_by("month", "service")
        .values("month", "service", "n_images", "total")
    )
    images: dict[str, int] = {}
    spend: dict[str, Decimal] = {}
    for r in rows:  # images: OG renders only, as in the daily series
        if r["service"] == IMAGE_SERVICE:
            images[r["month"]] = images.get(r["month"], 0) + int(r["n_images"] or 0)
        spend[r["month"]] = spend.get(r["month"], Decimal(0)) + money(r["total"])
    return [MonthPoint(k, images.get(k, 0), money(spend.get(k, 0))) for k in keys]


# ---- balance and statistics ---------------------------------------------------------------


@dataclass(frozen=True)
class ServiceTotals:
    service: str
    transactions: int
    amount: Decimal
    tokens: int
    images: int


@dataclass(frozen=True)
class Estimate:
    service: str
    unit: str  # "image" | "token"
    unit_price: Decimal
    remaining_units: int


@dataclass(frozen=True)
class BalanceStats:
    current: Decimal
    total_purchased: Decimal
    total_refunded: Decimal
    total_spent: Decimal
    credits_used: Decimal
    api_calls: int
    tokens_used: int
    images_processed: int
    transactions: int
    usage_transactions: int
    services: list[ServiceTotals] = field(default_factory=list)

    @property
    def low(self) -> bool:
        return self.current < LOW_BALANCE

    @property
    def average_per_transaction(self) -> Decimal:
        """Mean amount of a usage entry (what one metered transaction costs on average)."""
        if not self.usage_transactions:
            return money(0)
        return money(self.total_spent / self.usage_transactions)


async def _ledger_groups(account_ids: Iterable[int]) -> list[dict[str, Any]]:
    return (
        await LedgerEntry.filter(account_id__in=list(account_ids))
        .annotate(
            total=Sum("amount"), n=Count("id"), n_tokens=Sum("tokens"), n_images=Sum("images")
        )
        .group_by("account_id", "type", "service")
        .values("account_id", "type", "service", "total", "n", "n_tokens", "n_images")
    )


async def _daily_totals(account_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    rows = (
        await DailyUsage.filter(account_id__in=list(account_ids))
        .annotate(calls=Sum("api_calls"), n_images=Sum("images"), n_tokens=Sum("tokens"))
        .group_by("account_id")
        .values("account_id", "calls", "n_images", "n_tokens")
    )
    return {r["account_id"]: r for r in rows}


async def balance_stats_many(accounts: list[Account]) -> list[BalanceStats]:
    """Balance statistics for several accounts in two grouped queries (a DataLoader's batch)."""
    ids = [a.id for a in accounts]
    groups = await _ledger_groups(ids)
    daily = await _daily_totals(ids)
    return [
        _fold(a, [g for g in groups if g["account_id"] == a.id], daily.get(a.id)) for a in accounts
    ]


def _fold(
    account: Account, groups: list[dict[str, Any]], daily: dict[str, Any] | None
) -> BalanceStats:
    by_type = {t: money(0) for t in TransactionType}
    services: dict[str, list[Any]] = {}
    refund_taken = money(0)
    count = usage_count = 0
    for g in groups:
        kind, amount = TransactionType(g["type"]), money(g["total"])
        by_type[kind] += amount
        count += g["n"]
        if kind is TransactionType.USAGE:
            usage_count += g["n"]
            if g["service"] == PURCHASE_REFUND_SERVICE:
                refund_taken += amount
            s = services.setdefault(g["service"], [0, money(0), 0, 0])
            s[0] += g["n"]
            s[1] += amount
            s[2] += int(g["n_tokens"] or 0)
            s[3] += int(g["n_images"] or 0)
    spent = by_type[TransactionType.USAGE]
    return BalanceStats(
        current=money(account.balance),
        total_purchased=by_type[TransactionType.PURCHASE],
        total_refunded=by_type[TransactionType.REFUND],
        total_spent=spent,
        credits_used=spent - refund_taken,
        api_calls=int((daily or {}).get("calls") or 0),
        tokens_used=int((daily or {}).get("n_tokens") or 0),
        images_processed=int((daily or {}).get("n_images") or 0),
        transactions=count,
        usage_transactions=usage_count,
        services=sorted(
            (ServiceTotals(k, *v) for k, v in services.items()),
            key=lambda s: (-s.amount, s.service),
        ),
    )


def estimates(plan: PlanId, balance: Decimal) -> list[Estimate]:
    """How many units of each service the balance still pays for: floor(balance / unitPrice)."""
    out = []
    for p in price_list(plan):
        units = (balance / p.unit_price).to_integral_value(ROUND_FLOOR) if balance > 0 else 0
        out.append(Estimate(p.service, p.unit, p.unit_price, int(units)))
    return out


# ---- cursors ------------------------------------------------------------------------------


def encode_cursor(kind: str, account_id: int, row_id: int, at: datetime | date) -> str:
    raw = f"{kind}|{account_id}|{row_id}|{at.isoformat()}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(kind: str, account_id: int, cursor: str) -> tuple[int, str]:
    """(row id, ISO timestamp) of a cursor this account was given for this list, or raise."""
    bad = InvalidParameter("after is not a valid cursor for this list")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        c_kind, c_account, c_id, at = raw.split("|")
        if c_kind != kind or int(c_account) != account_id:
            raise bad
        return int(c_id), at
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise bad from None


# ---- transactions -------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    has_next: bool
    cursors: list[str]


@dataclass(frozen=True, slots=True)
class TransactionRow:
    """A ledger entry as the transactions list shows it (money already 6-place)."""

    id: int
    created_at: datetime
    type: TransactionType
    service: str
    amount: Decimal
    tokens: int
    images: int
    description: str
    balance_after: Decimal


_TRANSACTION_COLUMNS = tuple(f.name for f in dataclasses.fields(TransactionRow))


def check_first(first: int) -> int:
    if not 0 <= first <= MAX_PAGE:
        raise InvalidParameter(f"first must be between 0 and {MAX_PAGE}")
    return first


def _ledger_filter(account_id: int, type: TransactionType | None, service: str | None) -> Q:
    q = Q(account_id=account_id)
    if type is not None:
        q &= Q(type=type)
    if service is not None:
        q &= Q(service=service)
    return q


async def transactions_page(
    account_id: int,
    first: int = 100,
    after: str | None = None,
    type: TransactionType | None = None,
    service: str | None = None,
) -> Page:
    """Ledger entries, newest first (created_at, then id), `first` after the cursor."""
    check_first(first)
    q = _ledger_filter(account_id, type, service)
    if after:
        row_id, at = decode_cursor("txn", account_id, after)
        when = _parse_time(at)
        q &= Q(created_at__lt=when) | Q(created_at=when, id__lt=row_id)
    if first == 0:
        return Page([], False, [])
    raw = await _rows(
        LedgerEntry.filter(q)
        .order_by("-created_at", "-id")
        .limit(first + 1)
        .values(*_TRANSACTION_COLUMNS)
    )
    rows = [
        TransactionRow(
            id=r["id"],
            created_at=_datetime(r["created_at"]),
            type=TransactionType(r["type"]),
            service=r["service"],
            amount=money(r["amount"]),
            tokens=int(r["tokens"]),
            images=int(r["images"]),
            description=r["description"],
            balance_after=money(r["balance_after"]),
        )
        for r in raw[:first]
    ]
    cursors = [encode_cursor("txn", account_id, r.id, r.created_at) for r in rows]
    return Page(rows, len(raw) > first, cursors)


def _parse_time(at: str) -> datetime:
    try:
        value = datetime.fromisoformat(at)
    except ValueError:
        raise InvalidParameter("after is not a valid cursor for this list") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def count_transactions(
    account_id: int, type: TransactionType | None = None, service: str | None = None
) -> int:
    return await LedgerEntry.filter(_ledger_filter(account_id, type, service)).count()


# ---- invoices and notifications -----------------------------------------------------------


async def invoices_page(account_id: int, first: int = 12, after: str | None = None) -> Page:
    """Invoices, newest first (date, then id)."""
    check_first(first)
    q = Q(account_id=account_id)
    if after:
        row_id, at = decode_cursor("inv", account_id, after)
        try:
            day = date.fromisoformat(at)
        except ValueError:
            raise InvalidParameter("after is not a valid cursor for this list") from None
        q &= Q(date__lt=day) | Q(date=day, id__lt=row_id)
    if first == 0:
        return Page([], False, [])
    rows = await Invoice.filter(q).order_by("-date", "-id").limit(first + 1)
    rows, has_next = rows[:first], len(rows) > first
    return Page(rows, has_next, [encode_cursor("inv", account_id, r.id, r.date) for r in rows])


async def count_invoices(account_id: int) -> int:
    return await Invoice.filter(account_id=account_id).count()


async def notifications(account_id: int, first: int = 20) -> list[Notification]:
    check_first(first)
    return (
        await Notification.filter(account_id=account_id).order_by("-created_at", "-id").limit(first)
    )


def templates_catalog() -> list[Template]:
    return list(TEMPLATES.values())
