"""Billing entry points (docs/billing.md): Stripe Checkout for upgrades and credits, the Customer
Portal.

This module is the future home of Stripe checkout; `resolvers/stripe_api.py` will be the only
importer of `stripe`. Until it lands, both entry points validate their input exactly as they
will then, and answer BILLING_NOT_CONFIGURED instead of pretending to succeed.
"""

from __future__ import annotations

from dataclasses import dataclass

from models import Account, PlanId
from resolvers.errors import BillingNotConfigured, InvalidParameter

CREDIT_AMOUNTS = (5, 10, 25, 50, 100)
NOT_CONFIGURED = "Billing is not configured on this server."
NOT_AVAILABLE = "Stripe checkout is not available in this version of the server."


@dataclass(frozen=True)
class CheckoutLink:
    url: str


@dataclass(frozen=True)
class PortalLink:
    url: str


def validate_checkout(plan: PlanId | None, credits: int | None) -> None:
    """Exactly one of plan/credits; FREE is a downgrade (portal); credits from the fixed list."""
    if (plan is None) == (credits is None):
        raise InvalidParameter("Pass exactly one of plan or credits.")
    if plan is PlanId.FREE:
        raise InvalidParameter(
            "plan: FREE is not sold through checkout; downgrade in the billing portal."
        )
    if credits is not None and credits not in CREDIT_AMOUNTS:
        amounts = ", ".join(f"{n}" for n in CREDIT_AMOUNTS)
        raise InvalidParameter(f"credits must be one of {amounts} (dollars).")


async def start_checkout(
    account: Account,
    *,
    billing_configured: bool,
    base_url: str,
    plan: PlanId | None = None,
    credits: int | None = None,
) -> CheckoutLink:
    """A Stripe Checkout Session for a plan upgrade or a credit top-up (docs/billing.md)."""
    validate_checkout(plan, credits)
    if not billing_configured:
        raise BillingNotConfigured(NOT_CONFIGURED)
    raise BillingNotConfigured(NOT_AVAILABLE)


async def open_portal(account: Account, *, billing_configured: bool, base_url: str) -> PortalLink:
    """A Stripe Customer Portal session (payment method, invoices, cancel, change plan)."""
    if not billing_configured:
        raise BillingNotConfigured(NOT_CONFIGURED)
    raise BillingNotConfigured(NOT_AVAILABLE)
