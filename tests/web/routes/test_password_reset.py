"""Password reset through a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from models import OutboxMail, Session
from tests.conftest import PASSWORD
from tests.web.conftest import reset_token, sign_up
from web.appkeys import mailer_key

NEW_PASSWORD = "a brand new password"


def _token(message) -> str:
    return reset_token(message, r"http://testserver/reset-password\?token=([A-Za-z0-9_-]+)")


async def _signup(client, email="reset@example.com"):
    await sign_up(client, email)


async def test_reset_mail_link_works_once_and_revokes_sessions(mail_client, smtp_server):
    _, inbox = smtp_server
    await _signup(mail_client)
    assert await Session.all().count() == 1
    resp = await mail_client.post("/api/auth/password-reset", json={"email": "Reset@Example.com "})
    assert resp.status == 202
    (message,) = await inbox.wait_for(1)
    assert message["To"] == "reset@example.com"
    assert "noreply@og.test" in message["From"]
    token = _token(message)
    await mail_client.app[mailer_key].drain()
    assert (await OutboxMail.get(to="reset@example.com")).sent_at is not None

    resp = await mail_client.post(
        "/api/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD}
    )
    assert resp.status == 204
    assert await Session.all().count() == 0  # every session revoked
    again = await mail_client.post(
        "/api/auth/password-reset/confirm",
        json={"token": token, "password": "yet another password"},
    )
    assert (again.status, (await again.json())["code"]) == (400, "INVALID_TOKEN")

    old = await mail_client.post(
        "/api/auth/login", json={"email": "reset@example.com", "password": PASSWORD}
    )
    assert old.status == 401
    new = await mail_client.post(
        "/api/auth/login", json={"email": "reset@example.com", "password": NEW_PASSWORD}
    )
    assert new.status == 200


async def test_unknown_email_gets_the_same_answer_and_no_mail(mail_client, smtp_server):
    _, inbox = smtp_server
    resp = await mail_client.post("/api/auth/password-reset", json={"email": "ghost@example.com"})
    assert resp.status == 202
    assert await OutboxMail.all().count() == 0
    assert inbox.messages == []


async def test_reset_link_expires_after_an_hour(mail_client, smtp_server, clock):
    _, inbox = smtp_server
    start = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    clock.set(start)
    await _signup(mail_client)
    await mail_client.post("/api/auth/password-reset", json={"email": "reset@example.com"})
    token = _token((await inbox.wait_for(1))[0])
    clock.set(start + timedelta(hours=1, seconds=1))
    resp = await mail_client.post(
        "/api/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD}
    )
    assert (resp.status, (await resp.json())["code"]) == (400, "INVALID_TOKEN")


async def test_confirm_validates_password_and_token(mail_client):
    resp = await mail_client.post(
        "/api/auth/password-reset/confirm", json={"token": "x", "password": "short"}
    )
    assert (resp.status, (await resp.json())["code"]) == (400, "WEAK_PASSWORD")
    resp = await mail_client.post(
        "/api/auth/password-reset/confirm", json={"token": "made-up", "password": NEW_PASSWORD}
    )
    assert (resp.status, (await resp.json())["code"]) == (400, "INVALID_TOKEN")


async def test_without_smtp_mail_goes_to_the_outbox(client, signup, caplog):
    user = await signup()
    with caplog.at_level("INFO", logger="ogapi.mail"):
        resp = await client.post("/api/auth/password-reset", json={"email": user.email})
    assert resp.status == 202
    mail = await OutboxMail.get(to=user.email)
    assert "reset-password?token=[redacted]" in mail.body and mail.sealed_body is None
    assert mail.sent_at is None and mail.error is None and mail.next_attempt_at is None
    # The log is the mailbox: the link works from there.
    token = re.search(r"reset-password\?token=([A-Za-z0-9_-]+)", caplog.text).group(1)  # type: ignore[union-attr]
    resp = await client.post(
        "/api/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD}
    )
    assert resp.status == 204


async def test_no_usable_reset_token_stays_in_the_outbox(mail_client, smtp_server):
    """The outbox keeps the mail with its token redacted; the whole body only sealed with
    SECRET_KEY until it is delivered (resolvers/mail.py)."""
    _, inbox = smtp_server
    await _signup(mail_client)
    resp = await mail_client.post("/api/auth/password-reset", json={"email": "reset@example.com"})
    assert resp.status == 202
    (message,) = await inbox.wait_for(1)
    token = _token(message)
    await mail_client.app[mailer_key].drain()
    mail = await OutboxMail.get(to="reset@example.com")
    assert mail.sent_at is not None and mail.sealed_body is None
    assert token not in mail.body and "reset-password?token=[redacted]" in mail.body


async def test_reset_mails_are_limited_per_account(mail_client, smtp_server):
    _, inbox = smtp_server
    await _signup(mail_client)
    for _ in range(6):
        resp = await mail_client.post(
            "/api/auth/password-reset", json={"email": "reset@example.com"}
        )
        assert resp.status == 202  # the same answer every time
    await mail_client.app[mailer_key].drain()
    assert await OutboxMail.filter(to="reset@example.com").count() == 3
    assert len(inbox.messages) == 3


async def test_a_dead_mail_server_does_not_fail_the_request(aiohttp_client, settings, clock):
    from dataclasses import replace

    from tests.services import free_port
    from web.app import create_app

    dead = replace(settings, smtp_host="127.0.0.1", smtp_port=free_port())
    client = await aiohttp_client(create_app(dead, clock=clock))
    await _signup(client)
    resp = await client.post("/api/auth/password-reset", json={"email": "reset@example.com"})
    assert resp.status == 202
    await client.app[mailer_key].drain()
    mail = await OutboxMail.get(to="reset@example.com")
    assert mail.sent_at is None and mail.error
