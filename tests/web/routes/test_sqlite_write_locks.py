"""Two writers on one SQLite file: the server charging overage images while `ogapi admin
record-usage` runs post usage from other processes. Every transaction that reads and then
writes starts as `BEGIN IMMEDIATE` (models/sqlite_tx.py), so each waits its turn on the busy
timeout instead of failing with "database is locked" (docs/operations.md, "Operator commands")."""

from __future__ import annotations

import asyncio
import os
import sys
from decimal import Decimal
from pathlib import Path

from models import LedgerEntry
from resolvers.ledger import entries as ledger
from tests.web.conftest import T0
from web.appkeys import settings_key

ROOT = Path(__file__).resolve().parents[3]
RUNS = 4


async def _record_usage(database_url: str, email: str, tmp_path: Path) -> tuple[int, str]:
    env = {**os.environ, "DATABASE_URL": database_url, "OGAPI_DATA_DIR": str(tmp_path)}
    env.pop("REDIS_URL", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "web.cli.main", "admin", "record-usage", email,
        "--service", "ai_images", "--images", "1000",
        cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode or 0, err.decode()


async def test_admin_postings_beside_server_overage_all_succeed(api, user_factory, tmp_path):
    user = await user_factory("publishing", custom_quota=1, overage_enabled=True)
    await ledger.grant(user.id, Decimal("500"), T0)
    statuses: list[int] = []
    done = asyncio.Event()

    async def charge(worker: int) -> None:
        i = 0
        while not done.is_set():
            i += 1
            params = {"title": f"Overage {worker}-{i}", "template": "minimal",
                      "width": "200", "height": "200"}  # fmt: skip
            headers = {"X-API-Key": user.api_key}
            resp = await api.get("/api/generate", params=params, headers=headers)
            await resp.read()
            statuses.append(resp.status)

    url = api.app[settings_key].database_url
    chargers = [asyncio.ensure_future(charge(w)) for w in range(4)]
    try:
        runs = await asyncio.gather(
            *(_record_usage(url, user.email, tmp_path) for _ in range(RUNS))
        )
    finally:
        done.set()
        await asyncio.gather(*chargers)

    assert [code for code, _ in runs] == [0] * RUNS, [err[-300:] for _, err in runs]
    assert statuses and set(statuses) == {200}, sorted(set(statuses))
    entries = await LedgerEntry.filter(account_id=user.id)
    assert sum(e.service == "ai_images" for e in entries) == RUNS
    overage = [e for e in entries if e.service == "og_image_overage"]
    assert len(overage) == len(statuses) - 1  # the first image was the quota of 1
    spent = sum((e.amount for e in entries if e.type.value == "usage"), Decimal(0))
    assert await ledger.balance_of(user.id) == Decimal("500") - spent
    print(f"{len(statuses)} server renders and {RUNS} record-usage runs, none refused")
