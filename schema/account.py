"""Account, Plan and the account's own mutations (key regeneration, settings)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from models import Account as AccountModel
from models import PlanId, SubscriptionStatus
from resolvers import plans
from resolvers.accounts import accounts, keys
from resolvers.ledger import spending_cap
from resolvers.plans import PLANS, get_plan
from schema.context import Info
from schema.copying import copy_fields
from schema.permissions import IsAuthenticated, IsSessionUser


@strawberry.type(description="A plan of the price list (docs/metering.md).")
class Plan:
    id: PlanId
    name: str
    monthly_quota: int
    price_monthly: Decimal = strawberry.field(description="Dollars per month.")
    overage_price: Decimal | None = strawberry.field(
        description="Dollars per image past the quota, paid from credits; null: hard stop."
    )
    requests_per_second: int

    @classmethod
    def from_model(cls, plan: plans.Plan) -> Plan:
        return copy_fields(cls, plan)


@strawberry.type(description="The signed-in account.")
class Account:
    id: strawberry.ID
    email: str
    domain: str | None
    plan: Plan
    member_since: datetime
    overage_enabled: bool = strawberry.field(
        description="Keep rendering past the quota, paid from the credit balance."
    )
    overage_cap: Decimal | None = strawberry.field(
        description="The most overage charged for one calendar month's images, in dollars; "
        "null: no cap. The image that would pass it is refused with QUOTA_EXCEEDED."
    )
    subscription_status: SubscriptionStatus
    account_id: strawberry.Private[int]

    @strawberry.field(description="The full API key (`og_` + 32 characters).")
    async def api_key(self, info: Info) -> str | None:
        key = await info.context.loaders.api_key.load(self.account_id)
        return keys.reveal(key, info.context.secret_box) if key else None

    @strawberry.field
    async def api_key_created_at(self, info: Info) -> datetime | None:
        key = await info.context.loaders.api_key.load(self.account_id)
        return key.created_at if key else None

    @classmethod
    def from_model(cls, account: AccountModel) -> Account:
        return copy_fields(
            cls,
            account,
            id=strawberry.ID(str(account.id)),
            plan=Plan.from_model(get_plan(account.plan)),
            member_since=account.created_at,
            overage_cap=spending_cap.cap_of(account),
            account_id=account.id,
        )


@strawberry.type
class AccountQuery:
    @strawberry.field(permission_classes=[IsAuthenticated])
    def me(self, info: Info) -> Account:
        return Account.from_model(info.context.user)

    @strawberry.field(description="The plans on sale (public).")
    def plans(self) -> list[Plan]:
        return [Plan.from_model(p) for p in PLANS.values()]


@strawberry.type
class AccountMutation:
    @strawberry.mutation(
        permission_classes=[IsSessionUser],
        description="Revoke the current key at once and issue a new one.",
    )
    async def regenerate_api_key(self, info: Info) -> Account:
        account = info.context.user
        key, _ = await keys.regenerate_api_key(account, info.context.secret_box)
        info.context.loaders.api_key.prime(account.id, key, force=True)
        return Account.from_model(account)

    @strawberry.mutation(
        permission_classes=[IsSessionUser],
        description="Change settings; an omitted argument stays as it is; domain null clears "
        "it, overageCap null removes the spending cap.",
    )
    async def update_account(
        self,
        info: Info,
        domain: str | None = strawberry.UNSET,
        overage_enabled: bool | None = strawberry.UNSET,
        overage_cap: Decimal | None = strawberry.UNSET,
    ) -> Account:
        changes: dict[str, object] = {}
        if domain is not strawberry.UNSET:
            changes["domain"] = domain
        if overage_enabled is not strawberry.UNSET:
            changes["overage_enabled"] = overage_enabled
        if overage_cap is not strawberry.UNSET:
            changes["overage_cap"] = overage_cap
        account = await accounts.update_account(info.context.user, **changes)
        return Account.from_model(account)
