"""Helpers for the GraphQL tests: post a query the way the dashboard or a script does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from models import LedgerEntry, TransactionType
from resolvers import rollups


class GQL:
    def __init__(self, client) -> None:
        self.client = client

    async def raw(
        self,
        query: str,
        variables: dict | None = None,
        headers: dict | None = None,
        cookies: bool = True,
    ):
        body: dict[str, Any] = {"query": query}
        if variables is not None:
            body["variables"] = variables
        if cookies:
            return await self.client.post("/graphql", json=body, headers=headers or {})
        jar = self.client.session.cookie_jar
        saved = {c.key: c.value for c in jar}
        jar.clear()
        try:
            return await self.client.post("/graphql", json=body, headers=headers or {})
        finally:
            jar.update_cookies(saved, response_url=self.client.make_url("/"))

    async def __call__(self, query: str, variables: dict | None = None, **kw) -> dict:
        resp = await self.raw(query, variables, **kw)
        assert resp.status == 200, await resp.text()
        return await resp.json()

    async def data(self, query: str, variables: dict | None = None, **kw) -> dict:
        body = await self(query, variables, **kw)
        assert "errors" not in body, body["errors"]
        return body["data"]

    async def key(self, api_key: str, query: str, variables: dict | None = None) -> dict:
        """As a script: X-API-Key and no cookie."""
        return await self(query, variables, headers={"X-API-Key": api_key}, cookies=False)


def codes(body: dict) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


@pytest.fixture
def gql(client) -> GQL:
    return GQL(client)


NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def now(clock) -> datetime:
    """Freeze the app's clock (before sign-up, so the session is fresh at that time)."""
    clock.set(NOW)
    return NOW


async def seed_ledger(account_id: int, n: int, start: datetime, **fields: Any) -> list[LedgerEntry]:
    """n ledger rows one minute apart (oldest first), written straight to the table (and
    counted in the ledger totals, as `posting.post` would)."""
    rows = [
        LedgerEntry(
            account_id=account_id,
            created_at=start + timedelta(minutes=i),
            type=fields.get("type", TransactionType.USAGE),
            service=fields.get("service", "ai_data"),
            amount=Decimal(fields.get("amount", "0.010000")),
            tokens=fields.get("tokens", 1000),
            images=fields.get("images", 0),
            description=fields.get("description", f"entry {i}"),
            balance_after=Decimal("0"),
        )
        for i in range(n)
    ]
    await LedgerEntry.bulk_create(rows)
    await rollups.rebuild_totals([account_id])
    return await LedgerEntry.filter(account_id=account_id).order_by("id")
