"""Link-preview insight (docs/link-previews.md): who fetched an account's signed cards."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.accounts import Account


class CardFetchDay(Model):
    # Signed-image fetches per account, day (UTC) and platform (read from the User-Agent), and
    # when the last one came. Written every few seconds from each worker's memory
    # (resolvers/insight/fetch_log.py), never on the request's path.

    id = fields.BigIntField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="card_fetch_days", on_delete=fields.CASCADE
    )
    account_id: int
    day = fields.DateField()
    platform = fields.CharField(max_length=16)
    fetches = fields.BigIntField(default=0)
    last_at = fields.DatetimeField(null=True)

    class Meta:
        table = "card_fetch_day"
        unique_together = (("account", "day", "platform"),)


class CardFetch(Model):
    # A sample of the latest fetches: at most one per image, platform and minute (the unique
    # key, so several workers keep one between them), the newest few hundred per account.

    id = fields.BigIntField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="card_fetches", on_delete=fields.CASCADE
    )
    account_id: int
    at = fields.DatetimeField()
    minute = fields.BigIntField()  # Unix time // 60
    image = fields.CharField(max_length=64)  # the card's cache key (a hash of what it draws)
    platform = fields.CharField(max_length=16)
    user_agent = fields.CharField(max_length=300)
    title = fields.CharField(max_length=200)
    status = fields.SmallIntField()  # 200 or 304
    cache_hit = fields.BooleanField()

    class Meta:
        table = "card_fetch"
        unique_together = (("account", "image", "platform", "minute"),)
        indexes = (("account_id", "at"),)  # recent fetches, newest first
