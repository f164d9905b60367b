"""`from_model` for a type that mirrors a resolver's object: most fields are its attributes."""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

T = TypeVar("T")

# A Strawberry type (a dataclass) -> its `__init__` fields; fields with a resolver are not.
_init_fields: dict[type, tuple[str, ...]] = {}


def copy_fields(cls: type[T], source: object, **given: Any) -> T:
    """An instance of the Strawberry type `cls`: the fields in `given` as given, every other
    field the same-named attribute of `source` (a resolver's dataclass or a model)."""
    names = _init_fields.get(cls)
    if names is None:
        fields = dataclasses.fields(cls)  # type: ignore[arg-type]  # every Strawberry type is one
        names = _init_fields[cls] = tuple(f.name for f in fields if f.init)
    copied = {name: getattr(source, name) for name in names if name not in given}
    return cls(**copied, **given)
