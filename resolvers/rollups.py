"""Per-day, per-service roll-ups (DailyUsage) that keep usage charts fast at any history size.

What each service's row holds (read-side code sums these):
- `og_image`: `images` = successful renders (the quota's unit), `api_calls` = API-key requests.
- services of usage ledger entries (`og_image_overage`, `ai_*`): `spend`, `tokens`, `images`
  as charged; `og_image_overage` carries spend only (its images are already in `og_image`).
`purchase_refund` is not spend and has no row.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from pypika_tortoise.terms import Function as SqlFunction
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Function
from tortoise.transactions import in_transaction

from models import DailyUsage

IMAGE_SERVICE = "og_image"


class _SqlRound(SqlFunction):
    def __init__(self, term, decimals: int, alias=None) -> None:
        super().__init__("ROUND", term, decimals, alias=alias)


class Round(Function):
    database_func = _SqlRound


def _spend_expr(delta: Decimal):
    # Rounded in SQL: SQLite keeps DECIMAL columns as REAL, and repeated float additions would
    # drift; ROUND(…, 6) snaps every sum back to the nearest micro-dollar (exact on PostgreSQL).
    return Round(F("spend") + delta, 6) if delta else F("spend")


async def bump_daily(
    account_id: int,
    now: datetime,
    service: str,
    *,
    images: int = 0,
    api_calls: int = 0,
    tokens: int = 0,
    spend: Decimal = Decimal(0),
) -> None:
    """Add to the (account, day, service) row, creating it on first use (safe in transactions)."""
    day = now.astimezone(UTC).date()
    for _ in range(3):
        updated = await DailyUsage.filter(account_id=account_id, day=day, service=service).update(
            images=F("images") + images,
            api_calls=F("api_calls") + api_calls,
            tokens=F("tokens") + tokens,
            spend=_spend_expr(spend),
        )
        if updated:
            return
        try:
            async with in_transaction():  # a savepoint when called inside a transaction
                await DailyUsage.create(
                    account_id=account_id,
                    day=day,
                    service=service,
                    images=images,
                    api_calls=api_calls,
                    tokens=tokens,
                    spend=spend,
                )
            return
        except IntegrityError:
            continue  # created concurrently: update it on the next pass
    raise RuntimeError("daily usage row could not be created or updated")
