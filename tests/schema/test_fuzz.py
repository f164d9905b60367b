"""Schema-driven fuzzing (hypothesis-graphql): generated queries and mutations, zero 5xx.

Documents are drawn first (a plain Hypothesis run, bounded), then sent through real HTTP as a
signed-in dashboard user and as a script with its key; every answer must be a GraphQL answer
(no 5xx, no INTERNAL_ERROR), with `data` or coded `errors`.
"""

from __future__ import annotations

from datetime import timedelta

import hypothesis_graphql
from graphql import print_ast
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from resolvers.ledger import entries as ledger
from schema import schema
from tests.schema.conftest import NOW, seed_ledger

SDL = schema.as_str()
SCALARS = {
    "Decimal": st.decimals(allow_nan=False, allow_infinity=False, places=6)
    .map(str)
    .map(lambda s: hypothesis_graphql.nodes.String(s)),
    "BigInt": st.integers(0, 2**40).map(hypothesis_graphql.nodes.Int),
    "Date": st.dates().map(lambda d: hypothesis_graphql.nodes.String(d.isoformat())),
    "DateTime": st.datetimes().map(lambda d: hypothesis_graphql.nodes.String(d.isoformat())),
    "JSON": st.one_of(  # a design: any value, checked by the design's validator
        st.text(max_size=20).map(hypothesis_graphql.nodes.String),
        st.integers(-(2**31), 2**31).map(hypothesis_graphql.nodes.Int),
    ),
}


def _draw(strategy, n: int) -> list[str]:
    out: list[str] = []

    @settings(
        max_examples=n,
        database=None,
        deadline=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(document) -> None:
        out.append(document if isinstance(document, str) else print_ast(document))

    collect()
    return out


async def test_generated_documents_never_5xx(gql, signup, now, client):
    user = await signup(plan="pro")
    await ledger.grant(user.id, "10", NOW)
    await seed_ledger(user.id, 5, NOW - timedelta(days=1))
    documents = _draw(hypothesis_graphql.queries(SDL, custom_scalars=SCALARS), 60)
    documents += _draw(hypothesis_graphql.mutations(SDL, custom_scalars=SCALARS), 30)
    assert len(documents) >= 60
    for i, document in enumerate(documents):
        headers = {"X-API-Key": user.api_key} if i % 3 == 0 else {}
        resp = await client.post("/graphql", json={"query": document}, headers=headers)
        assert resp.status < 500, (document, await resp.text())
        body = await resp.json()
        assert "data" in body or "errors" in body, document
        for error in body.get("errors", []):
            assert error["extensions"]["code"] != "INTERNAL_ERROR", (document, error)
