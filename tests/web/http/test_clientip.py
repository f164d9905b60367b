"""Client addresses behind trusted proxies (login throttling per IP, /metrics' loopback rule)."""

from __future__ import annotations

import pytest

from models import LoginFailure
from web.settings import ConfigError, Settings, parse_networks


async def _fail_login(client, forwarded: str) -> None:
    await client.post(
        "/api/auth/login",
        json={"email": "x@example.com", "password": "wrong password!"},
        headers={"X-Forwarded-For": forwarded},
    )


async def test_forwarded_for_is_ignored_without_trusted_proxies(client):
    await _fail_login(client, "203.0.113.7")
    assert (await LoginFailure.get()).ip == "127.0.0.1"


async def test_trusted_proxy_reveals_the_client(aiohttp_client, make_app):
    client = await aiohttp_client(
        make_app(trusted_proxies=parse_networks("127.0.0.0/8, 10.0.0.0/8"))
    )
    # The client may forge the left part; the right-most untrusted hop is what our proxy saw.
    await _fail_login(client, "198.51.100.1, 203.0.113.7, 10.1.2.3")
    assert (await LoginFailure.get()).ip == "203.0.113.7"
    # /metrics: a remote client behind the proxy is not loopback.
    resp = await client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.7"})
    assert resp.status == 403
    assert (await client.get("/metrics")).status == 200


def test_bad_proxy_setting_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="OGAPI_TRUSTED_PROXIES: not an IP"):
        Settings.from_env({"OGAPI_DATA_DIR": str(tmp_path), "OGAPI_TRUSTED_PROXIES": "lb.internal"})
