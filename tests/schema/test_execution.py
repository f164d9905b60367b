"""schema.execution: the plain-leaf fast path answers exactly like graphql-core's own path."""

from __future__ import annotations

from decimal import Decimal
from enum import Enum

import strawberry

from schema.execution import ExecutionContext
from schema.scalars import SCALAR_MAP


@strawberry.enum
class Color(Enum):
    RED = "red"


@strawberry.type
class Row:
    name: str
    count: int
    price: Decimal
    color: Color
    missing: str  # set to None below: a non-null field that must still error
    maybe: str | None
    broken: int  # a value Int refuses

    @strawberry.field
    def shout(self) -> str:
        return self.name.upper()


@strawberry.type
class Query:
    @strawberry.field
    def rows(self) -> list[Row]:
        row = Row(
            name="a",
            count=1,
            price=Decimal("1.500000"),
            color=Color.RED,
            missing="",
            maybe=None,
            broken=0,
        )
        row.missing, row.broken = None, "x"  # type: ignore[assignment]
        return [row]


QUERIES = [
    "{ rows { name count price color maybe shout __typename } }",
    "{ rows { name missing } }",
    "{ rows { broken } }",
    "{ rows { n: name name } }",
]


async def test_fast_path_matches_graphql_core():
    config = strawberry.schema.config.StrawberryConfig(scalar_map=SCALAR_MAP)
    plain = strawberry.Schema(query=Query, config=config)
    fast = strawberry.Schema(query=Query, config=config, execution_context_class=ExecutionContext)
    for query in QUERIES:
        a, b = await plain.execute(query), await fast.execute(query)
        assert a.data == b.data, query
        assert [(e.message, e.path) for e in a.errors or []] == [
            (e.message, e.path) for e in b.errors or []
        ], query
    ok = await fast.execute(QUERIES[0])
    assert ok.data == {
        "rows": [
            {"name": "a", "count": 1, "price": "1.500000", "color": "RED", "maybe": None,
             "shout": "A", "__typename": "Row"}
        ]
    }  # fmt: skip
    assert (await fast.execute(QUERIES[1])).errors  # null in a non-null field still errors
