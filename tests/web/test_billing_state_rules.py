"""The state rules of billing (docs/billing.md): what an older subscription snapshot may change,
and what a plan change through Stripe does to an operator's custom quota."""

from __future__ import annotations

from models import Account, PlanId, StripeSubscription
from tests.web.test_billing_checkout import return_to, signup
from tests.web.test_stripe_webhooks import buy, deliver_all, ok, ticking

__all__ = ["ticking"]  # the fixture, imported for these tests


async def test_the_return_page_never_puts_back_an_older_state(
    billing_client, ticking, stripe_prices
):
    fake = ticking
    account = await signup(billing_client)
    s = await buy(billing_client, fake, plan="PRO")
    await deliver_all(billing_client, fake, fake.complete_checkout(s["id"]))
    sub_id = fake.get("checkout_session", s["id"])["subscription"]
    await deliver_all(billing_client, fake, fake.fail_renewal(sub_id))
    assert (await Account.get(id=account.id)).subscription_status == "past_due"
    # What the return page reads from Stripe was current before the renewal failed: an older
    # snapshot, arriving after the newer event.
    fake.get("subscription", sub_id)["status"] = "active"
    assert await return_to(billing_client, s["id"]) == "/dashboard?checkout=complete"
    account = await Account.get(id=account.id)
    assert account.subscription_status == "past_due" and account.plan == PlanId.PRO
    assert (await StripeSubscription.get(id=sub_id)).status == "past_due"
    # The next event from Stripe moves it on as usual.
    await ok(billing_client, fake, fake.set_subscription(sub_id, status="active"))
    assert (await Account.get(id=account.id)).subscription_status == "active"


async def test_the_return_page_alone_still_starts_the_plan(billing_client, ticking, stripe_prices):
    fake = ticking
    account = await signup(billing_client)
    s = await buy(billing_client, fake, plan="STARTER")
    fake.complete_checkout(s["id"])  # no webhook delivered
    assert await return_to(billing_client, s["id"]) == "/dashboard?checkout=complete"
    account = await Account.get(id=account.id)
    assert account.plan == PlanId.STARTER and account.subscription_status == "active"
