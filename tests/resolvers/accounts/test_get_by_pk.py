"""`get_by_pk` (models/native.py), the account read of every render (`usable_account`): one
SQL statement giving the very object `Model.get(pk=…)` gives, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from tortoise.exceptions import DoesNotExist

from models import Account, ApiKey, PlanId, Session, SubscriptionStatus
from models.native import get_by_pk
from resolvers.accounts import keys

NOW = datetime(2026, 5, 12, 9, 0, 1, 250000, tzinfo=UTC)


def fields_of(obj) -> dict:
    values = {name: getattr(obj, name) for name in type(obj)._meta.fields_db_projection}
    return {name: (value, type(value)) for name, value in values.items()}


def same_object(got, want) -> None:
    assert type(got) is type(want)
    assert fields_of(got) == fields_of(want)
    assert (got._saved_in_db, got._partial) == (want._saved_in_db, want._partial) == (True, False)


async def test_the_same_object_as_get_on_both_databases(db):
    bare = await Account.create(email="bare@example.com", password_hash="x")
    full = await Account.create(
        email="full@example.com",
        password_hash="h",
        domain="example.com",
        plan=PlanId.PRO,
        custom_quota=12345,
        overage_enabled=True,
        overage_cap=Decimal("12.345678"),
        balance=Decimal("3.000001"),
        subscription_status=SubscriptionStatus.TRIALING,
        stripe_customer_id="cus_1",
        stripe_subscription_id="sub_1",
    )
    for account in (bare, full):
        got = await get_by_pk(Account, account.id)
        same_object(got, await Account.get(id=account.id))
        same_object(await keys.usable_account(account.id), got)
    assert isinstance(got.plan, PlanId) and got.balance == Decimal("3.000001")

    key = await ApiKey.create(account=full, key_hash="k" * 64, key_encrypted="e", kid="kid1")
    session = await Session.create(
        id="s" * 64, account=full, created_at=NOW, last_seen_at=NOW, expires_at=NOW
    )
    same_object(await get_by_pk(ApiKey, key.id), await ApiKey.get(id=key.id))  # a foreign key
    same_object(await get_by_pk(Session, session.id), await Session.get(id=session.id))  # text pk

    got = await get_by_pk(Account, full.id)  # a model object as any: saved like one
    got.domain = "changed.example.com"
    await got.save(update_fields=["domain"])
    assert (await Account.get(id=full.id)).domain == "changed.example.com"
    with pytest.raises(DoesNotExist):
        await get_by_pk(Account, full.id + 1000)
    with pytest.raises(DoesNotExist):
        await keys.usable_account(full.id + 1000)
