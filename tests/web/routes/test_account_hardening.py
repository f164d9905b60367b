"""Accounts and the operator, over real HTTP: password-reset tokens, the reset throttle,
`ogapi admin` changes reaching a running embedded server at once, the SDL default."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from models import Account
from resolvers.accounts import passwords
from resolvers.accounts.keys import active_key, reveal
from tests.web.conftest import reset_token, sign_up
from web.appkeys import secret_box_key

pytestmark = pytest.mark.timeout(90)
ROOT = Path(__file__).resolve().parents[3]
NEW_PASSWORD = "a brand new password"


def _token(message) -> str:
    return reset_token(message, r"reset-password\?token=([A-Za-z0-9_-]+)")


async def confirm(client, token: str, password: str = NEW_PASSWORD):
    return await client.post(
        "/api/auth/password-reset/confirm", json={"token": token, "password": password}
    )


async def test_a_confirmed_reset_ends_every_other_token(mail_client, smtp_server):
    _, inbox = smtp_server
    email = "tokens@example.com"
    await sign_up(mail_client, email)
    for _ in range(3):
        resp = await mail_client.post("/api/auth/password-reset", json={"email": email})
        assert resp.status == 202
    tokens = [_token(m) for m in await inbox.wait_for(3)]
    assert len(set(tokens)) == 3
    assert (await confirm(mail_client, tokens[1])).status == 204
    for token in (tokens[0], tokens[2], tokens[1]):
        resp = await confirm(mail_client, token, "the attacker's password")
        assert (resp.status, (await resp.json())["code"]) == (400, "INVALID_TOKEN")
    login = await mail_client.post("/api/auth/login", json={"email": email,
                                                           "password": NEW_PASSWORD})  # fmt: skip
    assert login.status == 200


async def test_a_bogus_token_costs_no_password_hash(client, monkeypatch):
    hashed: list[int] = []
    real = passwords.hash_password

    async def counting(password: str) -> str:
        hashed.append(1)
        return await real(password)

    monkeypatch.setattr(passwords, "hash_password", counting)
    for token in ("nope", "x" * 43, "A" * 128):
        resp = await confirm(client, token)
        assert (resp.status, (await resp.json())["code"]) == (400, "INVALID_TOKEN")
    assert hashed == []  # argon2 (64 MiB, ~0.1 s) never ran for a token that does not exist


async def test_reset_confirms_are_throttled_per_ip(mail_client, smtp_server):
    _, inbox = smtp_server
    email = "throttle@example.com"
    await sign_up(mail_client, email)
    assert (await mail_client.post("/api/auth/password-reset", json={"email": email})).status == 202
    (message,) = await inbox.wait_for(1)
    for i in range(20):
        resp = await confirm(mail_client, f"guess-{i}-" + "x" * 30)
        assert resp.status == 400
    locked = await confirm(mail_client, _token(message))  # even the right token, from this IP
    assert locked.status == 429 and (await locked.json())["code"] == "TOO_MANY_ATTEMPTS"
    assert int(locked.headers["Retry-After"]) > 0


async def test_a_good_confirm_does_not_count_toward_the_throttle(mail_client, smtp_server):
    _, inbox = smtp_server
    email = "good@example.com"
    await sign_up(mail_client, email)
    for _ in range(2):
        assert (await mail_client.post("/api/auth/password-reset",
                                       json={"email": email})).status == 202  # fmt: skip
        (message,) = (await inbox.wait_for(1))[-1:]
        inbox.messages.clear()
        assert (await confirm(mail_client, _token(message))).status == 204
    for i in range(19):
        assert (await confirm(mail_client, f"guess-{i}-" + "x" * 30)).status == 400
    assert (await mail_client.post("/api/auth/password-reset", json={"email": email})).status == 202
    (message,) = await inbox.wait_for(1)
    assert (await confirm(mail_client, _token(message))).status == 204


# ----------------------------------------------------------------------------- ogapi admin


async def ogapi(settings, *args: str) -> str:
    env = {**os.environ, "DATABASE_URL": settings.database_url}
    env.pop("REDIS_URL", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "web.cli.main", *args, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    return out.decode()


async def test_admin_changes_reach_the_running_embedded_server_at_once(client, settings):
    email = "ops-target@example.com"
    await sign_up(client, email)
    account = await Account.get(email=email)
    key = {"X-API-Key": reveal(await active_key(account), client.app[secret_box_key])}
    assert (await client.get("/api/generate", params={"title": "a"}, headers=key)).status == 200
    assert (await client.get("/api/signed/generate", params={"title": "a"},
                             headers=key)).status == 200  # fmt: skip
    usage = await client.get("/api/user/usage", headers=key)
    assert (await usage.json())["plan"] == "free"

    await ogapi(settings, "admin", "suspend", email)
    for path in ("/api/generate", "/api/signed/generate"):  # a cached image too
        resp = await client.get(path, params={"title": "a"}, headers=key)
        assert resp.status == 403, path
        assert (await resp.json())["code"] == "SUBSCRIPTION_CANCELED"

    await ogapi(settings, "admin", "unsuspend", email)
    assert (await client.get("/api/generate", params={"title": "a"}, headers=key)).status == 200
    await ogapi(settings, "admin", "set-plan", email, "pro", "--quota", "7")
    resp = await client.get("/api/generate", params={"title": "a"}, headers=key)
    assert resp.headers["X-RateLimit-Limit"] == "10" and resp.headers["X-Quota-Limit"] == "7"


def test_the_sdl_shows_the_notifications_default():
    from schema import schema

    sdl = schema.as_str()
    assert "notifications(first: Int = 20)" in sdl
    assert "notifications(first: Int = 20)" in (ROOT / "schema.graphql").read_text()
