"""The examples of docs/clients.md, run as written against a running server: the static-site
build script (a rerun with nothing changed makes no request) and the seed's checkQuota."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ogapi_client import Client
from PIL import Image

from tests.clients.test_js_client import node  # noqa: F401  # the fixture

pytestmark = pytest.mark.timeout(120)
ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "clients.md").read_text()


def block(language: str, marker: str) -> str:
    for code in re.findall(rf"```{language}\n(.*?)```", DOC, re.S):
        if marker in code:
            return code
    raise AssertionError(f"no ```{language} block with {marker!r} in docs/clients.md")


def post(folder: Path, slug: str, title: str, description: str) -> None:
    text = f'---\ntitle: "{title}"\ndescription: {description}\nauthor: Ada\n---\n\nBody.\n'
    (folder / f"{slug}.md").write_text(text)


def build(tmp: Path, base_url: str, api_key: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "OGAPI_KEY": api_key, "OGAPI_URL": base_url,
           "SITE_URL": "https://blog.example.com", "PYTHONPATH": str(tmp)}  # fmt: skip
    return subprocess.run([sys.executable, str(tmp / "og_build.py"), str(tmp / "posts"),
                           str(tmp / "public")], env=env, capture_output=True, text=True,
                          timeout=90, check=False)  # fmt: skip


def test_static_site_build_script(server, account, tmp_path):
    key = account("build@example.com")
    (tmp_path / "og_build.py").write_text(block("python", '"""og_build.py'))
    shutil.copy(ROOT / "clients" / "python" / "ogapi_client.py", tmp_path)
    posts = tmp_path / "posts"
    posts.mkdir()
    post(posts, "hello", "Hello, world", "The first post")
    post(posts, "cjk", "東京の開発者会議", "Notes & thoughts <2026>")
    post(posts, "third", "A third post", "More")
    first = build(tmp_path, server.base, key.api_key)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "3 images made, 0 unchanged, 0 failed"
    og = tmp_path / "public" / "og"
    with Image.open(og / "cjk.png") as image:
        assert image.size == (1200, 630)
    tags = (og / "cjk.html").read_text()
    assert '<meta property="og:image" content="https://blog.example.com/og/cjk.png">' in tags
    assert 'content="東京の開発者会議"' in tags and "twitter:card" in tags
    # Nothing changed: no request at all (nothing listens on port 9).
    rerun = build(tmp_path, "http://127.0.0.1:9", key.api_key)
    assert rerun.returncode == 0, rerun.stderr
    assert rerun.stdout.strip() == "0 images made, 3 unchanged, 0 failed"
    post(posts, "third", "A third post, retitled", "More")
    edited = build(tmp_path, server.base, key.api_key)
    assert edited.stdout.strip() == "1 images made, 2 unchanged, 0 failed", edited.stderr
    assert Client(key.api_key, server.base).usage()["used"] == 4


def test_check_quota_as_written(node, server, account):  # noqa: F811  # the fixture
    nearly_out = account("quota90@example.com", custom_quota=10)
    plenty = account("quota0@example.com")
    from ogapi_client import Client

    items = [{"title": f"q{i}", "width": 200, "height": 200} for i in range(10)]
    assert [r["status"] for r in Client(nearly_out.api_key, server.base).batch(items)] == [
        "ok"
    ] * 10
    client_js = (ROOT / "clients" / "js" / "ogapi.mjs").as_uri()
    script = (
        f'import {{ OgImageClient }} from "{client_js}";\n'
        "const notes = [];\n"
        "const notifyAdmin = (message) => notes.push(message);\n"
        "for (const apiKey of process.argv.slice(2)) {\n"
        f'  const client = new OgImageClient({{ apiKey, baseUrl: "{server.base}" }});\n'
        + block("javascript", "async function checkQuota()")
        + "  console.log(JSON.stringify({ ok: await checkQuota(), notes }));\n"
        "  notes.length = 0;\n"
        "}\n"
    )
    run = subprocess.run([node, "--input-type=module", "-", nearly_out.api_key, plenty.api_key],
                         input=script, capture_output=True, text=True, timeout=60,
                         check=False)  # fmt: skip
    assert run.returncode == 0, run.stderr
    first, second = (json.loads(line) for line in run.stdout.splitlines())
    assert first == {"ok": False, "notes": ["OG Image quota nearly exhausted"]}
    assert second == {"ok": True, "notes": []}
