"""Server-side sessions: random cookie value, stored by its hash, idle and absolute expiry."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from models import Account, Session
from resolvers.crypto import sha256_hex

ABSOLUTE_LIFETIME = timedelta(days=7)
# Writing last_seen on every request would turn each dashboard read into a write.
TOUCH_INTERVAL = timedelta(minutes=1)


async def create_session(
    account: Account, now: datetime, ip: str | None = None, user_agent: str | None = None
) -> str:
    """A new session (a new id: sessions rotate at login). Returns the cookie value."""
    token = secrets.token_urlsafe(32)
    await Session.create(
        id=sha256_hex(token),
        account=account,
        created_at=now,
        last_seen_at=now,
        expires_at=now + ABSOLUTE_LIFETIME,
        ip=(ip or "")[:64] or None,
        user_agent=(user_agent or "")[:255] or None,
    )
    return token


async def resolve_session(
    token: str | None, now: datetime, idle: timedelta, activity: bool = True
) -> Account | None:
    """The session's account, or None when missing, idle too long or past its lifetime.
    `activity` False (the dashboard's auto-refresh, not the person): the idle clock is not
    reset, so a page left open still ends after `idle`."""
    if not token or len(token) > 128:
        return None
    session = await Session.get_or_none(id=sha256_hex(token)).select_related("account")
    if session is None:
        return None
    if now >= session.expires_at or now - session.last_seen_at >= idle:
        await session.delete()
        return None
    if activity and now - session.last_seen_at >= TOUCH_INTERVAL:
        await Session.filter(id=session.id).update(last_seen_at=now)
    return session.account


async def destroy_session(token: str | None) -> None:
    if token and len(token) <= 128:
        await Session.filter(id=sha256_hex(token)).delete()


async def revoke_all_sessions(account_id: int) -> int:
    return await Session.filter(account_id=account_id).delete()
