"""The state rules of billing (docs/billing.md): what an older subscription snapshot may change,
and what a plan change through Stripe does to an operator's custom quota."""

from __future__ import annotations

from models import Account, PlanId, StripeSubscription
from resolvers.accounts import accounts
from resolvers.plans import get_plan
from tests.web.routes.test_billing_checkout import return_to, signup
from tests.web.routes.test_stripe_webhooks import buy, deliver_all, ok, ticking

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


async def quota(client) -> int:
    resp = await client.get("/api/user/usage", headers={"X-API-Key": await api_key(client)})
    assert resp.status == 200, await resp.text()
    return (await resp.json())["quota"]


async def api_key(client) -> str:
    from resolvers.accounts.keys import active_key, reveal
    from web.appkeys import secret_box_key

    account = await Account.get(email="payer@example.com")
    return reveal(await active_key(account), client.app[secret_box_key])


async def test_a_plan_change_through_stripe_ends_the_operators_custom_quota(
    billing_client, ticking, stripe_prices
):
    fake = ticking
    await signup(billing_client)
    await accounts.set_plan("payer@example.com", PlanId.FREE, custom_quota=5000)  # a deal
    assert await quota(billing_client) == 5000
    s = await buy(billing_client, fake, plan="STARTER")
    await deliver_all(billing_client, fake, fake.complete_checkout(s["id"]))
    account = await Account.get(email="payer@example.com")
    assert account.plan == PlanId.STARTER and account.custom_quota is None
    assert await quota(billing_client) == get_plan(PlanId.STARTER).monthly_quota
    # Set again on the paid plan: a change of status alone keeps it, a plan change ends it.
    await accounts.set_plan("payer@example.com", PlanId.STARTER, custom_quota=7777)
    sub_id = fake.get("checkout_session", s["id"])["subscription"]
    await deliver_all(billing_client, fake, fake.fail_renewal(sub_id))
    await ok(billing_client, fake, fake.set_subscription(sub_id, status="active"))
    assert (await Account.get(id=account.id)).custom_quota == 7777
    assert await quota(billing_client) == 7777
    agency = stripe_prices["ogapi_agency_monthly"]["id"]
    await ok(billing_client, fake, fake.set_subscription(sub_id, price=agency))  # the portal
    account = await Account.get(id=account.id)
    assert account.plan == PlanId.AGENCY and account.custom_quota is None
    assert await quota(billing_client) == get_plan(PlanId.AGENCY).monthly_quota


async def test_an_event_that_changes_no_plan_keeps_the_operators_plan_and_quota(
    billing_client, ticking, stripe_prices
):
    fake = ticking
    await signup(billing_client)
    s = await buy(billing_client, fake, plan="STARTER")
    await deliver_all(billing_client, fake, fake.complete_checkout(s["id"]))
    # The operator's deal on a Starter subscriber: Pro's features, a quota of its own.
    await accounts.set_plan("payer@example.com", PlanId.PRO, custom_quota=250_000)
    sub_id = fake.get("checkout_session", s["id"])["subscription"]
    await deliver_all(billing_client, fake, fake.fail_renewal(sub_id))
    await ok(billing_client, fake, fake.set_subscription(sub_id, status="active"))
    account = await Account.get(email="payer@example.com")
    assert (account.plan, account.custom_quota) == (PlanId.PRO, 250_000)
    assert account.subscription_status == "active"
    assert await quota(billing_client) == 250_000
    # The subscription ending is a plan change: back to Free and its quota.
    await ok(billing_client, fake, fake.end_subscription(sub_id))
    account = await Account.get(id=account.id)
    assert (account.plan, account.custom_quota) == (PlanId.FREE, None)
