"""The account's webhook endpoints with their recent deliveries, the delivery log
(docs/webhooks.md). Endpoints are added and removed over REST (`/api/webhook-endpoints`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from models import DeliveryStatus
from models import WebhookEndpoint as EndpointModel
from resolvers.notify import endpoints
from schema.context import Info
from schema.copying import copy_fields
from schema.permissions import IsAuthenticated

strawberry.enum(
    DeliveryStatus,
    name="WebhookDeliveryStatus",
    description="Waiting for its next attempt, or done either way.",
)


@strawberry.type(description="One event's delivery to one endpoint.")
class WebhookDelivery:
    id: strawberry.ID
    event_id: str = strawberry.field(description="The body's `id`, the same on every attempt.")
    type: str = strawberry.field(description="quota.threshold, balance.low, … or ping.")
    created_at: datetime
    status: DeliveryStatus
    attempts: int
    last_attempt_at: datetime | None
    last_status: int | None = strawberry.field(description="The last answer's HTTP status.")
    last_error: str | None
    next_attempt_at: datetime | None = strawberry.field(description="Null once done.")
    delivered_at: datetime | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> WebhookDelivery:
        return cls(
            **{**row, "id": strawberry.ID(str(row["id"])), "status": DeliveryStatus(row["status"])}
        )


@strawberry.type(description="Where the account's events are POSTed (the secret is not shown).")
class WebhookEndpoint:
    id: strawberry.ID
    url: str
    events: list[str]
    enabled: bool = strawberry.field(description="False once 24 h of failures disabled it.")
    created_at: datetime
    disabled_at: datetime | None
    failing_since: datetime | None = strawberry.field(
        description="The first failed attempt since the last success."
    )

    @classmethod
    def from_model(cls, e: EndpointModel) -> WebhookEndpoint:
        return copy_fields(
            cls,
            e,
            id=strawberry.ID(e.id),
            events=list(e.events),
            enabled=e.disabled_at is None,
        )

    @strawberry.field(description="Newest first; at most 50.")
    async def deliveries(self, first: int = 10) -> list[WebhookDelivery]:
        rows = await endpoints.recent_deliveries(str(self.id), first)
        return [WebhookDelivery.from_row(r) for r in rows]


@strawberry.type
class WebhookQuery:
    @strawberry.field(permission_classes=[IsAuthenticated], description="Oldest first; ≤ 5.")
    async def webhook_endpoints(self, info: Info) -> list[WebhookEndpoint]:
        found = await endpoints.list_own(info.context.user.id)
        return [WebhookEndpoint.from_model(e) for e in found]
