"""clients/js/ogapi.mjs against a running server (docs/clients.md), driven by Node through
js_client_check.mjs: every method, a URL signed offline and fetched without a key, batches,
errors and the bounded wait on RATE_LIMITED. Node >= 18 is installed by scripts/setup.sh test."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from models import PlanId

pytestmark = pytest.mark.timeout(120)
HERE = Path(__file__).resolve().parent
CLIENT = HERE.parents[1] / "clients" / "js" / "ogapi.mjs"


@pytest.fixture(scope="module")
def node() -> str:
    path = shutil.which("node")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("node is not installed: scripts/setup.sh test installs Debian's nodejs")
        pytest.skip("node is not installed (apt-get install nodejs)")
    version = subprocess.run([path, "--version"], capture_output=True, text=True, check=True)
    assert int(version.stdout.strip().lstrip("v").split(".")[0]) >= 18
    return path


def test_no_dependencies_and_jsdoc_types():
    source = CLIENT.read_text()
    imports = re.findall(r'^import .* from "([^"]+)";', source, re.M)
    assert imports and all(name.startswith("node:") for name in imports), imports
    for method in ("generate(params)", "signUrl(params", "getUsage()", "batch(items"):
        start = source.index(f"  async {method}")
        assert "@returns {Promise<" in source[source.rindex("/**", 0, start) : start], method


def test_js_client_end_to_end(node, server, account):
    key = account("js@example.com")
    free = account("js-free@example.com", plan=PlanId.FREE)  # 1 request per second
    run = subprocess.run(
        [node, str(HERE / "js_client_check.mjs"), server.base, key.api_key, key.kid, free.api_key],
        capture_output=True, text=True, timeout=90, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    facts = json.loads(run.stdout)
    assert facts["pngMagic"] == "89504e470d0a1a0a"
    assert facts["usage"]["used"] == 1 and facts["usage"]["remaining"] == 49999
    assert facts["signed"] == {"status": 200, "cache": "MISS", "type": "image/png"}
    assert facts["sameAsFunction"] and facts["lazyKid"]
    assert facts["expiring"] == {"hasExp": True, "status": 200}
    assert facts["tamperedStatus"] == 403
    assert [(r["status"], r["code"], r["file"], r["cache"]) for r in facts["batch"]] == [
        ("ok", None, "001.png", "MISS"), ("error", "MISSING_TITLE", None, None),
        ("ok", None, "003.jpeg", "MISS")]  # fmt: skip
    assert facts["batch"][0]["bytes"] > 0 and facts["jpegMagic"] == "ffd8ff"
    assert facts["linked"] == {"status": 200, "cache": "HIT", "same": True}
    assert facts["replaySame"] and facts["usedAfter"] == 5  # 1 + 1 signed + 1 expiring + 2
    assert facts["badKey"] == {"code": "INVALID_API_KEY", "status": 401, "retryAfter": None}
    assert facts["conflict"]["code"] == "IDEMPOTENCY_CONFLICT"
    assert facts["missingTitle"]["code"] == "MISSING_TITLE"
    assert (
        facts["rateLimited"]["code"] == "RATE_LIMITED" and facts["rateLimited"]["retryAfter"] >= 1
    )
    assert facts["waitedMs"] >= 900  # the second generate waited for its turn, then succeeded
    assert facts["network"]["code"] == "NETWORK_ERROR" and facts["network"]["status"] == 0
    assert facts["unzipEmpty"]["code"] == "BAD_ANSWER"
