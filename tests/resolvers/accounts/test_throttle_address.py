"""The throttles count a client address by `resolvers.accounts.auth_throttle.address_key`: an IPv6
/64 is one address, an IPv4-mapped IPv6 address is its IPv4 (docs/accounts.md)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from resolvers.accounts import auth_throttle as throttle
from resolvers.errors import TooManyRequests

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def test_address_key():
    assert throttle.address_key("2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64"
    assert throttle.address_key("::ffff:192.0.2.5") == "192.0.2.5"
    assert throttle.address_key("192.0.2.5") == "192.0.2.5"
    assert throttle.address_key("not an address") == "not an address"


async def test_login_failures_count_an_ipv6_64_as_one_address(db):
    for n in range(throttle.MAX_PER_IP):
        await throttle.begin_attempt(None, f"2001:db8:5:6::{n + 1:x}", NOW)
    with pytest.raises(TooManyRequests) as refused:
        await throttle.begin_attempt(None, "2001:db8:5:6:abcd::1", NOW)
    assert refused.value.code == "TOO_MANY_ATTEMPTS"
    await throttle.begin_attempt(None, "2001:db8:5:7::1", NOW)  # another /64
