"""Quota and low-balance notifications (docs/metering.md, Alerts)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from models import Notification as NotificationModel
from models import NotificationKind
from resolvers import reports
from schema.context import Info
from schema.copying import copy_fields
from schema.permissions import IsAuthenticated


@strawberry.type
class Notification:
    id: strawberry.ID
    created_at: datetime
    kind: NotificationKind
    message: str
    read: bool

    @classmethod
    def from_model(cls, n: NotificationModel) -> Notification:
        return copy_fields(cls, n, id=strawberry.ID(str(n.id)))


@strawberry.type
class NotificationQuery:
    @strawberry.field(permission_classes=[IsAuthenticated], description="Newest first; ≤ 100.")
    async def notifications(self, info: Info, first: int | None = 20) -> list[Notification]:
        rows = await reports.notifications(info.context.user.id, 20 if first is None else first)
        return [Notification.from_model(n) for n in rows]
