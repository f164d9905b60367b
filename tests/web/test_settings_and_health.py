"""Settings from the environment, and the health/readiness probes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from web.settings import ConfigError, Settings

README = Path(__file__).resolve().parents[2] / "README.md"
SETTINGS_SOURCE = Path(__file__).resolve().parents[2] / "web" / "settings.py"
# Every variable Settings.from_env reads, straight from its source: a new one must be documented.
ENV_VARS = sorted(
    set(
        re.findall(
            r'(?:env\.get\(|_int\(env, |_bool\(env, |_networks\(env, )"([A-Z][A-Z0-9_]+)"',
            SETTINGS_SOURCE.read_text(),
        )
    )
)


def test_defaults_generate_and_keep_a_development_secret(tmp_path):
    env = {"OGAPI_DATA_DIR": str(tmp_path)}
    first = Settings.from_env(env)
    assert first.port == 8080 and first.host == "127.0.0.1" and not first.production
    assert first.database_url == f"sqlite://{tmp_path}/ogapi.sqlite3"
    assert first.base_url == "http://127.0.0.1:8080"
    assert Settings.from_env(env).secret_key == first.secret_key  # kept under the data dir


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"OGAPI_ENV": "production"}, "SECRET_KEY and BASE_URL"),
        ({"OGAPI_ENV": "production", "SECRET_KEY": "s" * 40}, "BASE_URL"),
        (
            {"OGAPI_ENV": "production", "SECRET_KEY": "short", "BASE_URL": "https://x"},
            "at least 32",
        ),
        ({"OGAPI_ENV": "staging"}, "development or production"),
        (
            {
                "OGAPI_ENV": "production",
                "SECRET_KEY": "s" * 40,
                "BASE_URL": "https://x",
                "OGAPI_ALLOW_PRIVATE_FETCH": "1",
            },
            "tests only",
        ),
        ({"PORT": "eighty"}, "PORT must be a whole number"),
        ({"SMTP_STARTTLS": "maybe"}, "SMTP_STARTTLS must be 0 or 1"),
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL must start with"),
        ({"OGAPI_RENDER_NICE": "20"}, "OGAPI_RENDER_NICE must be at most 19"),
        ({"OGAPI_RENDER_NICE": "-1"}, "OGAPI_RENDER_NICE must be at least 0"),
    ],
)
def test_bad_configuration_is_a_clear_error(tmp_path, env, message):
    with pytest.raises(ConfigError, match=message):
        Settings.from_env({"OGAPI_DATA_DIR": str(tmp_path), **env})


def test_every_variable_is_documented_in_the_readme():
    assert len(ENV_VARS) >= 20 and "OGAPI_TRUSTED_PROXIES" in ENV_VARS
    text = README.read_text()
    missing = [name for name in ENV_VARS if not re.search(rf"`{name}`", text)]
    assert missing == []


async def test_health_and_ready(client):
    resp = await client.get("/health")
    assert resp.status == 200 and (await resp.json())["status"] == "ok"
    resp = await client.get("/ready")
    assert resp.status == 200 and (await resp.json())["checks"]["database"] == "ok"
    assert resp.headers["X-Request-ID"]


async def test_unknown_errors_are_json_500_without_internals(aiohttp_client, make_app):
    app = make_app()

    async def boom(request):
        raise RuntimeError("secret internals /etc/passwd")

    app.router.add_get("/api/boom", boom)
    client = await aiohttp_client(app)
    resp = await client.get("/api/boom", headers={"X-Request-ID": "req-12345678"})
    body = await resp.json()
    assert resp.status == 500 and body["code"] == "INTERNAL_ERROR"
    assert "internals" not in body["message"] and body["request_id"] == "req-12345678"


async def test_ready_reports_each_dependency(aiohttp_client, make_app):
    from web.appkeys import image_service_key

    app = make_app()
    client = await aiohttp_client(app)
    body = await (await client.get("/ready")).json()
    assert body["checks"] == {"database": "ok", "cache": "ok", "render_pool": "ok",
                              "image_store": "ok"}  # fmt: skip

    async def broken() -> bool:
        raise ConnectionError("cache down")

    app[image_service_key].cache.ping = broken
    resp = await client.get("/ready")
    body = await resp.json()
    assert resp.status == 503 and body["status"] == "unavailable"
    assert body["checks"]["cache"] == "error: ConnectionError"
