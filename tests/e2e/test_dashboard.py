"""Every dashboard panel with `ogapi demo`'s data, in Chromium: numbers, charts, key, CSV,
billing buttons, refresh, phone width, accessibility and the page's budgets."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect

from resolvers.ledger.exports import HEADER
from tests.e2e.conftest import axe_check, login, signup

# docs/dashboard.md: 60 kB before the charts, money and empty states of #24 (72 kB), then the
# Link Previews panel and its "Check a page" form (#21: web/static/insight.js and .css, 9 kB),
# then the playground listing the account's own templates and starting with one (#19, 1 kB),
# then the spending cap beside the overage switch (#23: web/static/spending-cap.js, 4 kB),
# then the Webhooks section (#23: web/static/webhooks.js and its CSS, 9 kB).
BUDGET_BYTES = 95_000
PANELS = ["Usage This Month", "Current Plan", "Usage History", "Monthly Usage Trend",
          "Your API Key", "Recent Invoices", "Account Overview", "Current Balance",
          "Recent Transactions", "Notifications"]  # fmt: skip
BUTTONS = ["Copy", "Regenerate", "Upgrade", "Manage Billing", "Purchase Credits", "Refresh Data",
           "Download History", "Sign Out"]  # fmt: skip
QUERY = """{ me { email domain apiKey memberSince plan { name } }
  usage { used quota daysUntilReset daily(days: 30) { date images }
          monthly(months: 12) { month images } }
  balance { current totalPurchased totalRefunded totalSpent apiCalls tokensUsed imagesProcessed
            creditsUsed }
  transactions(first: 100) { totalCount edges { node { description amount } } }
  invoices(first: 12) { edges { node { date amount pdfUrl } } } }"""


def gql(page, query: str) -> dict:
    return page.request.post("/graphql", data={"query": query}).json()["data"]


def _usd6(value: str) -> str:
    return f"${Decimal(value):,.6f}"


def _cents(value: str) -> str:
    """What the page shows for an amount outside the balance (lib.js cash): cents, or two
    significant digits under a cent."""
    d = Decimal(value)
    if d == 0 or abs(d) >= Decimal("0.01"):
        return f"${d:,.2f}"
    return "$" + format(Decimal(f"{abs(d):.1e}"), "f")


def _font_px(locator) -> list[float]:
    """Each text's rendered size in CSS pixels (its font size times the SVG's scale)."""
    return locator.evaluate_all(
        "ts => ts.map(t => { const s = t.ownerSVGElement;"
        " const k = s.getBoundingClientRect().width / s.viewBox.baseVal.width;"
        " return parseFloat(getComputedStyle(t).fontSize) * k; })"
    )


@pytest.fixture
def demo_page(page_factory, live):
    page, watch = page_factory()
    login(page, live.demo["email"], live.demo["password"])
    return page, watch


def test_every_panel_shows_the_demo_accounts_data(demo_page, live):
    page, _ = demo_page
    truth = gql(page, QUERY)
    for heading in PANELS:
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    for name in BUTTONS:
        expect(page.get_by_role("button", name=name, exact=True).first).to_be_visible()
    for link in ("Docs", "Help"):
        expect(page.get_by_role("link", name=link, exact=True).first).to_be_visible()
    me, usage, balance = truth["me"], truth["usage"], truth["balance"]
    assert page.locator("#nav-email").inner_text() == me["email"]

    text = page.locator("#usage").inner_text()
    assert f"{usage['used']:,}" in text and f"/ {usage['quota']:,} images" in text
    assert re.search(r"\d+% used", text)
    assert f"Resets in {usage['daysUntilReset']} day" in text
    assert page.locator("#usage [role=progressbar]").get_attribute("aria-valuenow") is not None

    assert page.locator("#plan .plan-name").inner_text() == "Pro"
    expect(page.locator("#billing-off")).to_contain_text("Billing is not configured")
    assert page.get_by_role("button", name="Purchase Credits").count() == 1  # once, not twice

    # 30-day chart: a bar per day, blue with usage and grey without, "Jun 30: 123" titles.
    chart = page.locator("#history svg[role=img]")
    assert chart.get_attribute("aria-label").startswith("Images per day, last 30 days")
    titles = chart.locator("rect title").all_text_contents()
    assert len(titles) == 30
    expected = []
    for d in usage["daily"]:
        _, m, day = map(int, d["date"].split("-"))
        month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                 "Dec"][m - 1]  # fmt: skip
        expected.append(f"{month} {day}: {d['images']:,}")
    assert titles == expected
    classes = chart.locator("rect").evaluate_all("rs => rs.map(r => r.getAttribute('class'))")
    assert classes == ["b" if d["images"] else "z" for d in usage["daily"]]
    texts = chart.locator("text").all_text_contents()
    assert texts[:1] == [str(int(usage["daily"][0]["date"][-2:]))]  # day number on top
    assert {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"} <= set(texts)
    colour = chart.locator("rect.b").first.evaluate("r => getComputedStyle(r).fill")
    grey = page.evaluate(
        "() => { const s = document.createElementNS('http://www.w3.org/2000/svg','rect');"
        "s.setAttribute('class','z'); document.querySelector('#history svg').append(s);"
        "const c = getComputedStyle(s).fill; s.remove(); return c; }"
    )
    assert colour == "rgb(59, 110, 245)" and grey == "rgb(196, 202, 211)"
    assert min(_font_px(chart.locator("text"))) >= 12  # labels readable: 12 px or more
    chart.locator("rect.b").first.hover()  # the tooltip is the bar's own <title>
    expect(page.locator("#forecast")).to_contain_text("Month-end forecast")

    trend = page.locator("#trend svg[role=img]")
    assert trend.get_attribute("aria-label").startswith("Images per month")
    assert trend.locator("rect").count() == 12
    assert min(_font_px(trend.locator("text"))) >= 12
    assert (
        trend.locator("rect title")
        .all_text_contents()[-1]
        .endswith(f": {usage['monthly'][-1]['images']:,}")
    )
    page.locator("#trend").get_by_role("button", name="Spend").click()
    assert page.locator("#trend svg").get_attribute("aria-label").startswith("Spend per month")

    assert page.locator("#api-key").inner_text() == me["apiKey"]
    expect(page.locator("#apikey").get_by_role("link", name="View Docs")).to_be_visible()

    account = page.locator("#account").inner_text()
    assert me["email"] in account and "demo.example.com" in account and "Pro" in account
    assert "Member since" in account
    assert page.get_by_role("switch").is_checked()

    value = page.locator("#balance-value")
    assert value.inner_text() == _usd6(balance["current"])  # the balance keeps 6 decimals
    assert "pos" in value.get_attribute("class")  # green at or above $1.00
    stats = page.locator("#balance").inner_text()
    for label, v in (("Total purchased", balance["totalPurchased"]),
                     ("Total refunded", balance["totalRefunded"]),
                     ("Total spent", balance["totalSpent"]),
                     ("Credits used", balance["creditsUsed"])):  # fmt: skip
        dd = page.locator("#balance .stats div", has_text=label).locator("dd span")
        assert dd.inner_text() == _cents(v), label  # cents on the page …
        assert dd.get_attribute("title") == _usd6(v), label  # … the exact amount as tooltip
    for label, v in (("API calls made", f"{balance['apiCalls']:,}"),
                     ("Tokens used", f"{balance['tokensUsed']:,}"),
                     ("Images processed", f"{balance['imagesProcessed']:,}")):  # fmt: skip
        assert re.search(re.escape(label) + r"\s+" + re.escape(v), stats), (label, v)
    # Purchases and refunds add up to the balance on screen, and the refunds are shown.
    assert Decimal(balance["totalRefunded"]) > 0
    equation = page.locator("#balance-equation").inner_text()
    assert equation == (
        f"{_cents(balance['totalPurchased'])} purchased + {_cents(balance['totalRefunded'])} "
        f"refunded − {_cents(balance['totalSpent'])} spent = {_cents(balance['current'])} balance"
    )
    assert Decimal(balance["totalPurchased"]) + Decimal(balance["totalRefunded"]) - Decimal(
        balance["totalSpent"]
    ) == Decimal(balance["current"])
    # "Last updated" belongs to the balance, beside it, not under "API calls made".
    updated = page.locator("#balance-updated")
    assert updated.inner_text().startswith("Last updated ")
    box, big = updated.bounding_box(), value.bounding_box()
    assert box["y"] < big["y"] + big["height"] and box["x"] > big["x"] + big["width"]
    assert "Estimated usage remaining" in stats and "Low balance" not in stats
    assert "$0.075 / 1M tokens" in stats and "$0.0001 / image" in stats  # unit prices exact

    tx = truth["transactions"]
    rows = page.locator("#transactions tbody tr")
    assert rows.count() == min(100, tx["totalCount"])
    first = rows.first.locator("td")
    assert re.fullmatch(r"[A-Z][a-z]{2} \d{1,2}, \d{2}:\d{2}", first.nth(0).inner_text())
    amount = tx["edges"][0]["node"]["amount"]
    cell = first.nth(3).locator("span")
    assert (cell.inner_text(), cell.get_attribute("title")) == (_cents(amount), _usd6(amount))
    # Ten whole rows, no box that scrolls and cuts a row; "Show all" shows every one.
    wrap = page.locator("#transactions .table-wrap")
    assert wrap.evaluate("w => w.scrollHeight <= w.clientHeight + 1")
    assert page.locator("#transactions tbody tr:visible").count() == 10
    page.get_by_role("button", name=f"Show all {rows.count()}").click()
    expect(page.locator("#transactions tbody tr:visible")).to_have_count(rows.count())
    assert wrap.evaluate("w => w.scrollHeight <= w.clientHeight + 1")
    expect(page.get_by_role("button", name="Show the latest 10")).to_be_focused()
    long = [e["node"]["description"] for e in tx["edges"] if len(e["node"]["description"]) > 50]
    if long:
        cell = page.locator("#transactions td.desc", has_text=long[0][:50]).first
        assert cell.get_attribute("title") == long[0]
        assert cell.inner_text() == long[0][:50] + "…"
    types = page.locator("#transactions .badge").all_inner_texts()
    assert {"Purchase", "Usage"} <= set(types)
    summary = page.locator("#transactions .summary").inner_text()
    assert "Average per transaction" in summary and "Total transactions" in summary
    services = page.locator("#services").inner_text()
    assert "Service breakdown" in page.locator("#transactions").inner_text()
    assert "Refunded purchase" not in services and "purchase_refund" not in services
    expect(page.locator("#taken-back")).to_contain_text("Not a service")

    invoices = truth["invoices"]["edges"]
    links = page.locator("#invoices").get_by_role("link", name="Download PDF")
    assert links.count() == len(invoices) > 0
    assert links.first.get_attribute("href") == invoices[0]["node"]["pdfUrl"]
    assert "$19.00" in page.locator("#invoices").inner_text()
    axe_check(page, "/dashboard (demo)")


def test_first_paint_budget_one_graphql_request(page_factory, live, record_property):
    page, watch = page_factory()  # a cold cache: nothing loaded yet in this context
    creds = {"email": live.demo["email"], "password": live.demo["password"]}
    assert page.request.post("/api/auth/login", data=creds).ok  # the context's cookie jar
    sizes: dict[str, int] = {}

    def measure(response) -> None:
        if response.request.resource_type in ("script", "stylesheet") and response.status == 200:
            sizes[response.url.split("?")[0]] = len(response.body())

    page.on("response", measure)
    page.goto("/dashboard")
    page.wait_for_selector("body[data-loaded]")
    filled = page.evaluate("performance.getEntriesByName('panels-filled')[0].startTime")
    own = sum(sizes.values())
    graphql = len(watch.graphql())
    print(f"\nBUDGET dashboard JS+CSS {own} bytes {sorted(sizes)}; graphql requests {graphql}; "
          f"navigation to all panels filled {filled:.0f} ms")  # fmt: skip
    record_property("js_css_bytes", own)
    record_property("panels_filled_ms", round(filled))
    assert graphql == 1
    page.get_by_role("button", name="Open the playground").click()  # loads its module lazily
    page.locator("#pg-image").wait_for()
    total = sum(sizes.values())
    print(f"BUDGET with the playground open: JS+CSS {total} bytes")
    assert own <= total <= BUDGET_BYTES


def test_copy_and_regenerate_kill_the_old_key(page_factory, live, context_factory):
    page, _ = page_factory(permissions=["clipboard-read", "clipboard-write"])
    signup(page, live.email("key"))
    old = page.locator("#api-key").inner_text()
    assert re.fullmatch(r"og_[A-Za-z0-9]{32}", old)
    page.get_by_role("button", name="Copy", exact=True).click()
    expect(page.get_by_role("button", name="Copied!")).to_be_visible()
    expect(page.locator("#copy-status")).to_contain_text("copied")
    assert page.evaluate("navigator.clipboard.readText()") == old
    api = context_factory().request
    assert api.get("/api/user/usage", headers={"X-API-Key": old}).status == 200

    regenerate = page.get_by_role("button", name="Regenerate", exact=True)
    regenerate.focus()
    page.keyboard.press("Enter")  # keyboard only: open, cancel, focus comes back
    dialog = page.get_by_role("dialog", name="Regenerate your API key?")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(regenerate).to_be_focused()
    assert page.locator("#api-key").inner_text() == old
    regenerate.click()
    expect(dialog).to_be_visible()
    axe_check(page, "regenerate dialog")
    for _ in range(4):  # focus stays inside the dialog
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.closest('dialog') !== null")
    dialog.get_by_role("button", name="Regenerate key").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#api-key")).not_to_have_text(old)
    new = page.locator("#api-key").inner_text()
    assert re.fullmatch(r"og_[A-Za-z0-9]{32}", new)
    dead = api.get("/api/user/usage", headers={"X-API-Key": old})
    assert (dead.status, dead.json()["code"]) == (401, "INVALID_API_KEY")
    assert api.get("/api/user/usage", headers={"X-API-Key": new}).status == 200


def test_csv_download_name_and_content(demo_page, live):
    page, _ = demo_page
    truth = gql(page, "{ transactions { totalCount edges { node { description } } } }")
    count = truth["transactions"]["totalCount"]
    with page.expect_download() as info:
        page.get_by_role("button", name="Download History").click()
    download = info.value
    assert re.fullmatch(
        r"token_usage_history_\d{4}-\d{2}-\d{2}_\d{2}-\d{2}-\d{2}\.csv", download.suggested_filename
    )
    rows = list(csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert rows[0] == HEADER
    assert len(rows) - 1 == count
    amounts = [row[HEADER.index("amount")] for row in rows[1:]]
    assert all(re.fullmatch(r"\d+\.\d{6}", a) for a in amounts)  # full precision in the CSV
    descriptions = {e["node"]["description"] for e in truth["transactions"]["edges"]}
    assert descriptions <= {row[HEADER.index("description")] for row in rows[1:]}
    with page.expect_download() as info:  # Download Report: the same file
        page.get_by_role("button", name="Download Report").click()
    assert info.value.suggested_filename.startswith("token_usage_history_")


def test_billing_buttons_without_stripe_are_off_with_the_reason(page_factory, live):
    """No Stripe keys: Upgrade, Manage Billing and Purchase Credits are disabled, the reason
    beside each and read with it; "Purchase Credits" appears once (a new account too)."""
    page, _ = page_factory()
    signup(page, live.email("nobill"))
    for scope, name in (("#plan", "Upgrade"), ("#plan", "Manage Billing"),
                        ("#actions", "Purchase Credits")):  # fmt: skip
        button = page.locator(scope).get_by_role("button", name=name, exact=True)
        expect(button).to_be_disabled()
        expect(button).to_have_accessible_description(re.compile("billing is not configured", re.I))
        reason = page.locator("#" + button.get_attribute("aria-describedby"))
        expect(reason).to_be_visible()
        assert page.locator(scope).locator("#" + reason.get_attribute("id")).count() == 1
    expect(page.get_by_text("Purchase Credits", exact=True).filter(visible=True)).to_have_count(1)
    axe_check(page, "/dashboard new account, billing off")


def test_refresh_shows_new_usage_and_the_time(page_factory, live, context_factory):
    page, watch = page_factory()
    signup(page, live.email("refresh"))
    key = page.locator("#api-key").inner_text()
    stamp = page.locator("#updated").inner_text()
    assert stamp.startswith("Last updated ")
    api = context_factory().request
    assert api.post("/api/generate", data={"title": "Counted"}, headers={"X-API-Key": key}).ok
    before = len(watch.graphql())
    page.wait_for_timeout(1100)  # a different second on the clock
    page.get_by_role("button", name="Refresh Data").click()
    expect(page.locator("#usage")).to_contain_text("1 / 25 images")
    assert len(watch.graphql()) == before + 1
    expect(page.locator("#updated")).not_to_have_text(stamp)


def test_low_balance_warning_flashes_and_offers_credits(page_factory, live):
    from models import Account
    from resolvers.ledger import entries as ledger

    page, _ = page_factory(reduced_motion="no-preference")
    email = live.email("low")
    signup(page, email)

    async def spend():
        from datetime import UTC, datetime

        account = await Account.get(email=email)
        now = datetime.now(UTC)
        await ledger.grant(account.id, "1.50", now, description="Top-up")
        await ledger.record_usage(account.id, "ai_images", now, images=10_000, description="x")

    live.server.call(spend())
    page.get_by_role("button", name="Refresh Data").click()
    warning = page.locator(".lowbal")
    expect(warning).to_contain_text("Low balance")
    assert warning.evaluate("e => getComputedStyle(e).animationName") == "flash"
    expect(page.locator("#balance-value")).to_have_text("$0.500000")
    assert "neg" in page.locator("#balance-value").get_attribute("class")  # red below $1.00
    expect(page.locator("#notifications")).to_contain_text("balance")
    action = warning.get_by_role("button", name="Purchase Credits")
    expect(action).to_be_disabled()  # no Stripe keys here: the reason is in the warning
    expect(warning).to_contain_text("Billing is not configured")
    page.emulate_media(reduced_motion="reduce")
    assert warning.evaluate("e => getComputedStyle(e).animationName") == "none"


def test_new_account_has_real_empty_states(page_factory, live):
    page, _ = page_factory()
    signup(page, live.email("empty"))
    history = page.locator("#history")
    expect(history).to_contain_text("No usage in the last 30 days")
    assert history.locator("svg, rect").count() == 0  # no chart of grey dashes and labels
    expect(history.get_by_role("link", name="Test API playground")).to_be_visible()
    expect(page.locator("#trend")).to_contain_text("No usage in the last 12 months")
    assert page.locator("#trend svg").count() == 0
    # Quick actions keeps its own height instead of stretching to the balance panel's.
    actions = page.locator("#actions").bounding_box()
    content = page.locator("#actions .actions").bounding_box()
    balance = page.locator("#balance").bounding_box()
    assert actions["height"] < content["height"] + 80 < balance["height"]


@pytest.mark.parametrize("width", [390, 1280])
def test_charts_show_every_bar_and_label_at_any_width(page_factory, live, width):
    """30 days and 12 months, each bar and label inside the panel without scrolling, at 12 px
    or more (390 px: one row per bar)."""
    page, _ = page_factory(width=width)
    login(page, live.demo["email"], live.demo["password"])
    for panel, bars in (("#history", 30), ("#trend", 12)):
        body = page.locator(panel).bounding_box()  # the card: nothing spills out of it
        svg = page.locator(f"{panel} svg")
        assert svg.locator("rect").count() == bars
        boxes = svg.locator("rect, text").evaluate_all(
            "es => es.map(e => { const r = e.getBoundingClientRect();"
            " return [r.left, r.right, r.width]; })"
        )
        left, right = body["x"] - 0.5, body["x"] + body["width"] + 0.5
        assert all(left <= a and b <= right and w > 0 for a, b, w in boxes), panel
        assert min(_font_px(svg.locator("text"))) >= 12
        if panel == "#trend":
            labels = svg.locator("text").all_text_contents()
            months = [m for m in labels if re.fullmatch(r"[A-Z][a-z]{2}( \d{4})?", m)]
            assert len(months) == 12, labels  # "Aug", not "Aug '2"
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_phone_width_has_no_horizontal_scroll(page_factory, live, scheme):
    page, _ = page_factory(width=390, scheme=scheme)
    for path in ("/login", "/signup", "/reset-password"):
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
    login(page, live.demo["email"], live.demo["password"])
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.get_by_role("button", name="Sign Out").is_visible()
    if scheme == "dark":
        bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert bg == "rgb(12, 16, 24)"
        axe_check(page, "/dashboard dark 390px")


def test_forecast_names_the_plan_that_fits_and_settings_save(page_factory, live):
    """Day 10 of the month, 12:00 UTC, on both clocks: 300 images so far on Starter."""
    from datetime import UTC, datetime

    from models import Account, MonthlyUsage, PlanId
    from resolvers.accounts import accounts

    real = datetime.now(UTC)
    at = datetime(real.year, real.month, 10, 12, tzinfo=UTC)
    page, _ = page_factory()
    page.clock.set_fixed_time(at)
    live.server.clock.set(at)
    email = live.email("fc")
    try:
        signup(page, email)

        async def setup(used: int) -> None:
            account = await Account.get(email=email)
            await accounts.set_plan(email, PlanId.STARTER)
            await MonthlyUsage.update_or_create(
                defaults={"used": used}, account_id=account.id, month=at.strftime("%Y-%m")
            )

        async def account() -> Account:  # built and awaited on the server's loop
            return await Account.get(email=email)

        live.server.call(setup(300))
        page.get_by_role("button", name="Refresh Data").click()
        forecast = page.locator("#forecast")
        # 300 images in 9.5 of the month's days: about 979 (Dec) by its end.
        expect(forecast).to_contain_text(re.compile(r"~9\d\d images"))
        expect(forecast).to_contain_text("hit the Starter quota")
        expect(forecast).to_contain_text("Pro ($19/mo, 2,000 images) would fit")

        switch = page.get_by_role("switch")  # overage on: Starter plus overage is cheaper
        switch.check()
        expect(page.locator("#toast")).to_contain_text("Overage on")
        expect(forecast).to_contain_text("Starter still fits best")
        assert live.server.call(account()).overage_enabled is True

        live.server.call(setup(400))  # ~1,305 images: Starter's overage would pass Pro's price
        page.get_by_role("button", name="Refresh Data").click()
        expect(forecast).to_contain_text("Pro ($19/mo) would fit this pace and save")

        page.get_by_role("button", name="Edit domain").click()
        page.get_by_label("Domain").fill("example.org")
        page.get_by_role("button", name="Save").click()
        expect(page.locator("#domain-cell")).to_contain_text("example.org")
        assert live.server.call(account()).domain == "example.org"
        expect(page.get_by_role("button", name="Edit domain")).to_be_focused()
    finally:
        live.server.clock.fixed = None


def test_refreshes_every_five_minutes_and_recovers_from_errors(page_factory, live):
    page, watch = page_factory()
    watch.expected.append("Failed to load resource")  # the aborted request below
    page.clock.install()
    creds = {"email": live.demo["email"], "password": live.demo["password"]}
    assert page.request.post("/api/auth/login", data=creds).ok
    page.route("**/graphql", lambda route: route.abort())  # the server is unreachable
    page.goto("/dashboard")
    expect(page.locator("#updated")).to_contain_text("Couldn't refresh")
    for panel in ("usage", "balance", "transactions", "history"):
        expect(page.locator(f"#{panel} [role=alert]")).to_contain_text("Couldn't load")
    axe_check(page, "/dashboard error state")
    page.unroute("**/graphql")
    page.locator("#usage").get_by_role("button", name="Retry").click()
    expect(page.locator("#usage")).to_contain_text("/ 2,000 images")
    expect(page.locator("#updated")).to_contain_text("Last updated")
    before = len(watch.graphql())
    assert "x-auto-refresh" not in watch.graphql()[-1].headers  # a click: the person's activity
    loads = int(page.evaluate("document.body.dataset.loaded"))
    page.clock.run_for("04:50")
    page.wait_for_timeout(200)
    assert len(watch.graphql()) == before
    page.clock.run_for("00:15")  # five minutes after the last load: a refresh by itself
    page.wait_for_function("n => Number(document.body.dataset.loaded) > n", arg=loads)
    assert len(watch.graphql()) == before + 1
    # ...which says so: it does not keep the session from going idle (docs/accounts.md).
    assert watch.graphql()[-1].headers.get("x-auto-refresh") == "1"


def test_quota_alert_reaches_notifications_and_the_usage_bar(page_factory, live, context_factory):
    from datetime import UTC, datetime

    from models import Account, MonthlyUsage

    page, _ = page_factory()
    email = live.email("alert")
    signup(page, email)
    key = page.locator("#api-key").inner_text()

    async def nineteen() -> None:
        account = await Account.get(email=email)
        month = datetime.now(UTC).strftime("%Y-%m")
        await MonthlyUsage.update_or_create(
            defaults={"used": 19}, account_id=account.id, month=month
        )

    live.server.call(nineteen())
    api = context_factory().request
    assert api.post("/api/generate", data={"title": "The 20th"}, headers={"X-API-Key": key}).ok
    page.get_by_role("button", name="Refresh Data").click()
    expect(page.locator("#usage")).to_contain_text("20 / 25 images")
    expect(page.locator("#usage")).to_contain_text("80% used")
    assert "hot" in page.locator("#usage .progress").get_attribute("class")
    expect(page.locator("#notifications li")).to_have_count(1)
    expect(page.locator("#notifications")).to_contain_text("80%")
