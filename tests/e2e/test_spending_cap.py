"""The spending cap in the dashboard's Account Overview, in Chromium: shown beside the overage
switch with this month's share of it, set, refused when not an amount, cleared; light and
dark, 390 px, axe-clean (docs/dashboard.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import axe_check, signup


def _stored_cap(live, email: str) -> Decimal | None:
    from models import Account

    async def read() -> Decimal | None:
        return (await Account.get(email=email)).overage_cap

    return live.server.call(read())


@pytest.mark.parametrize(("width", "scheme"), [(1280, "light"), (390, "dark")])
def test_the_cap_beside_the_overage_switch_is_set_and_cleared(
    page_factory, live, width, scheme, tmp_path
):
    from models import MonthlyUsage, PlanId
    from resolvers.accounts import accounts

    page, _ = page_factory(width=width, scheme=scheme)
    email = live.email("cap")
    signup(page, email)
    panel = page.locator("#account")
    expect(panel.get_by_role("button", name="Edit spending cap")).to_be_disabled()  # free plan

    async def paid_with_overage() -> None:
        account = await accounts.set_plan(email, PlanId.STARTER)
        await accounts.update_account(account, overage_enabled=True)
        month = datetime.now(UTC).strftime("%Y-%m")
        await MonthlyUsage.create(account_id=account.id, month=month, used=520,
                                  overage_spend=Decimal("0.40"))  # fmt: skip

    live.server.call(paid_with_overage())
    page.get_by_role("button", name="Refresh Data").click()
    cell = panel.locator("#cap-cell")
    expect(cell).to_contain_text("No cap")
    expect(panel.locator("#cap-hint")).to_contain_text("$0.40 of overage this month")

    panel.get_by_role("button", name="Edit spending cap").click()
    field = panel.get_by_label("Spending cap in dollars a month")
    expect(field).to_be_focused()
    field.fill("-5")
    panel.get_by_role("button", name="Save").click()
    expect(panel.get_by_role("alert")).to_contain_text("Enter dollars from 0 to 1,000,000")
    assert _stored_cap(live, email) is None
    field.fill("1.50")
    panel.get_by_role("button", name="Save").click()
    expect(cell).to_contain_text("$1.50 a month")
    expect(page.locator("#toast")).to_contain_text("overage stops at $1.50 a month")
    expect(panel.get_by_role("button", name="Edit spending cap")).to_be_focused()
    bar = panel.get_by_role("progressbar", name="Spending cap used")
    expect(bar).to_have_attribute("aria-valuenow", "27")  # $0.40 of $1.50
    expect(panel.locator("#cap-hint")).to_contain_text("$0.40 of $1.50 used this month (27%)")
    assert _stored_cap(live, email) == Decimal("1.5")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    panel.screenshot(path=str(tmp_path / f"cap-{width}-{scheme}.png"))
    axe_check(page, f"/dashboard spending cap {width}px {scheme}")

    panel.get_by_role("button", name="Edit spending cap").click()
    expect(field).to_have_value("1.5")
    panel.screenshot(path=str(tmp_path / f"cap-form-{width}-{scheme}.png"))
    axe_check(page, f"/dashboard spending cap form {width}px {scheme}")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    panel.get_by_role("button", name="No cap").click()
    expect(cell).to_contain_text("No cap")
    expect(panel.get_by_role("progressbar", name="Spending cap used")).to_have_count(0)
    assert _stored_cap(live, email) is None
    print(f"\nscreenshots: {tmp_path}")
