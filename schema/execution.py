"""A faster path for the commonest field: a plain attribute holding a scalar or enum.

graphql-core resolves every field the same way (a resolve-info object, the resolver, then
completion through the NonNull and leaf layers); for a page of 100 transactions that is ~1,000
fields and most of the request. When a field has no resolver, arguments, permission or field
extension and no schema extension hooks `resolve`, its value is the source's attribute
serialized by its scalar: this context does exactly that. Anything else (None, an error, a
value the scalar refuses) goes down graphql-core's own path, which produces the usual result
or error, so answers are identical.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLField, GraphQLNonNull, GraphQLObjectType, Undefined, is_leaf_type
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

# id(GraphQLField) -> (field, plan); the field is kept so its id is never reused.
_plans: dict[int, tuple[GraphQLField, tuple[Callable, str, Callable] | None]] = {}


def _plan(field_def: GraphQLField) -> tuple[Callable, str, Callable] | None:
    """(attribute getter, attribute name, serializer) of a plain leaf field, else None."""
    cached = _plans.get(id(field_def))
    if cached is not None:
        return cached[1]
    plan = None
    field = (field_def.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    leaf = field_def.type.of_type if isinstance(field_def.type, GraphQLNonNull) else field_def.type
    if (
        isinstance(field, StrawberryField)
        and getattr(field_def.resolve, "_is_default", False)  # Strawberry's basic-field resolver
        and field.base_resolver is None
        and not field_def.args
        and is_leaf_type(leaf)
    ):
        plan = (field.default_resolver, field.python_name, leaf.coerce_output_value)
    _plans[id(field_def)] = (field_def, plan)
    return plan


class ExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        field_def = parent_type.fields.get(field_details_list[0].node.name.value)
        middleware = self.middleware_manager
        if field_def is not None and (middleware is None or not middleware.middlewares):
            plan = _plan(field_def)
            if plan is not None:
                get, name, serialize = plan
                try:
                    value = get(source, name)
                    if value is not None and not isinstance(value, Exception):
                        out = serialize(value)
                        if out is not None and out is not Undefined:
                            return out
                except Exception:  # noqa: S110 - graphql-core's own path reports it
                    pass
        return super().execute_field(parent_type, source, field_details_list, *args, **kwargs)
