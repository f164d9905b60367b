"""The `ogapi` CLI, run as a real subprocess against a temporary SQLite database."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


@pytest.fixture
def run(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite://{tmp_path}/cli.sqlite3",
        "OGAPI_DATA_DIR": str(tmp_path / "data"),
    }
    env.pop("OGAPI_ENV", None)

    def call(*args: str, extra_env: dict | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "web.cli.main", *args],
            env={**env, **(extra_env or {})},
            capture_output=True,
            text=True,
            timeout=60,
        )

    return call


def test_migrate_create_user_set_plan_and_suspend(run):
    assert run("migrate").returncode == 0
    assert run("migrate").returncode == 0  # idempotent
    out = run(
        "admin", "create-user", "Ops@Example.com", "--password", "long enough pw", "--plan", "pro"
    )
    assert out.returncode == 0, out.stderr
    assert "email: ops@example.com" in out.stdout and "plan: pro" in out.stdout
    assert "password:" not in out.stdout  # only printed when generated
    assert out.stdout.count("api_key: og_") == 1

    out = run("admin", "set-plan", "ops@example.com", "agency", "--quota", "123456")
    assert out.returncode == 0 and "custom quota 123456" in out.stdout
    out = run("admin", "suspend", "ops@example.com")
    assert out.returncode == 0 and "suspended" in out.stdout
    out = run("admin", "unsuspend", "ops@example.com")
    assert out.returncode == 0 and "active" in out.stdout


def test_generated_password_is_printed(run):
    out = run("admin", "create-user", "gen@example.com")
    assert out.returncode == 0
    assert "password: " in out.stdout


def test_bad_input_exits_non_zero_with_clear_messages(run):
    out = run("admin", "set-plan", "nobody@example.com", "pro")
    assert out.returncode == 1 and "No account with email 'nobody@example.com'" in out.stderr
    out = run("admin", "set-plan", "nobody@example.com", "gold")
    assert out.returncode == 2 and "unknown plan 'gold'" in out.stderr
    out = run("admin", "set-plan", "nobody@example.com", "pro", "--quota", "-5")
    assert out.returncode == 2
    out = run("admin", "create-user", "not-an-email")
    assert out.returncode == 1 and "email is not a valid email address" in out.stderr
    run("admin", "create-user", "dup@example.com")
    out = run("admin", "create-user", "dup@example.com")
    assert out.returncode == 1 and "already exists" in out.stderr


def test_workers_on_sqlite_are_refused(run):
    out = run("serve", "--workers", "2")
    assert out.returncode == 2 and "SQLite" in out.stderr


def test_production_requires_secret_and_base_url(run):
    out = run("migrate", extra_env={"OGAPI_ENV": "production"})
    assert out.returncode == 2
    assert "SECRET_KEY" in out.stderr and "BASE_URL" in out.stderr


def test_serve_flags_reach_base_url(run, tmp_path):
    """`ogapi serve --port P` without BASE_URL: links the server prints point at port P."""
    import json
    import time
    import urllib.request

    from tests.services import free_port

    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite://{tmp_path}/serve.sqlite3",
        "OGAPI_DATA_DIR": str(tmp_path / "data"),
        "OGAPI_RENDER_WORKERS": "0",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "web.cli.main", "serve", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/templates") as resp:
                    body = json.load(resp)
                break
            except OSError:
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        assert body["templates"][0]["preview_url"].startswith(f"http://127.0.0.1:{port}/")
    finally:
        proc.terminate()
        proc.wait(10)
