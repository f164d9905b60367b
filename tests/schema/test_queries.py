"""Every field of docs/graphql.md through real HTTP, as the dashboard (cookie) and a script
(key)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from models import Account, DailyUsage, Invoice, MonthlyUsage, Notification, NotificationKind
from resolvers.ledger import entries as ledger
from tests.schema.conftest import NOW, codes
from web.appkeys import meter_key

ME = """{ me { id email domain plan { id name monthlyQuota priceMonthly overagePrice
  requestsPerSecond } memberSince apiKey apiKeyCreatedAt overageEnabled subscriptionStatus } }"""


async def test_me_over_session_and_api_key(gql, signup, now):
    user = await signup(plan="pro")
    me = (await gql.data(ME))["me"]
    assert me["id"] == str(user.id) and me["email"] == user.email and me["domain"] is None
    assert me["plan"] == {
        "id": "PRO",
        "name": "Pro",
        "monthlyQuota": 2000,
        "priceMonthly": "19",
        "overagePrice": "0.01",
        "requestsPerSecond": 10,
    }
    assert me["apiKey"] == user.api_key
    account = await Account.get(id=user.id)
    assert datetime.fromisoformat(me["memberSince"]) == account.created_at
    assert datetime.fromisoformat(me["apiKeyCreatedAt"]).tzinfo is not None
    assert me["overageEnabled"] is False and me["subscriptionStatus"] == "NONE"
    by_key = await gql.key(user.api_key, ME)
    assert by_key["data"]["me"] == me


async def test_usage_counts_this_month_and_fills_every_day(gql, signup, now):
    user = await signup()
    await MonthlyUsage.create(account_id=user.id, month="2026-06", used=20)
    await MonthlyUsage.create(account_id=user.id, month="2026-05", used=3)
    today = NOW.date()
    for day, service, images, calls, spend in [
        (today, "og_image", 5, 7, "0"),
        (today, "ai_images", 2, 0, "0.000200"),
        (today - timedelta(days=2), "og_image", 1, 1, "0"),
        (today - timedelta(days=29), "og_image", 4, 4, "0"),
        (today - timedelta(days=30), "og_image", 100, 100, "0"),  # outside the 30 days
        (date(2025, 7, 3), "ai_data", 0, 0, "1.500000"),  # 12 months back, first month shown
        (date(2025, 6, 30), "og_image", 9, 9, "0"),  # 13 months back: not shown
    ]:
        await DailyUsage.create(
            account_id=user.id,
            day=day,
            service=service,
            images=images,
            api_calls=calls,
            spend=Decimal(spend),
        )
    q = """{ usage { plan { id } quota used remaining percentUsed resetDate daysUntilReset
      daily { date images apiCalls spend } monthly { month images spend }
      week: daily(days: 7) { date } year: monthly(months: 1) { month images } } }"""
    usage = (await gql.data(q))["usage"]
    assert usage["plan"]["id"] == "FREE"
    assert (usage["quota"], usage["used"], usage["remaining"]) == (25, 20, 5)
    assert usage["percentUsed"] == 80.0
    assert usage["resetDate"] == "2026-07-01T00:00:00Z"  # as REST writes it
    assert usage["daysUntilReset"] == 16
    daily = usage["daily"]
    assert (
        len(daily) == 30 and daily[-1]["date"] == "2026-06-15" and daily[0]["date"] == "2026-05-17"
    )
    assert [d["date"] for d in daily] == sorted(d["date"] for d in daily)
    # images are OG renders (og_image) only; the ai_images row adds spend, not chart images
    assert daily[-1] == {"date": "2026-06-15", "images": 5, "apiCalls": 7, "spend": "0.000200"}
    assert daily[-3]["images"] == 1 and daily[0]["images"] == 4
    assert sum(d["images"] for d in daily) == 10
    assert all(d["spend"] == "0.000000" for d in daily[:-1])
    monthly = usage["monthly"]
    assert [m["month"] for m in monthly][:2] == ["2025-07", "2025-08"]
    assert monthly[-1] == {"month": "2026-06", "images": 6, "spend": "0.000200"}
    assert monthly[0] == {"month": "2025-07", "images": 0, "spend": "1.500000"}
    assert monthly[-2]["images"] == 104  # May: 29 and 30 days back
    assert len(usage["week"]) == 7 and usage["year"] == [{"month": "2026-06", "images": 6}]


async def test_usage_ranges_are_bounded(gql, signup, now):
    await signup()
    for q in (
        "{ usage { daily(days: 0) { date } } }",
        "{ usage { daily(days: 367) { date } } }",
        "{ usage { monthly(months: 37) { month } } }",
    ):
        body = await gql(q)
        assert codes(body) == ["INVALID_PARAMETER"], q
    assert len((await gql.data("{ usage { daily(days: 366) { date } } }"))["usage"]["daily"]) == 366


BALANCE = """{ balance { current totalPurchased totalRefunded totalSpent creditsUsed apiCalls
  tokensUsed imagesProcessed transactions averagePerTransaction low lastUpdated
  estimates { service unit unitPrice remainingUnits }
  services { service transactions amount tokens images } } }"""


async def test_balance_statistics_and_estimates(gql, signup, now):
    user = await signup(plan="starter")
    await ledger.grant(user.id, "25", NOW, description="top-up")
    await ledger.refund(user.id, "1.5", NOW, description="sorry")
    await ledger.record_usage(user.id, "ai_data", NOW, tokens=2_000_000)  # $1.20
    await ledger.record_usage(user.id, "ai_images", NOW, images=30)  # $0.003
    await ledger.purchase_refund(user.id, "5", NOW, external_ref="ch_1")
    for _ in range(3):  # three script calls, each one counted
        await gql.key(user.api_key, "{ plans { id } }")
    await gql.client.app[meter_key].flush()  # counted in memory, written every second
    b = (await gql.data(BALANCE))["balance"]
    assert b["current"] == "20.297000"
    assert (b["totalPurchased"], b["totalRefunded"]) == ("25.000000", "1.500000")
    assert b["totalSpent"] == "6.203000" and b["creditsUsed"] == "1.203000"
    assert (b["apiCalls"], b["tokensUsed"], b["imagesProcessed"]) == (3, 2_000_000, 30)
    assert b["transactions"] == 5 and b["averagePerTransaction"] == "2.067667"
    assert b["low"] is False and b["lastUpdated"].startswith("2026-06-15T12:00")
    est = {e["service"]: e for e in b["estimates"]}
    assert est["og_image_overage"] == {
        "service": "og_image_overage",
        "unit": "image",
        "unitPrice": "0.02",
        "remainingUnits": 1014,
    }
    assert est["ai_data"]["unitPrice"] == "0.0000006" and est["ai_data"]["unit"] == "token"
    assert est["ai_data"]["remainingUnits"] == 33_828_333
    assert est["ai_data_cached"]["remainingUnits"] == 270_626_666
    assert est["ai_images"]["remainingUnits"] == 202_970
    services = {s["service"]: s for s in b["services"]}
    assert services["purchase_refund"]["amount"] == "5.000000"
    assert services["ai_data"] == {
        "service": "ai_data",
        "transactions": 1,
        "amount": "1.200000",
        "tokens": 2_000_000,
        "images": 0,
    }


async def test_low_balance_and_free_plan_estimates(gql, signup, now):
    await signup()
    b = (await gql.data(BALANCE))["balance"]
    assert b["current"] == "0.000000" and b["low"] is True
    assert b["averagePerTransaction"] == "0.000000" and b["services"] == []
    assert "og_image_overage" not in {e["service"] for e in b["estimates"]}  # free: hard stop
    assert all(e["remainingUnits"] == 0 for e in b["estimates"])


async def test_big_balances_do_not_overflow(gql, signup, now):
    user = await signup()
    await ledger.grant(user.id, "100000", NOW)
    est = (await gql.data(BALANCE))["balance"]["estimates"]
    assert {e["service"]: e["remainingUnits"] for e in est}["ai_data_cached"] == 1_333_333_333_333


async def test_notifications_newest_first(gql, signup, now):
    user = await signup()
    for i, kind in enumerate(
        [NotificationKind.QUOTA_80, NotificationKind.QUOTA_95, NotificationKind.LOW_BALANCE]
    ):
        await Notification.create(
            account_id=user.id,
            created_at=NOW + timedelta(minutes=i),
            kind=kind,
            message=f"m{i}",
            read=i == 0,
            dedupe_key=f"k{i}",
        )
    rows = (await gql.data("{ notifications { id createdAt kind message read } }"))["notifications"]
    assert [r["kind"] for r in rows] == ["LOW_BALANCE", "QUOTA_95", "QUOTA_80"]
    assert rows[-1]["read"] is True and rows[0]["message"] == "m2"
    one = await gql.data("{ notifications(first: 1) { kind } }")
    assert one["notifications"] == [{"kind": "LOW_BALANCE"}]
    assert codes(await gql("{ notifications(first: 101) { id } }")) == ["INVALID_PARAMETER"]


async def test_invoices_fields(gql, signup, now):
    user = await signup()
    await Invoice.create(
        account_id=user.id,
        stripe_id="in_1",
        number="A-0001",
        date=date(2026, 5, 1),
        amount=Decimal("19.00"),
        currency="usd",
        status="paid",
        pdf_url="https://pay.example/in_1.pdf",
        hosted_url="https://pay.example/in_1",
    )
    q = """{ invoices { totalCount edges { cursor node { id number date amount currency status
      pdfUrl hostedUrl } } pageInfo { hasNextPage endCursor } } }"""
    inv = (await gql.data(q))["invoices"]
    assert inv["totalCount"] == 1 and inv["pageInfo"]["hasNextPage"] is False
    node = inv["edges"][0]["node"]
    assert node["date"] == "2026-05-01" and node["amount"] == "19.00" and node["number"] == "A-0001"
    assert node["pdfUrl"].endswith(".pdf") and node["status"] == "paid"


async def test_plans_and_templates_are_public(gql):
    data = await gql.data(
        """{ plans { id name priceMonthly overagePrice }
      templates { name description fields { name type required maxLength } } }""",
        cookies=False,
    )
    assert [p["id"] for p in data["plans"]] == ["FREE", "STARTER", "PRO", "AGENCY", "PUBLISHING"]
    assert data["plans"][0]["overagePrice"] is None
    names = {t["name"] for t in data["templates"]}
    assert {
        "default",
        "minimal",
        "vibrant",
        "blog",
        "product",
        "event",
        "stats",
        "real_estate",
        "quote",
    } <= names
    title = data["templates"][0]["fields"][0]
    assert title == {"name": "title", "type": "string", "required": True, "maxLength": 200}


async def test_api_key_requests_count_as_api_calls(gql, signup, now, client):
    user = await signup()
    await gql.key(user.api_key, "{ me { id } }")
    await gql.key(user.api_key, "{ nope }")  # failed requests count too
    await gql("{ me { id } }")  # the dashboard's session does not
    await gql.key("og_" + "x" * 32, "{ me { id } }")  # nor a key that authenticates nobody
    await client.app[meter_key].flush()  # counted in memory, written every second
    rows = await DailyUsage.filter(account_id=user.id).values_list("api_calls", flat=True)
    assert sum(rows) == 2
    assert await Account.filter(id=user.id).count() == 1
