"""Relay connection pieces shared by the paginated lists (max 100 a page)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

import strawberry

from resolvers.reports import Page

E = TypeVar("E", covariant=True)


class EdgeType(Protocol[E]):
    def __call__(self, *, node: Any, cursor: str) -> E: ...


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


def edges(page: Page, edge: EdgeType[E], node: Callable[[Any], Any]) -> list[E]:
    """A connection's edges: one `edge(node=node(row), cursor=…)` per row of the page."""
    return [edge(node=node(r), cursor=c) for r, c in zip(page.rows, page.cursors, strict=True)]
