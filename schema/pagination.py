"""Relay connection pieces shared by the paginated lists (max 100 a page)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

import strawberry

from resolvers.reports import Page

T = TypeVar("T")


@strawberry.type(description="Relay page information (forward pagination with `first`/`after`).")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool = strawberry.field(description="True when `after` was given.")
    start_cursor: str | None
    end_cursor: str | None

    @classmethod
    def from_model(cls, page: Page, after: str | None) -> PageInfo:
        return cls(
            has_next_page=page.has_next,
            has_previous_page=bool(after),
            start_cursor=page.cursors[0] if page.cursors else None,
            end_cursor=page.cursors[-1] if page.cursors else None,
        )


@strawberry.type
class Edge(Generic[T]):
    """`Edge[Invoice]` is the GraphQL type `InvoiceEdge`."""

    node: T
    cursor: str


@strawberry.type
class Connection(Generic[T]):
    """A page of `T`: subclassed per list (`InvoiceConnection(Connection[Invoice])`), which adds
    its `totalCount` and the private filters that count needs."""

    edges: list[Edge[T]]
    page_info: PageInfo


def edges(page: Page, node: Callable[[Any], T]) -> list[Edge[T]]:
    """A connection's edges: one `Edge(node=node(row), cursor=…)` per row of the page."""
    return [Edge(node=node(r), cursor=c) for r, c in zip(page.rows, page.cursors, strict=True)]
