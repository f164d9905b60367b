"""Invoices and the Stripe entry points (checkout, customer portal)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry

from models import Invoice as InvoiceModel
from models import PlanId
from resolvers import reports
from resolvers.billing import checkout_flow as billing
from schema.context import Info
from schema.copying import copy_fields
from schema.pagination import Connection, PageInfo, edges
from schema.permissions import IsAuthenticated, IsSessionUser


@strawberry.type(description="An invoice, stored locally from Stripe's webhooks.")
class Invoice:
    id: strawberry.ID
    number: str | None
    date: date
    amount: Decimal = strawberry.field(description="Major units (e.g. dollars).")
    currency: str
    status: str
    pdf_url: str | None
    hosted_url: str | None

    @classmethod
    def from_model(cls, invoice: InvoiceModel) -> Invoice:
        return copy_fields(cls, invoice, id=strawberry.ID(str(invoice.id)))


@strawberry.type
class InvoiceConnection(Connection[Invoice]):
    account_id: strawberry.Private[int]

    @strawberry.field
    async def total_count(self) -> int:
        return await reports.count_invoices(self.account_id)


@strawberry.type(description="Open `url` to pay on Stripe Checkout.")
class CheckoutSession:
    url: str


@strawberry.type(description="Open `url` to manage billing on Stripe's Customer Portal.")
class PortalSession:
    url: str


@strawberry.type
class BillingQuery:
    @strawberry.field(
        permission_classes=[IsAuthenticated], description="Invoices, newest first; `first` ≤ 100."
    )
    async def invoices(
        self, info: Info, first: int | None = 12, after: str | None = None
    ) -> InvoiceConnection:
        account = info.context.user
        page = await reports.invoices_page(account.id, 12 if first is None else first, after)
        return InvoiceConnection(
            edges=edges(page, Invoice.from_model),
            page_info=PageInfo.from_model(page, after),
            account_id=account.id,
        )


@strawberry.type
class BillingMutation:
    @strawberry.mutation(
        permission_classes=[IsSessionUser],
        description="Upgrade (plan) or buy credits (5, 10, 25, 50 or 100 dollars): exactly one.",
    )
    async def create_checkout_session(
        self, info: Info, plan: PlanId | None = None, credits: int | None = None
    ) -> CheckoutSession:
        context = info.context
        link = await billing.start_checkout(
            context.user,
            context.stripe,
            base_url=context.settings.base_url,
            now=context.now,
            window=context.window,
            plan=plan,
            credits=credits,
        )
        return CheckoutSession(url=link.url)

    @strawberry.mutation(permission_classes=[IsSessionUser])
    async def create_billing_portal_session(self, info: Info) -> PortalSession:
        context = info.context
        link = await billing.open_portal(
            context.user, context.stripe, base_url=context.settings.base_url
        )
        return PortalSession(url=link.url)
