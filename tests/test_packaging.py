"""The lock and the install: a plain install runs every mode, and tests run the locked set."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(path: Path) -> dict[str, tuple[str, Marker | None]]:
    out = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            req = Requirement(line)
            (spec,) = req.specifier
            assert spec.operator == "==", line
            out[_norm(req.name)] = (spec.version, req.marker)
    return out


def test_production_drivers_are_dependencies_not_extras():
    deps = {_norm(Requirement(d).name) for d in PYPROJECT["project"]["dependencies"]}
    assert {"asyncpg", "redis", "gunicorn", "uvloop", "prometheus-client"} <= deps
    extras = PYPROJECT["project"].get("optional-dependencies", {})
    assert set(extras) == {"test"}  # nothing production needs hides behind an extra


def test_the_lock_pins_every_dependency_and_the_tests_run_the_locked_versions():
    runtime = _pins(ROOT / "requirements.txt")
    for dep in PYPROJECT["project"]["dependencies"]:
        req = Requirement(dep)
        version_, _ = runtime[_norm(req.name)]  # every direct dependency is pinned
        assert req.specifier.contains(version_), (dep, version_)
    test_lock = _pins(ROOT / "requirements-test.txt")
    for name, (pinned, _) in runtime.items():
        assert test_lock[name][0] == pinned  # the same runtime set under test as in production
    for name, (pinned, marker) in test_lock.items():
        if marker is None or marker.evaluate():
            assert version(name) == pinned, name  # scripts/setup.sh installed the lock


def test_python_version_file_matches_requires_python():
    wanted = (ROOT / ".python-version").read_text().strip()
    assert PYPROJECT["project"]["requires-python"] == f">={wanted}"


def test_ogapi_version():
    out = subprocess.run(
        [sys.executable, "-m", "web.cli", "--version"], capture_output=True, text=True, cwd=ROOT
    )
    assert out.returncode == 0
    assert out.stdout.strip() == f"ogapi {PYPROJECT['project']['version']}"
