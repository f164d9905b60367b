"""`ogapi admin grant-credits / refund / record-usage` and `ogapi demo`, run as subprocesses."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from models import Account, DailyUsage, Invoice, LedgerEntry, LedgerTotal, MonthlyUsage
from models.db import database

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def ogapi(tmp_path, migrated_db):
    import shutil

    db = tmp_path / "cli.sqlite3"
    shutil.copy(migrated_db, db)
    env = {**os.environ, "DATABASE_URL": f"sqlite://{db}", "OGAPI_DATA_DIR": str(tmp_path)}
    env.pop("REDIS_URL", None)

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "web.cli.main", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    run.url = f"sqlite://{db}"  # type: ignore[attr-defined]
    return run


def _ledger(url: str, email: str) -> list[LedgerEntry]:
    async def read():
        async with database(url):
            account = await Account.get(email=email)
            return account, await LedgerEntry.filter(account_id=account.id).order_by("id")

    return asyncio.run(read())


def test_credit_commands(ogapi):
    assert ogapi("admin", "create-user", "ops@example.com", "--plan", "pro").returncode == 0
    out = ogapi("admin", "grant-credits", "ops@example.com", "10.50", "--description", "Welcome")
    assert out.returncode == 0, out.stderr
    assert "balance $10.500000" in out.stdout
    out = ogapi("admin", "record-usage", "ops@example.com", "--service", "ai_data",
                "--tokens", "1000000")  # fmt: skip
    assert out.returncode == 0 and "-$0.600000" in out.stdout
    assert ogapi("admin", "refund", "ops@example.com", "0.1").returncode == 0
    bad = ogapi("admin", "record-usage", "ops@example.com", "--service", "ai_images",
                "--images", "999999999")  # fmt: skip
    assert bad.returncode == 1 and "Insufficient credits" in bad.stderr
    assert ogapi("admin", "grant-credits", "ops@example.com", "-5").returncode == 1
    assert ogapi("admin", "grant-credits", "nobody@example.com", "5").returncode == 1
    account, entries = _ledger(ogapi.url, "ops@example.com")
    assert [(e.type.value, e.service, e.amount) for e in entries] == [
        ("purchase", "credits", Decimal("10.5")),
        ("usage", "ai_data", Decimal("0.6")),
        ("refund", "credits", Decimal("0.1")),
    ]
    assert entries[0].description == "Welcome"
    assert account.balance == Decimal("10.000000")


def test_grant_credits_with_an_absurd_amount_is_a_clean_error(ogapi):
    assert ogapi("admin", "create-user", "big@example.com").returncode == 0
    for amount in ("1e30", "9" * 40):
        out = ogapi("admin", "grant-credits", "big@example.com", amount)
        assert out.returncode == 1, out.stderr
        assert "amount must be at most 1000000" in out.stderr
        assert "Traceback" not in out.stderr and "InvalidOperation" not in out.stderr
    _, entries = _ledger(ogapi.url, "big@example.com")
    assert entries == []


def test_demo(ogapi):
    out = ogapi("demo", "--seed", "7")
    assert out.returncode == 0, out.stderr
    lines = dict(line.split(": ", 1) for line in out.stdout.splitlines() if ": " in line)
    email, password = lines["email"], lines["password"]

    async def check():
        async with database(ogapi.url):
            account = await Account.get(email=email)
            entries = await LedgerEntry.filter(account_id=account.id)
            total = sum((e.amount if e.type.value != "usage" else -e.amount for e in entries),
                        Decimal(0))  # fmt: skip
            assert total == account.balance >= 0
            assert {e.type.value for e in entries} == {"purchase", "usage", "refund"}
            days = await DailyUsage.filter(account_id=account.id, service="og_image").count()
            assert days == 90
            assert await MonthlyUsage.filter(account_id=account.id).count() >= 3
            invoices = await Invoice.filter(account_id=account.id)
            assert len(invoices) >= 2
            assert all(
                i.stripe_id.startswith("in_") and i.pdf_url.endswith("/pdf") for i in invoices
            )

    asyncio.run(check())
    # the printed password signs in
    from resolvers.accounts import passwords

    account, _ = _ledger(ogapi.url, email)
    assert asyncio.run(passwords.verify_password(account.password_hash, password))


def test_rebuild_totals_command(ogapi):
    assert ogapi("admin", "create-user", "tot@example.com").returncode == 0
    assert ogapi("admin", "grant-credits", "tot@example.com", "3").returncode == 0

    async def totals(wipe: bool = False):
        async with database(ogapi.url):
            if wipe:  # as if written by a worker from before the totals (a rolling upgrade)
                await LedgerTotal.all().delete()
            return [(t.type.value, t.service, t.entries, t.amount)
                    for t in await LedgerTotal.all()]  # fmt: skip

    assert asyncio.run(totals(wipe=True)) == []
    out = ogapi("admin", "rebuild-totals")
    assert out.returncode == 0 and "rebuilt for 1 account(s)" in out.stdout, out.stderr
    assert asyncio.run(totals()) == [("purchase", "credits", 1, Decimal("3"))]
    assert ogapi("admin", "rebuild-totals", "tot@example.com").returncode == 0
    assert ogapi("admin", "rebuild-totals", "nobody@example.com").returncode == 1
