"""Logs under gunicorn (`ogapi serve`): configured by the app factory, text or LOG_FORMAT=json,
read from a real server's stderr (web/http/logs.py)."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import aiohttp

from tests.services import free_port
from tests.web.cli.test_serve import ROOT, _env, _wait_health


async def _serve(tmp_path: Path, **env: str):
    port = free_port()
    log_path = tmp_path / "stderr.log"
    log = log_path.open("wb")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "web.cli.main", "serve", "--port", str(port),
        cwd=ROOT, env=_env(tmp_path, **env), stdout=log, stderr=log,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    await _wait_health(base)
    return proc, base, log, log_path


async def _stop(proc, log) -> None:
    proc.terminate()
    await asyncio.wait_for(proc.wait(), 30)
    log.close()


async def _reset_mail(http: aiohttp.ClientSession, base: str, email: str) -> None:
    signup = {"email": email, "password": "correct horse battery"}
    async with http.post(f"{base}/api/auth/signup", json=signup) as r:
        assert r.status == 201, await r.text()
    async with http.post(f"{base}/api/auth/password-reset", json={"email": email}) as r:
        assert r.status in (200, 202), await r.text()


async def test_info_lines_and_outbox_mail_appear_under_gunicorn(tmp_path):
    proc, base, log, path = await _serve(tmp_path)
    try:
        async with aiohttp.ClientSession() as http:
            await _reset_mail(http, base, "text-logs@example.com")
            async with http.get(f"{base}/api/templates") as r:
                rid = r.headers["X-Request-ID"]
    finally:
        await _stop(proc, log)
    text = path.read_text()
    assert "INFO ogapi.mail mail (no SMTP configured) to=text-logs@example.com" in text
    assert '"GET /api/templates HTTP/1.1" 200' in text and f"rid={rid}" in text


async def test_json_logs_are_one_object_per_line(tmp_path):
    proc, base, log, path = await _serve(
        tmp_path, LOG_FORMAT="json", OGAPI_ENV="production", BASE_URL="https://og.example.com"
    )
    try:
        async with aiohttp.ClientSession() as http:
            await _reset_mail(http, base, "json-logs@example.com")
            headers = {"X-Forwarded-For": "203.0.113.9"}  # as a proxy on this host would send
            async with http.get(f"{base}/api/templates", headers=headers) as r:
                rid = r.headers["X-Request-ID"]
            async with http.get(f"{base}/api/templates/nope/preview.png") as r:
                assert r.status == 404
    finally:
        await _stop(proc, log)
    lines = [json.loads(line) for line in path.read_text().splitlines()]  # every line: JSON
    (access,) = [x for x in lines if x.get("request_id") == rid and x["logger"] == "ogapi.access"]
    assert access["route"] == "/api/templates" and access["path"] == "/api/templates"
    assert access["status"] == 200 and access["method"] == "GET"
    assert isinstance(access["duration_ms"], float) and access["duration_ms"] >= 0
    assert access["remote"] == "127.0.0.1"
    missing = [x for x in lines if x.get("path") == "/api/templates/nope/preview.png"]
    assert (
        missing[0]["route"] == "/api/templates/{name}/preview.png" and missing[0]["status"] == 404
    )
    mail = [x for x in lines if x["logger"] == "ogapi.mail"]
    assert "json-logs@example.com" in mail[0]["message"]
    warnings = [x["message"] for x in lines if x["logger"] == "ogapi.clientip"]
    assert any("listening on 127.0.0.1 (loopback) in production" in w for w in warnings)
    assert sum("X-Forwarded-For, but OGAPI_TRUSTED_PROXIES is unset" in w for w in warnings) == 1
    assert any(x["logger"] == "gunicorn.error" for x in lines)  # gunicorn's own lines too
