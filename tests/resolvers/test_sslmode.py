"""`DATABASE_URL?sslmode=` means what libpq means (models/db.py), against a real PostgreSQL
that speaks TLS with a self-signed certificate for 127.0.0.1."""

from __future__ import annotations

import pytest
from tortoise import connections

from models.db import connection_config
from tests import services
from tests.resolvers.conftest import on_database


@pytest.fixture(scope="module")
def tls_postgres():
    if services.postgres_bin() is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    with services.postgres_server(tls=True) as url:
        yield url


async def _encrypted(url: str) -> bool:
    async with on_database(url):
        rows = await connections.get("default").execute_query_dict(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
        )
        return rows[0]["ssl"]


async def test_disable_is_plain_tcp(tls_postgres):
    assert await _encrypted(f"{tls_postgres}?sslmode=disable") is False


async def test_require_encrypts_without_checking_a_self_signed_certificate(tls_postgres):
    assert await _encrypted(f"{tls_postgres}?sslmode=require") is True


async def test_verify_ca_checks_the_chain(tls_postgres):
    with pytest.raises(Exception, match=r"(?i)certificate verify failed"):
        await _encrypted(f"{tls_postgres}?sslmode=verify-ca")
    cert = services.postgres_cert(tls_postgres)
    assert await _encrypted(f"{tls_postgres}?sslmode=verify-ca&sslrootcert={cert}") is True
    # Any host name: the certificate names 127.0.0.1 only.
    by_name = tls_postgres.replace("127.0.0.1", "localhost")
    assert await _encrypted(f"{by_name}?sslmode=verify-ca&sslrootcert={cert}") is True


async def test_verify_full_checks_the_host_name_too(tls_postgres):
    cert = services.postgres_cert(tls_postgres)
    assert await _encrypted(f"{tls_postgres}?sslmode=verify-full&sslrootcert={cert}") is True
    by_name = tls_postgres.replace("127.0.0.1", "localhost")
    with pytest.raises(Exception, match=r"(?i)hostname|match"):
        await _encrypted(f"{by_name}?sslmode=verify-full&sslrootcert={cert}")


async def test_require_refuses_a_server_without_tls(postgres_url):
    with pytest.raises(Exception, match=r"(?i)ssl|tls"):
        await _encrypted(f"{postgres_url}?sslmode=require")
    assert await _encrypted(f"{postgres_url}?sslmode=prefer") is False  # falls back to plain


def test_bad_modes_are_refused_with_a_clear_message():
    with pytest.raises(ValueError, match="unknown sslmode 'bogus'"):
        connection_config("postgres://u:p@db/og?sslmode=bogus")
    with pytest.raises(ValueError, match="use sslmode="):
        connection_config("postgres://u:p@db/og?ssl=true")
    config = connection_config("postgresql://u:p%40ss@db:6543/og?sslmode=disable&maxsize=9")
    assert config["credentials"] == {
        "host": "db", "port": 6543, "user": "u", "password": "p@ss", "database": "og",
        "maxsize": "9", "ssl": False,
    }  # fmt: skip


def test_settings_refuse_a_bad_sslmode_at_start_up():
    from web.settings import ConfigError, Settings

    env = {"SECRET_KEY": "x" * 40, "DATABASE_URL": "postgres://u@db/og?sslmode=required"}
    with pytest.raises(ConfigError, match="unknown sslmode 'required'"):
        Settings.from_env(env)
    env["DATABASE_URL"] = "postgres://u@db/og?sslmode=verify-full&sslrootcert=/nonexistent.pem"
    with pytest.raises(ConfigError, match="No such file"):
        Settings.from_env(env)
