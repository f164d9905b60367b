"""Per-request DataLoaders: repeated or aliased fields share one database round trip."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from strawberry.dataloader import DataLoader

from models import Account, ApiKey
from resolvers import reports
from resolvers.accounts import keys
from resolvers.metering import quota


async def _api_keys(account_ids: Sequence[int]) -> list[ApiKey | None]:
    live = await keys.active_keys(account_ids)
    return [live.get(i) for i in account_ids]


async def _usage(keys: Sequence[tuple[Account, datetime]]) -> list[quota.UsageSummary]:
    return [await quota.usage_summary(account, now) for account, now in keys]


async def _balances(accounts: Sequence[Account]) -> list[reports.BalanceStats]:
    return await reports.balance_stats_many(list(accounts))


async def _daily(keys: Sequence[tuple[int, date, int]]) -> list[list[reports.DayPoint]]:
    return [await reports.daily_usage(a, today, days) for a, today, days in keys]


async def _monthly(keys: Sequence[tuple[int, date, int]]) -> list[list[reports.MonthPoint]]:
    return [await reports.monthly_usage(a, today, months) for a, today, months in keys]


def _by_id(account: Account) -> int:
    return account.id


def _by_id_and_time(key: tuple[Account, datetime]) -> tuple[int, datetime]:
    return key[0].id, key[1]


@dataclass
class Loaders:
    api_key: DataLoader[int, ApiKey | None] = field(
        default_factory=lambda: DataLoader(load_fn=_api_keys)
    )
    usage: DataLoader[tuple[Account, datetime], quota.UsageSummary] = field(
        default_factory=lambda: DataLoader(load_fn=_usage, cache_key_fn=_by_id_and_time)
    )
    balance: DataLoader[Account, reports.BalanceStats] = field(
        default_factory=lambda: DataLoader(load_fn=_balances, cache_key_fn=_by_id)
    )
    daily: DataLoader[tuple[int, date, int], list[reports.DayPoint]] = field(
        default_factory=lambda: DataLoader(load_fn=_daily)
    )
    monthly: DataLoader[tuple[int, date, int], list[reports.MonthPoint]] = field(
        default_factory=lambda: DataLoader(load_fn=_monthly)
    )
