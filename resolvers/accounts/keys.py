"""API keys: `og_` + 32 alphanumerics, looked up by SHA-256, shown decrypted, revoked at once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.transactions import in_transaction

from models import Account, AccountStatus, ApiKey, SubscriptionStatus
from models.native import get_by_pk
from resolvers.accounts import keycache
from resolvers.accounts.key_owner import KeyOwner
from resolvers.accounts.keycache import KeyCache
from resolvers.crypto import SecretBox, random_token, sha256_hex
from resolvers.errors import AppError, Unauthorized
from resolvers.memo import BoundedMap

KEY_PREFIX = "og_"
KEY_LENGTH = len(KEY_PREFIX) + 32


def generate_api_key() -> str:
    return KEY_PREFIX + random_token(32)


def looks_like_key(raw: str) -> bool:
    return (
        len(raw) == KEY_LENGTH
        and raw.startswith(KEY_PREFIX)
        and raw[3:].isascii()
        and raw[3:].isalnum()
    )


async def issue_key(account: Account, box: SecretBox) -> tuple[ApiKey, str]:
    """Create a new active key for the account; returns the row and the plain key."""
    plain = generate_api_key()
    key = await ApiKey.create(
        account=account,
        key_hash=sha256_hex(plain),
        key_encrypted=box.seal(plain),
        kid=random_token(16).lower(),
    )
    return key, plain


async def active_keys(account_ids: Sequence[int]) -> dict[int, ApiKey]:
    """Each account's live key; should an account have several, its newest (highest id) wins."""
    rows = await ApiKey.filter(account_id__in=list(account_ids), revoked_at=None).order_by("id")
    return {k.account_id: k for k in rows}


async def active_key(account: Account) -> ApiKey | None:
    return (await active_keys([account.id])).get(account.id)


async def regenerate_api_key(account: Account, box: SecretBox) -> tuple[ApiKey, str]:
    """Revoke every live key and issue a new one, in one transaction.

    Then the account is evicted from the key caches of this process and announced to the other
    workers (resolvers.accounts.keycache) before this returns, so the old key and the signed URLs
    minted from it stop working everywhere at once.
    """
    async with in_transaction():
        await ApiKey.filter(account_id=account.id, revoked_at=None).update(
            revoked_at=datetime.now(UTC)
        )
        issued = await issue_key(account, box)
    await keycache.account_changed(account.id)
    return issued


def reveal(key: ApiKey, box: SecretBox) -> str | None:
    return box.open(key.key_encrypted)


@dataclass(frozen=True)
class KeyRows:
    """A key's database rows, its account and the `ApiKey` (`authenticate`). The image hot
    path's cached owner of a key is `KeyOwner` (resolvers/accounts/key_owner.py)."""

    account: Account
    key: ApiKey


def check_account_usable(account: Account | KeyOwner) -> None:
    """Suspended or unpaid accounts may not use the API (docs/rest-api.md, Errors)."""
    if account.status == AccountStatus.SUSPENDED:
        raise AppError(
            "This account is suspended. Contact support.", code="SUBSCRIPTION_CANCELED", status=403
        )
    if account.subscription_status in (SubscriptionStatus.PAST_DUE, SubscriptionStatus.UNPAID):
        raise AppError(
            "Payment is past due. Update your payment method in the billing portal.",
            code="PAYMENT_PAST_DUE",
            status=403,
        )


def _checked(raw: str | None) -> str:
    if raw is None or raw.strip() == "":
        raise Unauthorized(
            "Missing API key. Send it in the X-API-Key header.", code="MISSING_API_KEY"
        )
    raw = raw.strip()
    if not looks_like_key(raw):
        raise Unauthorized("Invalid API key.")
    return raw


# X-API-Key header values exactly as sent -> the SHA-256 hex of the key they carry: the check
# and the hash are a pure function of the raw value, so a repeated caller skips them. Only
# the hash is memoised (which key is live is still decided by the key cache on every request);
# plaintext keys are in this process's memory anyway (signing derives from them).
_KEY_HASHES: BoundedMap[str, str] = BoundedMap(10_000)


def key_hash_of(raw: str | None) -> str:
    """The SHA-256 hex of the key in an X-API-Key value, or the 401 of a malformed one."""
    if raw is not None and (known := _KEY_HASHES.get(raw)) is not None:
        return known
    key_hash = sha256_hex(_checked(raw))
    _KEY_HASHES.put(raw, key_hash)  # type: ignore[arg-type]  # _checked refused None
    return key_hash


async def authenticate_cached(raw: str | None, cache: KeyCache) -> KeyOwner:
    """`authenticate` for the image hot path: the owner as a `KeyOwner`, from the process's
    key cache (resolvers.accounts.keycache) when it holds a fresh entry, else from the database."""
    snap = await cache.by_hash(key_hash_of(raw))
    if snap is None:
        raise Unauthorized("Invalid API key.")
    check_account_usable(snap)
    return snap


async def usable_account(account_id: int) -> Account:
    """The full account row, checked again (a render reads the database anyway: exact)."""
    account = await get_by_pk(Account, account_id)  # Account.get(id=…), less Python
    check_account_usable(account)
    return account


async def authenticate(raw: str | None) -> KeyRows:
    """Resolve an `X-API-Key` value to its full account (read from the database), or raise the
    401/403 of docs/rest-api.md (Errors)."""
    raw = _checked(raw)
    key = await ApiKey.get_or_none(key_hash=sha256_hex(raw), revoked_at=None).select_related(
        "account"
    )
    if key is None:
        raise Unauthorized("Invalid API key.")
    check_account_usable(key.account)
    return KeyRows(key.account, key)
