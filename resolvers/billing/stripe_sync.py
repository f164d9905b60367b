"""`ogapi stripe sync` (docs/billing.md): the product and monthly price of each paid plan.

Each plan's product has a fixed id (`ogapi_<plan>`) and its price the plan's lookup key
(resolvers/plans.py), so a run finds what an earlier run made: nothing exists → created;
exists as the plan table says → left alone; a price with another amount → a new price takes
the lookup key over (Stripe prices cannot change amount; subscriptions on the old price keep
it until moved). Every POST carries an Idempotency-Key, so a retried request never makes two.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from resolvers.billing.purchases import CURRENCY
from resolvers.billing.stripe_api import StripeGateway
from resolvers.plans import PLANS, Plan


@dataclass(frozen=True)
class SyncStep:
    action: str  # "created", "updated" or "ok"
    what: str  # e.g. "product ogapi_pro"
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.action:<8}{self.what}" + (f" ({self.detail})" if self.detail else "")


def product_id(plan: Plan) -> str:
    return f"ogapi_{plan.id.value}"


def _cents(plan: Plan) -> int:
    return int(plan.price_monthly * 100)


def _matches(price: dict, plan: Plan) -> bool:
    product = price.get("product")
    product = product.get("id") if isinstance(product, dict) else product
    recurring = price.get("recurring") or {}
    return (
        price.get("unit_amount") == _cents(plan)
        and price.get("currency") == CURRENCY
        and recurring.get("interval") == "month"
        and product == product_id(plan)
    )


async def _sync_plan(gateway: StripeGateway, plan: Plan, run: str) -> list[SyncStep]:
    steps = []
    pid, name = product_id(plan), f"OG Image API {plan.name}"
    product = await gateway.retrieve_product(pid)
    if product is None:
        await gateway.create_product(
            {"id": pid, "name": name, "metadata": {"ogapi_plan": plan.id.value}},
            idempotency_key=f"{run}-product-{pid}",
        )
        steps.append(SyncStep("created", f"product {pid}", name))
    elif not product.get("active") or product.get("name") != name:
        await gateway.update_product(
            pid, {"name": name, "active": True}, idempotency_key=f"{run}-product-update-{pid}"
        )
        steps.append(SyncStep("updated", f"product {pid}", f"{name}, active"))
    else:
        steps.append(SyncStep("ok", f"product {pid}"))
    key = plan.stripe_lookup_key or ""
    price = await gateway.find_price(key)
    want = f"${plan.price_monthly}/month"
    if price is not None and _matches(price, plan):
        steps.append(SyncStep("ok", f"price {key}", f"{price['id']}, {want}"))
        return steps
    params = {
        "product": pid,
        "unit_amount": _cents(plan),
        "currency": CURRENCY,
        "recurring": {"interval": "month"},
        "lookup_key": key,
        "nickname": f"{plan.name} monthly",
        "metadata": {"ogapi_plan": plan.id.value},
    }
    if price is not None:
        params["transfer_lookup_key"] = True
    created = await gateway.create_price(params, idempotency_key=f"{run}-price-{key}")
    replaced = f", replaces {price['id']}" if price is not None else ""
    action = "updated" if price is not None else "created"
    steps.append(SyncStep(action, f"price {key}", f"{created['id']}, {want}{replaced}"))
    return steps


async def sync(gateway: StripeGateway) -> list[SyncStep]:
    """Create or verify every paid plan's product and price; what was done, in order."""
    run = f"ogapi-sync-{uuid.uuid4().hex}"
    steps: list[SyncStep] = []
    for plan in PLANS.values():
        if plan.stripe_lookup_key:
            steps += await _sync_plan(gateway, plan, run)
    return steps
