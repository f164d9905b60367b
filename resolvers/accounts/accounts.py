"""Accounts: sign-up, login, password reset and the operator's account commands."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import Account, AccountStatus, PasswordReset, PlanId
from resolvers.accounts import auth_throttle as throttle
from resolvers.accounts import keycache, passwords, sessions
from resolvers.accounts.keys import issue_key
from resolvers.crypto import SecretBox, sha256_hex
from resolvers.errors import AppError, Conflict, InvalidParameter, NotFound
from resolvers.ledger import spending_cap
from resolvers.mail import Mailer

RESET_LIFETIME = timedelta(hours=1)
MAX_RESETS_PER_HOUR = 3
_EMAIL = re.compile(
    r"^[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
_DOMAIN = re.compile(
    r"^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$"
)


def email_key(value: str) -> str:
    """An address as it is stored and looked up: trimmed, lower case."""
    return value.strip().lower()


def lookup_email(value: object) -> str:
    """What to look an account up by: `email_key`, at most 254 characters; "" for a non-string
    (no account has it)."""
    return email_key(value)[:254] if isinstance(value, str) else ""


def normalise_email(value: object) -> str:
    """A new account's address: `email_key` of a valid address, or INVALID_PARAMETER."""
    if not isinstance(value, str):
        raise InvalidParameter("email must be a string")
    email = email_key(value)
    if len(email) > 254 or not _EMAIL.match(email):
        raise InvalidParameter("email is not a valid email address")
    return email


def normalise_domain(value: object) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidParameter("domain must be a string")
    domain = value.strip().lower().removeprefix("https://").removeprefix("http://").rstrip("/")
    if not _DOMAIN.match(domain):
        raise InvalidParameter("domain must be a host name such as example.com")
    return domain


def check_password(value: object) -> str:
    if not isinstance(value, str):
        raise InvalidParameter("password must be a string")
    if not passwords.MIN_LENGTH <= len(value) <= passwords.MAX_LENGTH:
        raise AppError(
            f"Password must be {passwords.MIN_LENGTH} to {passwords.MAX_LENGTH} characters long.",
            code="WEAK_PASSWORD",
            status=400,
        )
    return value


async def create_account(
    email: object,
    password: object,
    box: SecretBox,
    domain: object = None,
    plan: PlanId = PlanId.FREE,
    custom_quota: int | None = None,
) -> Account:
    """A new account with its first API key (one transaction: never an account without a key)."""
    email_n = normalise_email(email)
    password_s = check_password(password)
    domain_n = normalise_domain(domain)
    hashed = await passwords.hash_password(password_s)
    try:
        async with in_transaction():
            account = await Account.create(
                email=email_n,
                password_hash=hashed,
                domain=domain_n,
                plan=plan,
                custom_quota=custom_quota,
            )
            await issue_key(account, box)
    except IntegrityError:
        raise Conflict("An account with this email already exists.", code="EMAIL_TAKEN") from None
    return account


async def login(email: object, password: object, ip: str, now: datetime) -> Account:
    """Verify credentials with throttling. Unknown email and wrong password look the same."""
    email_n = lookup_email(email)
    attempt = await throttle.begin_attempt(email_n, ip, now)
    account = await Account.get_or_none(email=email_n) if email_n else None
    ok = await passwords.verify_password(
        account.password_hash if account else None, password if isinstance(password, str) else ""
    )
    if not ok or account is None:
        raise AppError("Invalid email or password.", code="INVALID_CREDENTIALS", status=401)
    await throttle.succeeded(attempt)
    if passwords.needs_rehash(account.password_hash):
        # it verified, so it is a str
        account.password_hash = await passwords.hash_password(password)  # type: ignore[arg-type]
        await account.save(update_fields=["password_hash"])
    return account


