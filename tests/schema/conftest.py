"""Helpers for the GraphQL tests: post a query the way the dashboard or a script does."""

from __future__ import annotations

from typing import Any

import pytest


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
        if not cookies:
            self.client.session.cookie_jar.clear()
        return await self.client.post("/graphql", json=body, headers=headers or {})

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
