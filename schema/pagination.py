"""Relay connection pieces shared by the paginated lists (max 100 a page)."""

from __future__ import annotations

import strawberry

from resolvers.reports import Page


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