async def request_password_reset(
    email: object, base_url: str, mailer: Mailer, now: datetime
) -> None:
    """Mail a single-use link when the account exists; say nothing either way."""
    email_n = lookup_email(email)
    account = await Account.get_or_none(email=email_n) if email_n else None
    if account is None:
        return
    since = now - RESET_LIFETIME
    if await PasswordReset.filter(account_id=account.id, created_at__gt=since).count() >= (
        MAX_RESETS_PER_HOUR
    ):
        return  # nobody can flood an inbox through us; the answer stays the same
    token = secrets.token_urlsafe(32)
    await PasswordReset.create(
        token_hash=sha256_hex(token),
        account=account,
        created_at=now,
        expires_at=now + RESET_LIFETIME,
    )
    link = f"{base_url}/reset-password?token={token}"
    await mailer.send(
        account.email,
        "Reset your OG Image API password",
        "Someone asked to reset the password of your OG Image API account.\n\n"
        f"Choose a new password here (the link works once, for 1 hour):\n{link}\n\n"
        "If it wasn't you, ignore this mail: your password stays as it is.\n",
        secret=token,
    )


async def confirm_password_reset(
    token: object, password: object, ip: str, now: datetime
) -> Account:
    """Set a new password with a reset token (docs/accounts.md). Throttled per IP like logins
    (a failed confirm counts as a failed attempt); the token is checked before the password is
    hashed, so bogus tokens cost no argon2 run; success revokes every session and ends every
    other outstanding token of the account."""
    check_password(password)
    invalid = AppError(
        "This reset link is invalid or has expired.", code="INVALID_TOKEN", status=400
    )
    attempt = await throttle.begin_attempt(None, ip, now)
    if not isinstance(token, str) or not token or len(token) > 128:
        raise invalid
    token_hash = sha256_hex(token)
    live = PasswordReset.filter(token_hash=token_hash, used_at=None, expires_at__gt=now)
    reset = await live.first()
    if reset is None:
        raise invalid
    hashed = await passwords.hash_password(password)  # type: ignore[arg-type]  # checked: a str
    async with in_transaction():
        # Claim the token atomically: two concurrent confirms cannot both succeed.
        if await live.update(used_at=now) != 1:
            raise invalid
        await PasswordReset.filter(account_id=reset.account_id, used_at=None).update(used_at=now)
        account = await Account.get(id=reset.account_id)
        account.password_hash = hashed
        await account.save(update_fields=["password_hash"])
        await sessions.revoke_all_sessions(account.id)
    await throttle.succeeded(attempt)
    return account


async def get_account_by_email(email: str) -> Account:
    account = await Account.get_or_none(email=email_key(email))
    if account is None:
        raise NotFound(f"No account with email {email_key(email)!r}.")
    return account


async def set_status(email: str, status: AccountStatus) -> Account:
    account = await get_account_by_email(email)
    account.status = status
    await account.save(update_fields=["status"])
    await keycache.account_changed(account.id)
    return account


async def set_plan(email: str, plan: PlanId, custom_quota: int | None = None) -> Account:
    if custom_quota is not None and custom_quota < 0:
        raise InvalidParameter("quota must be zero or more")
    account = await get_account_by_email(email)
    account.plan = plan
    account.custom_quota = custom_quota
    await account.save(update_fields=["plan", "custom_quota"])
    await keycache.account_changed(account.id)
    return account


async def update_account(
    account: Account,
    *,
    domain: object = ...,
    overage_enabled: object = ...,
    overage_cap: object = ...,
) -> Account:
    fields = []
    if domain is not ...:
        account.domain = normalise_domain(domain)
        fields.append("domain")
    if overage_enabled is not ...:
        if not isinstance(overage_enabled, bool):
            raise InvalidParameter("overageEnabled must be true or false")
        account.overage_enabled = overage_enabled
        fields.append("overage_enabled")
    if overage_cap is not ...:
        account.overage_cap = spending_cap.parse_cap(overage_cap)
        fields.append("overage_cap")
    if fields:
        await account.save(update_fields=fields)
    return account
