"""The price book (docs/metering.md): what one unit of each metered service costs, in dollars.

`og_image_overage` is priced per plan (resolvers.plans); the operator-reported services have
fixed unit prices. Amounts are Decimals rounded to 6 places (ROUND_HALF_UP) per ledger entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from models import PlanId
from resolvers.errors import InvalidParameter
from resolvers.plans import get_plan

MONEY = Decimal("0.000001")  # 6 decimal places, as stored
ZERO_MONEY = Decimal("0.000000")
OVERAGE_SERVICE = "og_image_overage"
PURCHASE_REFUND_SERVICE = "purchase_refund"
PURCHASE_DISPUTE_SERVICE = "purchase_dispute"  # a disputed credit purchase: taken, given back
MILLION = Decimal(1_000_000)


@dataclass(frozen=True)
class Price:
    service: str
    unit: str  # "image" or "token"
    unit_price: Decimal  # per single unit, unrounded (tokens cost fractions of a micro-dollar)
    label: str


# Services the operator's other systems report (ogapi admin record-usage, POST /api/admin/usage).
METERED: dict[str, Price] = {
    p.service: p
    for p in (
        Price("ai_images", "image", Decimal("0.0001"), "$0.0001 per image"),
        Price("ai_data", "token", Decimal("0.60") / MILLION, "$0.60 per 1M tokens"),
        Price("ai_data_cached", "token", Decimal("0.075") / MILLION, "$0.075 per 1M tokens"),
        Price("ai_data_completion", "token", Decimal("1.00") / MILLION, "$1.00 per 1M tokens"),
    )
}


def money(value: object) -> Decimal:
    """An amount as the ledger stores it: 6 places, rounded half-up (docs/metering.md). Takes a
    Decimal, or a SUM as the database returns it (Decimal on PostgreSQL, float or str on
    SQLite, None over no rows). The one rounding rule for every amount, written or read."""
    if not isinstance(value, Decimal):
        value = Decimal(0 if value is None else str(value))
    return value.quantize(MONEY, rounding=ROUND_HALF_UP)


def overage_price(plan: PlanId) -> Decimal | None:
    """Price of one image past the quota on this plan; None where the plan stops at the quota."""
    return get_plan(plan).overage_price


def metered_price(service: str) -> Price:
    try:
        return METERED[service]
    except KeyError:
        names = ", ".join(sorted(METERED))
        raise InvalidParameter(f"service must be one of {names}; got {service!r}") from None


def usage_cost(service: str, *, tokens: int = 0, images: int = 0) -> Decimal:
    """Cost of reported usage: tokens for token services, images for image services."""
    price = metered_price(service)
    units = images if price.unit == "image" else tokens
    return money(price.unit_price * units)


def price_list(plan: PlanId) -> list[Price]:
    """Every service with its unit price for this plan (dashboard estimates, docs)."""
    out = []
    overage = overage_price(plan)
    if overage is not None:
        out.append(Price(OVERAGE_SERVICE, "image", overage, f"${overage} per image past quota"))
    return out + list(METERED.values())
