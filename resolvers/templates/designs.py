"""A design as the API takes it: checked by `render.design.validate`, refused with every
problem at once (400 INVALID_DESIGN, docs/templates.md)."""

from __future__ import annotations

from collections.abc import Collection

from render.design.validate import check_design
from resolvers.errors import AppError


class InvalidDesign(AppError, code="INVALID_DESIGN", status=400): ...


def require_valid(design: object, fonts: Collection[str] = ()) -> dict:
    """`design` itself when valid; otherwise InvalidDesign listing every problem as
    {"path": JSON Pointer, "message"}."""
    problems = check_design(design, fonts)
    if problems:
        first = problems[0]
        where = first.path or "the design"
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise InvalidDesign(
            f"Invalid design: {where}: {first.message}{more}",
            extra={"errors": [{"path": p.path, "message": p.message} for p in problems]},
        )
    assert isinstance(design, dict)  # check_design accepts objects only
    return design
