"""The read side of metering and billing: what the dashboard and usage scripts look at.

Everything is aggregated in SQL (GROUP BY / SUM); Python only folds the few aggregated rows
(days, months, services) into the shapes the callers return. Lists are keyset-paginated with
opaque cursors that carry the owning account, so a cursor never opens another account's data.
"""

from resolvers.pricing import money
from resolvers.reports.balance import (
    BalanceStats,
    Estimate,
    ServiceTotals,
    balance_stats_many,
    estimates,
)
from resolvers.reports.pagination import (
    Page,
    TransactionRow,
    count_invoices,
    count_transactions,
    decode_cursor,
    encode_cursor,
    invoices_page,
    notifications,
    transactions_page,
)
from resolvers.reports.rows import MAX_DAYS, MAX_MONTHS, MAX_PAGE
from resolvers.reports.series import DayPoint, MonthPoint, check_range, daily_usage, monthly_usage

__all__ = [
    "MAX_DAYS",
    "MAX_MONTHS",
    "MAX_PAGE",
    "BalanceStats",
    "DayPoint",
    "Estimate",
    "MonthPoint",
    "Page",
    "ServiceTotals",
    "TransactionRow",
    "balance_stats_many",
    "check_range",
    "count_invoices",
    "count_transactions",
    "daily_usage",
    "decode_cursor",
    "encode_cursor",
    "estimates",
    "invoices_page",
    "money",
    "monthly_usage",
    "notifications",
    "transactions_page",
]
