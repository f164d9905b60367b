"""The plan table (docs/metering.md): the one place quotas, prices and rate limits are written
down."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from models.enums import PlanId


@dataclass(frozen=True)
class Plan:
    id: PlanId
    name: str
    monthly_quota: int
    price_monthly: Decimal
    overage_price: Decimal | None  # None: hard stop at the quota
    requests_per_second: int
    stripe_lookup_key: str | None


PLANS: dict[PlanId, Plan] = {
    p.id: p
    for p in (
        Plan(PlanId.FREE, "Free", 25, Decimal("0"), None, 1, None),
        Plan(
            PlanId.STARTER,
            "Starter",
            500,
            Decimal("9"),
            Decimal("0.02"),
            5,
            "ogapi_starter_monthly",
        ),
        Plan(PlanId.PRO, "Pro", 2_000, Decimal("19"), Decimal("0.01"), 10, "ogapi_pro_monthly"),
        Plan(
            PlanId.AGENCY,
            "Agency",
            10_000,
            Decimal("49"),
            Decimal("0.01"),
            25,
            "ogapi_agency_monthly",
        ),
        Plan(
            PlanId.PUBLISHING,
            "Publishing",
            50_000,
            Decimal("99"),
            Decimal("0.01"),
            50,
            "ogapi_publishing_monthly",
        ),
    )
}


def get_plan(plan_id: PlanId | str) -> Plan:
    plan = PLANS.get(plan_id)  # type: ignore[arg-type]  # a StrEnum's value finds it: no enum call
    return plan if plan is not None else PLANS[PlanId(plan_id)]


def parse_plan(value: str) -> PlanId:
    """Accepts `pro`, `PRO`; raises ValueError naming the valid plans."""
    try:
        return PlanId(value.strip().lower())
    except ValueError:
        names = "|".join(p.value for p in PlanId)
        raise ValueError(f"unknown plan {value!r} (expected {names})") from None


def plan_by_lookup_key(lookup_key: str) -> Plan | None:
    return next((p for p in PLANS.values() if p.stripe_lookup_key == lookup_key), None)


def quota_for(plan_id: PlanId, custom_quota: int | None) -> int:
    return custom_quota if custom_quota is not None else get_plan(plan_id).monthly_quota
