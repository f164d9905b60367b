"""The credit balance, its statistics and the transaction ledger (docs/metering.md)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from models import TransactionType
from resolvers import reports
from schema.context import Info
from schema.copying import copy_fields
from schema.pagination import Connection, PageInfo, edges
from schema.permissions import IsAuthenticated
from schema.scalars import BigInt


@strawberry.type(description="What the balance still pays for, per service.")
class Estimate:
    service: str
    unit: str = strawberry.field(description='"image" or "token".')
    unit_price: Decimal = strawberry.field(description="Dollars per single unit.")
    remaining_units: BigInt = strawberry.field(description="floor(balance / unitPrice).")

    @classmethod
    def from_model(cls, e: reports.Estimate) -> Estimate:
        return copy_fields(cls, e)


@strawberry.type(description="Usage entries of one service, all time.")
class ServiceUsage:
    service: str
    transactions: int
    amount: Decimal
    tokens: BigInt
    images: BigInt

    @classmethod
    def from_model(cls, s: reports.ServiceTotals) -> ServiceUsage:
        return copy_fields(cls, s)


@strawberry.type(description="The prepaid credit balance and all-time statistics (dollars).")
class Balance:
    current: Decimal
    total_purchased: Decimal
    total_refunded: Decimal = strawberry.field(
        description="Credits returned by the operator, or after a dispute closed in our favour."
    )
    total_spent: Decimal = strawberry.field(description="Sum of usage entries.")
    credits_used: Decimal = strawberry.field(
        description="Usage entries except credits taken back after a Stripe refund or dispute."
    )
    api_calls: BigInt
    tokens_used: BigInt
    images_processed: BigInt
    transactions: int = strawberry.field(description="Ledger entries of every type.")
    average_per_transaction: Decimal = strawberry.field(description="Mean usage entry amount.")
    low: bool = strawberry.field(description="Below $1.00.")
    estimates: list[Estimate]
    services: list[ServiceUsage] = strawberry.field(description="Usage by service, largest first.")
    last_updated: datetime

    @classmethod
    def from_model(
        cls, stats: reports.BalanceStats, estimates: list[reports.Estimate], now: datetime
    ) -> Balance:
        return copy_fields(
            cls,
            stats,
            estimates=[Estimate.from_model(e) for e in estimates],
            services=[ServiceUsage.from_model(s) for s in stats.services],
            last_updated=now,
        )


@strawberry.type(description="A ledger entry. `amount` is always positive; `type` gives its sign.")
class Transaction:
    id: strawberry.ID
    created_at: datetime
    type: TransactionType
    service: str
    amount: Decimal
    tokens: BigInt
    images: int
    description: str
    balance_after: Decimal

    @classmethod
    def from_model(cls, entry: reports.TransactionRow) -> Transaction:
        return copy_fields(cls, entry, id=strawberry.ID(str(entry.id)))


@strawberry.type
class TransactionConnection(Connection[Transaction]):
    account_id: strawberry.Private[int]
    type: strawberry.Private[TransactionType | None]
    service: strawberry.Private[str | None]

    @strawberry.field(description="Entries matching the filters, on every page.")
    async def total_count(self) -> int:
        return await reports.count_transactions(self.account_id, self.type, self.service)


@strawberry.type
class LedgerQuery:
    @strawberry.field(permission_classes=[IsAuthenticated])
    async def balance(self, info: Info) -> Balance:
        account = info.context.user
        stats = await info.context.loaders.balance.load(account)
        estimates = reports.estimates(account.plan, stats.current)
        return Balance.from_model(stats, estimates, info.context.now)

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="The ledger, newest first; `first` at most 100.",
    )
    async def transactions(
        self,
        info: Info,
        first: int | None = 100,
        after: str | None = None,
        type: TransactionType | None = None,
        service: str | None = None,
    ) -> TransactionConnection:
        account = info.context.user
        page = await reports.transactions_page(
            account.id, 100 if first is None else first, after, type, service
        )
        return TransactionConnection(
            edges=edges(page, Transaction.from_model),
            page_info=PageInfo.from_model(page, after),
            account_id=account.id,
            type=type,
            service=service,
        )
