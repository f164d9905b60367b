"""Every documented example marked `doctest` (README.md and docs/*.md: ```sh doctest,
```bash doctest, ```console doctest, ```python doctest, ```js doctest) runs as written against
a real `ogapi serve`, so the docs cannot drift from the product.

Each block runs on its own, in a fresh directory, with BASE_URL, OGAPI_KEY and OGAPI_KID set
as the docs tell readers to set them; the one substitution is the README's `localhost:8080`
(the first run's address) for this server's. A block passes when it exits 0, with `curl`
failing on any HTTP error; Python and JavaScript examples must print something; every URL of
this server an example prints must answer 200; every image an example writes must be one.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import TEST_SECRET
from tests.services import free_port

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(sh|bash|console|python|js) doctest\n(.*?)^```$", re.S | re.M)
# curl fails on an HTTP error unless the example already chose how (-f / --fail).
PRELUDE = """curl() {
  case " $* " in *" -sf "*|*" -f "*|*" --fail "*) command curl "$@" ;;
    *) command curl --fail-with-body "$@" ;; esac
}
"""
MAGIC = (b"\x89PNG", b"RIFF", b"\xff\xd8\xff")


def _examples() -> list:
    out = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for m in FENCE.finditer(text):
            line = text[: m.start()].count("\n") + 1
            out.append(pytest.param(m.group(1), m.group(2), id=f"{doc.name}:{line}:{m.group(1)}"))
    return out


EXAMPLES = _examples()


def _console(block: str) -> str:
    """The commands of a console transcript: lines after "$ " and their continuations."""
    commands, more = [], False
    for line in block.splitlines():
        if line.startswith("$ ") or more:
            commands.append(line[2:] if line.startswith("$ ") and not more else line)
            more = line.endswith("\\")
    return "\n".join(commands) + "\n"


def _get(url: str, **headers: str) -> tuple[int, bytes]:
    req = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[dict[str, str]]:
    """`ogapi serve` on a fresh SQLite database, and a Pro account's key and kid."""
    tmp = tmp_path_factory.mktemp("docs")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "SECRET_KEY": TEST_SECRET, "OGAPI_DATA_DIR": str(tmp),
           "OGAPI_RENDER_WORKERS": "0", "BASE_URL": base}  # fmt: skip
    for name in ("OGAPI_ENV", "DATABASE_URL", "REDIS_URL", "STRIPE_SECRET_KEY"):
        env.pop(name, None)
    cli = [sys.executable, "-m", "web.cli.main"]
    subprocess.run([*cli, "migrate"], env=env, cwd=ROOT, check=True, capture_output=True)
    create = [*cli, "admin", "create-user", "docs@example.com", "--plan", "pro"]
    made = subprocess.run(create, env=env, cwd=ROOT, check=True, capture_output=True, text=True)
    key = re.search(r"og_[A-Za-z0-9]{32}", made.stdout).group(0)
    log = (tmp / "serve.log").open("wb")
    proc = subprocess.Popen([*cli, "serve", "--port", str(port)], env=env, cwd=ROOT,
                            stdout=log, stderr=log)  # fmt: skip
    try:
        for _ in range(600):
            try:
                if _get(f"{base}/health")[0] == 200:
                    break
            except OSError:
                pass
            assert proc.poll() is None, (tmp / "serve.log").read_text()
            time.sleep(0.1)
        status, body = _get(f"{base}/api/signed/generate?title=kid", **{"X-API-Key": key})
        assert status == 200, body
        kid = json.loads(body)["kid"]
        yield {"BASE_URL": base, "OGAPI_KEY": key, "OGAPI_KID": kid}
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()


def test_the_docs_have_examples_of_every_kind():
    kinds = {p.values[0] for p in EXAMPLES}
    assert {"bash", "sh", "console", "python", "js"} <= kinds, kinds
    assert {p.id.split(":")[0] for p in EXAMPLES} >= {"README.md", "rest-api.md", "graphql.md",
                                                      "signed-urls.md", "metering.md"}  # fmt: skip


@pytest.mark.parametrize(("kind", "block"), EXAMPLES)
def test_documented_example_runs(server, tmp_path, kind, block):
    base = server["BASE_URL"]
    block = re.sub(r"(https?://)?(localhost|127\.0\.0\.1):8080", base, block)
    env = {**os.environ, **server}
    if kind in ("sh", "bash", "console"):
        script = PRELUDE + (_console(block) if kind == "console" else block)
        cmd = ["bash", "-e", "-o", "pipefail", "-c", script]
    elif kind == "python":
        (tmp_path / "example.py").write_text(block)
        cmd = [sys.executable, "example.py"]
    else:
        if shutil.which("node") is None:  # scripts/setup.sh test installs Debian's nodejs
            pytest.skip("node is not installed (scripts/setup.sh test)")
        (tmp_path / "example.mjs").write_text(block)
        cmd = ["node", "example.mjs"]
    out = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, f"exit {out.returncode}\n{out.stdout}\n{out.stderr}"
    if kind in ("python", "js", "console"):
        assert out.stdout.strip(), "the example prints nothing"
    for url in re.findall(re.escape(base) + r"/[^\s\"'\\<>]+", out.stdout):
        if "&amp;" not in url:  # the same URL, HTML-escaped in a <meta> block
            assert _get(url)[0] == 200, url
    for image in tmp_path.glob("*"):
        if image.suffix in (".png", ".webp", ".jpg", ".jpeg"):
            assert image.read_bytes().startswith(MAGIC), image.name
