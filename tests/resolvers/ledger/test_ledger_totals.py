"""LedgerTotal: migration 0005 counts the ledgers that exist, and `rebuild_totals` recomputes
an account's totals (what the write path keeps is checked by test_ledger_states.py)."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from tortoise import Tortoise
from tortoise.context import get_current_context
from tortoise.migrations.api.migrate import migrate as run_migrations

from models import Account, LedgerEntry, LedgerTotal, TransactionType
from models.db import database, migrate, tortoise_config
from resolvers import rollups
from resolvers.ledger import entries as ledger
from tests.resolvers.conftest import on_database

NOW = datetime(2026, 6, 1, tzinfo=UTC)
SERVICES = ("ai_data", "ai_images", "og_image_overage")


def _entries(account_id: int, n: int) -> list[LedgerEntry]:
    return [
        LedgerEntry(
            account_id=account_id, created_at=NOW + timedelta(minutes=i),
            type=TransactionType.PURCHASE if i % 10 == 0 else TransactionType.USAGE,
            service="credits" if i % 10 == 0 else SERVICES[i % 3],
            amount=Decimal("10") if i % 10 == 0 else Decimal("0.012345"),
            tokens=i % 7, images=i % 2, balance_after=Decimal(0),
        )
        for i in range(n)
    ]  # fmt: skip


def _expected(entries: list[LedgerEntry]) -> dict[tuple[int, str, str], list]:
    out: dict[tuple[int, str, str], list] = {}
    for e in entries:
        acc = out.setdefault((e.account_id, e.type.value, e.service), [0, Decimal(0), 0, 0])
        acc[0] += 1
        acc[1] += e.amount
        acc[2] += e.tokens
        acc[3] += e.images
    return out


async def _kept() -> dict[tuple[int, str, str], list]:
    return {
        (t.account_id, t.type.value, t.service): [t.entries, t.amount, t.tokens, t.images]
        for t in await LedgerTotal.all()
    }


async def _fresh_url(backend: str, request, tmp_path) -> str:
    if backend == "sqlite":
        return f"sqlite://{tmp_path / 'upgrade.sqlite3'}"
    import asyncpg

    base = request.getfixturevalue("postgres_url")
    name = f"upgrade_{secrets.token_hex(4)}"
    conn = await asyncpg.connect(base.replace("postgres://", "postgresql://"))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return base.rsplit("/", 1)[0] + "/" + name


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_the_upgrade_counts_every_existing_ledger(backend, request, tmp_path):
    url = await _fresh_url(backend, request, tmp_path)
    await run_migrations(
        config=tortoise_config(url), target="models.0004_reservations_outbox_retry"
    )
    await get_current_context().close_connections()
    async with on_database(url):  # accounts as 0004 knew them (raw: later columns don't exist)
        await Tortoise.get_connection("default").execute_script(
            "INSERT INTO account (id, email, password_hash, plan, status, overage_enabled, balance,"
            " subscription_status, created_at) VALUES (1, 'a@example.com', 'x', 'free', 'active',"
            " FALSE, '0', 'none', '2026-05-01'), (2, 'b@example.com', 'x', 'free', 'active',"
            " FALSE, '0', 'none', '2026-05-01')"
        )
        a, b = await Account.get(id=1).only("id"), await Account.get(id=2).only("id")
        entries = _entries(a.id, 250) + _entries(b.id, 40)
        await LedgerEntry.bulk_create(entries, batch_size=100)
    await migrate(url)  # 0005: the totals table and its backfill
    async with on_database(url):
        assert await _kept() == _expected(entries)
        # and from now on the write path adds to the backfilled rows
        await ledger.grant(a.id, Decimal("5"), NOW)
        kept = await _kept()
        assert kept[(a.id, "purchase", "credits")][:2] == [26, Decimal("255.000000")]


async def test_rebuild_recomputes_only_the_given_accounts(settings):
    async with database(settings.database_url):
        a = await Account.create(email="r1@example.com", password_hash="x")
        b = await Account.create(email="r2@example.com", password_hash="x")
        await ledger.grant(b.id, Decimal("3"), NOW)  # kept by the write path
        entries = _entries(a.id, 30)
        await LedgerEntry.bulk_create(entries)  # around the write path: no totals yet
        assert (a.id, "purchase", "credits") not in await _kept()
        await rollups.rebuild_totals([a.id])
        kept = await _kept()
        assert {k: v for k, v in kept.items() if k[0] == a.id} == _expected(entries)
        assert kept[(b.id, "purchase", "credits")] == [1, Decimal("3.000000"), 0, 0]


async def test_concurrent_posts_refusals_and_replays_keep_exact_totals(db):
    a = await Account.create(email="c@example.com", password_hash="x")
    await ledger.grant(a.id, "1.00", NOW)  # covers 50 of the 80 charges
    await asyncio.gather(
        *(ledger.charge(a.id, "0.02", "og_image_overage", NOW, images=1) for _ in range(80)),
        *(ledger.grant(a.id, "5", NOW, external_ref="cs_same") for _ in range(10)),
        return_exceptions=True,
    )
    entries = await LedgerEntry.filter(account_id=a.id)
    assert await _kept() == _expected(entries)
    charges = (await _kept())[(a.id, "usage", "og_image_overage")]
    assert charges[0] == len([e for e in entries if e.type == TransactionType.USAGE]) >= 50


async def test_rebuild_repairs_posts_made_without_totals_and_loses_none_made_during_it(
    db, monkeypatch
):
    # A worker of the release before the totals posts without them (a rolling upgrade)...
    a = await Account.create(email="u@example.com", password_hash="x")
    await ledger.grant(a.id, "5", NOW)
    with monkeypatch.context() as m:
        m.setattr(rollups, "bump_totals", _no_totals)
        await ledger.grant(a.id, "7", NOW)
        await ledger.charge(a.id, "0.5", "ai_images", NOW, images=3)
    assert await _kept() != _expected(await LedgerEntry.filter(account_id=a.id))
    # ...and the rebuild, run while new posts keep landing, ends exact.
    await asyncio.gather(
        rollups.rebuild_totals(),
        *(ledger.charge(a.id, "0.01", "ai_images", NOW, images=1) for _ in range(20)),
    )
    assert await _kept() == _expected(await LedgerEntry.filter(account_id=a.id))


async def _no_totals(entry: LedgerEntry) -> None:
    return None
