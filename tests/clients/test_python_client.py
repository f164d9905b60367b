"""clients/python/ogapi_client.py against a running server (docs/clients.md): every method,
a URL signed offline and fetched without a key, per-item batch results, errors and the
bounded wait on RATE_LIMITED."""

from __future__ import annotations

import ast
import io
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from PIL import Image

from models import PlanId

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "clients" / "python"))
from ogapi_client import Client, OgApiError

pytestmark = pytest.mark.timeout(120)
SOURCE = Path(__file__).resolve().parents[2] / "clients" / "python" / "ogapi_client.py"


def fetch(url: str) -> tuple[int, dict, bytes]:
    with urllib.request.urlopen(url, timeout=30) as r:  # no X-API-Key
        return r.status, dict(r.headers), r.read()


def size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        return image.size


def test_one_file_standard_library_only_python_39():
    tree = ast.parse(SOURCE.read_text(), feature_version=(3, 9))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.Import) for alias in node.names}  # fmt: skip
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}  # fmt: skip
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}, imported


def test_generate_usage_and_graphql(server, account):
    key = account("py-gen@example.com")
    client = Client(key.api_key, server.base)
    png = client.generate(title="Hello from Python", width=600, height=315)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and size(png) == (600, 315)
    assert client.generate(title="Hello from Python", width=600, height=315) == png  # a hit
    usage = client.usage()
    assert usage["used"] == 1 and usage["quota"] == 50000 and usage["remaining"] == 49999
    data = client.graphql("query($n: Int) { usage { used } notifications(first: $n) { kind } }",
                          {"n": 5})  # fmt: skip
    assert data["usage"]["used"] == 1 and data["notifications"] == []


def test_url_signed_offline_is_served_without_a_key(server, account):
    key = account("py-sign@example.com")
    offline = Client(key.api_key, server.base, kid=key.kid)
    url = offline.sign_url(title="Signed offline", subtitle="é & ü", width=400, height=210)
    status, headers, body = fetch(url)
    assert status == 200 and headers["X-Cache"] == "MISS" and size(body) == (400, 210)
    expiring = offline.sign_url(expires_in=3600, title="Expiring")
    assert "exp=" in expiring and fetch(expiring)[0] == 200
    # Without a kid the client asks for it once (minting counts nothing), then signs offline.
    asking = Client(key.api_key, server.base)
    assert asking.sign_url(title="Signed offline", subtitle="é & ü", width=400, height=210) == url
    assert asking.kid == key.kid
    assert offline.usage()["used"] == 2
    tampered = url.replace("Signed%20offline", "Signed%20online")
    with pytest.raises(urllib.error.HTTPError) as refused:
        fetch(tampered)
    assert refused.value.code == 403
    refused.value.close()


def test_batch_zip_urls_and_files(server, account, tmp_path):
    key = account("py-batch@example.com", custom_quota=3)
    client = Client(key.api_key, server.base)
    items = [{"title": "B1", "width": 300, "height": 200}, {"subtitle": "no title"},
             {"title": "B2", "format": "jpeg", "width": 300, "height": 200},
             {"title": "B3", "width": 300, "height": 200},
             {"title": "B4", "width": 300, "height": 200}]  # fmt: skip
    results = client.batch(items)
    assert [r["status"] for r in results] == ["ok", "error", "ok", "ok", "error"]
    assert results[1]["code"] == "MISSING_TITLE" and results[4]["code"] == "QUOTA_EXCEEDED"
    assert results[2]["file"] == "003.jpeg" and size(results[2]["image"]) == (300, 200)
    again = client.batch(items[:1], out_dir=str(tmp_path))
    assert again[0]["cache"] == "HIT" and Path(again[0]["path"]).read_bytes() == results[0]["image"]
    linked = client.batch(items[2:3], urls=True)
    status, headers, body = fetch(linked[0]["url"])
    assert status == 200 and headers["X-Cache"] == "HIT" and body == results[2]["image"]
    replay = client.batch(items, idempotency_key="build-1")
    assert client.batch(items, idempotency_key="build-1") == replay
    assert client.usage()["used"] == 3
    with pytest.raises(OgApiError) as conflict:
        client.batch(items[:2], idempotency_key="build-1")
    assert (conflict.value.code, conflict.value.status) == ("IDEMPOTENCY_CONFLICT", 409)


def test_errors_carry_code_status_and_retry_after(server, account):
    key = account("py-errors@example.com", plan=PlanId.FREE)  # 1 request per second
    with pytest.raises(OgApiError) as bad_key:
        Client("og_" + "x" * 32, server.base).usage()
    assert (bad_key.value.code, bad_key.value.status) == ("INVALID_API_KEY", 401)
    client = Client(key.api_key, server.base, max_retries=0)
    with pytest.raises(OgApiError) as missing:
        client.generate(subtitle="no title")
    assert (missing.value.code, missing.value.status) == ("MISSING_TITLE", 400)
    with pytest.raises(OgApiError) as limited:
        client.generate(title="too soon")
    assert limited.value.code == "RATE_LIMITED" and limited.value.status == 429
    assert limited.value.retry_after is not None and limited.value.retry_after >= 1
    time.sleep(1.1)
    patient = Client(key.api_key, server.base, max_retries=3)
    started = time.monotonic()
    assert patient.generate(title="first", width=200, height=200)[:4] == b"\x89PNG"
    assert patient.generate(title="second", width=200, height=200)[:4] == b"\x89PNG"
    assert time.monotonic() - started >= 0.9  # the second waited for its turn
    hasty = Client(key.api_key, server.base, max_retries=3, max_wait=0.5)
    with pytest.raises(OgApiError) as bounded:
        hasty.generate(title="third", width=200, height=200)
    assert bounded.value.code == "RATE_LIMITED"  # a wait over max_wait is not taken
    with pytest.raises(OgApiError) as unreachable:
        Client(key.api_key, "http://127.0.0.1:9").usage()
    assert (unreachable.value.code, unreachable.value.status) == ("NETWORK_ERROR", 0)
    with pytest.raises(OgApiError) as gql:
        Client(key.api_key, server.base).graphql("{ nope }")
    assert gql.value.code and gql.value.status == 200
