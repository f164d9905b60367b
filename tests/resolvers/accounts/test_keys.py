"""API keys: format, lookup by hash, encryption at rest, immediate revocation."""

from __future__ import annotations

import re

import pytest

from models import Account, AccountStatus, ApiKey, SubscriptionStatus
from resolvers.accounts import keys
from resolvers.crypto import SecretBox, sha256_hex
from resolvers.errors import AppError
from tests.conftest import TEST_SECRET


async def _code(raw) -> str:
    with pytest.raises(AppError) as exc:
        await keys.authenticate(raw)
    return f"{exc.value.status} {exc.value.code}"


async def test_key_format_storage_and_lookup(client, signup):
    user = await signup()
    assert re.fullmatch(r"og_[A-Za-z0-9]{32}", user.api_key)
    row = await ApiKey.get(account_id=user.id)
    assert row.key_hash == sha256_hex(user.api_key)
    assert user.api_key not in row.key_encrypted  # encrypted at rest
    assert SecretBox("another-secret-key-of-sufficient-length!!").open(row.key_encrypted) is None
    owner = await keys.authenticate(user.api_key)
    assert owner.account.id == user.id


async def test_regenerate_kills_the_old_key_at_once(client, signup):
    user = await signup()
    account = await Account.get(id=user.id)
    box = SecretBox(TEST_SECRET)
    new_row, new_plain = await keys.regenerate_api_key(account, box)
    assert await _code(user.api_key) == "401 INVALID_API_KEY"
    assert (await keys.authenticate(new_plain)).account.id == user.id
    assert keys.reveal(await keys.active_key(account), box) == new_plain
    assert await ApiKey.filter(account_id=user.id, revoked_at=None).count() == 1
    old = await ApiKey.get(account_id=user.id, revoked_at__not_isnull=True)
    assert old.kid != new_row.kid


async def test_missing_malformed_and_hostile_keys_are_401(client):
    assert await _code(None) == "401 MISSING_API_KEY"
    assert await _code("   ") == "401 MISSING_API_KEY"
    for raw in ("og_short", "x" * 100_000, "og_" + "é" * 32, "og_" + "\x00" * 32, "og_" + "A" * 32):
        assert await _code(raw) == "401 INVALID_API_KEY"


async def test_suspended_and_past_due_accounts(client, signup):
    user = await signup()
    await Account.filter(id=user.id).update(status=AccountStatus.SUSPENDED)
    assert await _code(user.api_key) == "403 SUBSCRIPTION_CANCELED"
    await Account.filter(id=user.id).update(
        status=AccountStatus.ACTIVE, subscription_status=SubscriptionStatus.PAST_DUE
    )
    assert await _code(user.api_key) == "403 PAYMENT_PAST_DUE"


def test_the_key_hash_memo_holds_only_checked_values_exactly_as_sent():
    """key_hash_of memoises X-API-Key values exactly as sent -> the hash of the key they carry
    (whether that key is live is decided by the key cache each time: test_generate's
    regeneration test). A value the check refuses is refused every time and never kept."""
    raw = "og_" + "A1b2" * 8
    assert keys.key_hash_of(raw) == sha256_hex(raw)
    assert keys.key_hash_of(f"  {raw}\t") == sha256_hex(raw)  # the key inside the value
    assert keys._KEY_HASHES[raw] == keys._KEY_HASHES[f"  {raw}\t"] == sha256_hex(raw)
    for hostile in ("og_short", "x" * 100_000, "og_" + "é" * 32, "og_" + "\x00" * 32, "  "):
        for _ in range(2):
            with pytest.raises(AppError) as exc:
                keys.key_hash_of(hostile)
            assert exc.value.status == 401
        assert hostile not in keys._KEY_HASHES
    with pytest.raises(AppError):
        keys.key_hash_of(None)
