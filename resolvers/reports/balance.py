"""Balance and statistics: totals from the ledger and the roll-ups, estimates per service."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from tortoise.functions import Sum

from models import Account, DailyUsage, LedgerTotal, PlanId, TransactionType
from resolvers.ledger.entries import LOW_BALANCE
from resolvers.pricing import PURCHASE_DISPUTE_SERVICE, PURCHASE_REFUND_SERVICE, money, price_list
from resolvers.reports.rows import fetch_rows

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
    # The totals the ledger's write path keeps (LedgerTotal): a few rows, whatever the history.
    return await fetch_rows(
        LedgerTotal.filter(account_id__in=list(account_ids)).values(
            "account_id",
            "type",
            "service",
            total="amount",
            n="entries",
            n_tokens="tokens",
            n_images="images",
        )
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
    """Balance statistics for several accounts in two queries (a DataLoader's batch)."""
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
            if g["service"] in (PURCHASE_REFUND_SERVICE, PURCHASE_DISPUTE_SERVICE):
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
