"""Relay pagination of transactions and invoices: edges, cursors, filters, bounds."""

from __future__ import annotations

import base64
from datetime import date, timedelta
from decimal import Decimal

from models import Invoice, LedgerEntry, TransactionType
from resolvers import rollups
from tests.schema.conftest import NOW, codes, seed_ledger

PAGE = """query($first: Int, $after: String, $type: TransactionType, $service: String) {
  transactions(first: $first, after: $after, type: $type, service: $service) {
    totalCount
    edges { cursor node { id createdAt type service amount tokens images description } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  } }"""


async def _all_pages(gql, size: int, **filters) -> tuple[list[str], int]:
    ids, after, pages = [], None, 0
    while True:
        conn = (await gql.data(PAGE, {"first": size, "after": after, **filters}))["transactions"]
        pages += 1
        ids += [e["node"]["id"] for e in conn["edges"]]
        if conn["edges"]:
            assert conn["pageInfo"]["endCursor"] == conn["edges"][-1]["cursor"]
            assert conn["pageInfo"]["startCursor"] == conn["edges"][0]["cursor"]
        assert conn["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not conn["pageInfo"]["hasNextPage"]:
            return ids, pages
        after = conn["pageInfo"]["endCursor"]


async def test_empty_ledger(gql, signup, now):
    await signup()
    conn = (await gql.data(PAGE))["transactions"]
    assert conn["totalCount"] == 0 and conn["edges"] == []
    assert conn["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": False,
        "startCursor": None,
        "endCursor": None,
    }


async def test_exact_page_and_cursor_walk(gql, signup, now):
    user = await signup()
    rows = await seed_ledger(user.id, 6, NOW - timedelta(days=1))
    newest_first = [str(r.id) for r in reversed(rows)]
    exact = (await gql.data(PAGE, {"first": 6}))["transactions"]
    assert [e["node"]["id"] for e in exact["edges"]] == newest_first
    assert exact["pageInfo"]["hasNextPage"] is False and exact["totalCount"] == 6
    assert await _all_pages(gql, 2) == (newest_first, 3)
    assert await _all_pages(gql, 4) == (newest_first, 2)
    node = exact["edges"][0]["node"]
    assert node["type"] == "USAGE" and node["amount"] == "0.010000" and node["tokens"] == 1000
    assert node["createdAt"].startswith("2026-06-14T12:05")
    zero = (await gql.data(PAGE, {"first": 0}))["transactions"]
    assert zero["edges"] == [] and zero["totalCount"] == 6


async def test_default_page_is_100_and_bigger_pages_are_refused(gql, signup, now):
    user = await signup()
    await seed_ledger(user.id, 101, NOW - timedelta(days=1))
    conn = (await gql.data(PAGE))["transactions"]
    assert len(conn["edges"]) == 100 and conn["pageInfo"]["hasNextPage"] is True
    assert conn["totalCount"] == 101
    for first in (101, -1, 10_000):
        assert codes(await gql(PAGE, {"first": first})) == ["INVALID_PARAMETER"], first


async def test_rows_with_the_same_timestamp_page_without_gaps(gql, signup, now):
    user = await signup()
    rows = [
        LedgerEntry(
            account_id=user.id,
            created_at=NOW,
            type=TransactionType.PURCHASE,
            service="credits",
            amount=Decimal(i + 1),
            balance_after=Decimal(0),
        )
        for i in range(7)
    ]
    await LedgerEntry.bulk_create(rows)
    await rollups.rebuild_totals([user.id])
    ids, _ = await _all_pages(gql, 3)
    assert len(ids) == 7 and len(set(ids)) == 7
    assert ids == sorted(ids, key=int, reverse=True)


async def test_filters_by_type_and_service(gql, signup, now):
    user = await signup()
    start = NOW - timedelta(days=3)
    await seed_ledger(user.id, 3, start, service="ai_data")
    await seed_ledger(user.id, 2, start + timedelta(hours=1), service="ai_images", images=5)
    await seed_ledger(
        user.id, 4, start + timedelta(hours=2), type=TransactionType.PURCHASE, service="credits"
    )
    usage = (await gql.data(PAGE, {"type": "USAGE"}))["transactions"]
    assert usage["totalCount"] == 5 and {e["node"]["type"] for e in usage["edges"]} == {"USAGE"}
    images = (await gql.data(PAGE, {"service": "ai_images"}))["transactions"]
    assert images["totalCount"] == 2 and images["edges"][0]["node"]["images"] == 5
    both = (await gql.data(PAGE, {"type": "PURCHASE", "service": "ai_data"}))["transactions"]
    assert both["totalCount"] == 0 and both["edges"] == []
    ids, pages = await _all_pages(gql, 2, type="USAGE")
    assert len(ids) == 5 and pages == 3
    purchases = await _all_pages(gql, 3, type="PURCHASE")
    assert len(purchases[0]) == 4
    assert codes(await gql(PAGE, {"type": "GIFT"})) == ["GRAPHQL_VALIDATION_FAILED"]


async def test_bad_cursors_are_refused(gql, signup, now):
    user = await signup()
    await seed_ledger(user.id, 3, NOW)
    conn = (await gql.data(PAGE, {"first": 1}))["transactions"]
    inv_cursor = base64.urlsafe_b64encode(f"inv|{user.id}|1|2026-01-01".encode()).decode()
    for bad in ("nope", "!!!", base64.b64encode(b"txn|x|1|y").decode(), inv_cursor, ""):
        body = await gql(PAGE, {"after": bad})
        if bad == "":
            assert "errors" not in body  # empty means "from the start"
            continue
        assert codes(body) == ["INVALID_PARAMETER"], bad
        assert body["errors"][0]["message"] == "after is not a valid cursor for this list"
    ok = await gql.data(PAGE, {"after": conn["pageInfo"]["endCursor"]})
    assert len(ok["transactions"]["edges"]) == 2


async def test_invoice_pages(gql, signup, now):
    user = await signup()
    for i in range(5):
        await Invoice.create(
            account_id=user.id,
            stripe_id=f"in_{i}",
            number=f"N{i}",
            date=date(2026, 1, 1) + timedelta(days=30 * i),
            amount=Decimal("9.00"),
            currency="usd",
            status="paid",
        )
    q = """query($first: Int, $after: String) { invoices(first: $first, after: $after) {
      totalCount edges { cursor node { number date } } pageInfo { hasNextPage endCursor } } }"""
    first = (await gql.data(q, {"first": 2}))["invoices"]
    assert [e["node"]["number"] for e in first["edges"]] == ["N4", "N3"]
    assert first["totalCount"] == 5 and first["pageInfo"]["hasNextPage"] is True
    rest = (await gql.data(q, {"first": 3, "after": first["pageInfo"]["endCursor"]}))["invoices"]
    assert [e["node"]["number"] for e in rest["edges"]] == ["N2", "N1", "N0"]
    assert rest["pageInfo"]["hasNextPage"] is False
    default = (await gql.data(q))["invoices"]
    assert len(default["edges"]) == 5
    txn_cursor = (await gql.data(PAGE))["transactions"]["pageInfo"]["endCursor"]
    assert txn_cursor is None
    assert codes(await gql(q, {"first": 101})) == ["INVALID_PARAMETER"]
