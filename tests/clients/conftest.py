"""A running `ogapi serve` (SQLite, one process) for the client tests, and accounts on it."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from models import PlanId
from resolvers.accounts import accounts
from resolvers.accounts.keys import active_key, reveal
from resolvers.crypto import SecretBox
from tests.conftest import PASSWORD, TEST_SECRET
from tests.resolvers.conftest import on_database
from tests.services import free_port, wait_http_ok

ROOT = Path(__file__).resolve().parents[2]
# The Python client is one file to copy, not a package: its tests import it from its folder.
sys.path.insert(0, str(ROOT / "clients" / "python"))


@dataclass
class Server:
    base: str
    database_url: str


@dataclass
class Key:
    api_key: str
    kid: str


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, migrated_db: Path) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("clients")
    db = tmp / "clients.sqlite3"
    shutil.copy(migrated_db, db)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DATABASE_URL": f"sqlite://{db}", "SECRET_KEY": TEST_SECRET,
           "OGAPI_DATA_DIR": str(tmp), "OGAPI_RENDER_WORKERS": "0", "BASE_URL": base}  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-m", "web.cli.main", "serve", "--port", str(port)],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        asyncio.run(wait_http_ok(f"{base}/health", 60, "ogapi serve"))
        yield Server(base, f"sqlite://{db}")
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def account(server: Server):
    """`account(email, plan=..., **columns) -> Key`: an account made in the server's database."""

    async def make(email: str, plan: PlanId, fields: dict) -> Key:
        async with on_database(server.database_url):
            box = SecretBox(TEST_SECRET)
            acct = await accounts.create_account(email, PASSWORD, box, plan=plan)
            for name, value in fields.items():
                setattr(acct, name, value)
            await acct.save()
            key = await active_key(acct)
            return Key(reveal(key, box) or "", key.kid)

    def sync(email: str, plan: PlanId = PlanId.PUBLISHING, **fields) -> Key:
        return asyncio.run(make(email, plan, fields))

    return sync
