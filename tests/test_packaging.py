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
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(path: Path) -> dict[str, tuple[str, Marker | None]]:
    """Each pin of a lock file, which must carry the sha256 of its files (--require-hashes)."""
    out = {}
    for line in path.read_text().replace("\\\n", " ").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            pin, *hashes = line.split(" --hash=")
            assert hashes and all(
                re.fullmatch(r"sha256:[0-9a-f]{64}", h.strip()) for h in hashes
            ), pin
            req = Requirement(pin)
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


def test_requires_python_admits_only_the_python_ci_tests():
    """CI runs Debian's python3.11 (scripts/setup.sh's `python3`, `.python-version`): the package
    claims that minor and no other."""
    wanted = (ROOT / ".python-version").read_text().strip()
    major, minor = (int(n) for n in wanted.split("."))
    admitted = SpecifierSet(PYPROJECT["project"]["requires-python"])
    assert f"{major}.{minor}.0" in admitted and f"{major}.{minor}.99" in admitted
    assert f"{major}.{minor + 1}.0" not in admitted and f"{major}.{minor - 1}.99" not in admitted
    assert sys.version_info[:2] == (major, minor)  # this run is on that Python


def test_ogapi_version():
    out = subprocess.run(
        [sys.executable, "-m", "web.cli.main", "--version"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert out.returncode == 0
    assert out.stdout.strip() == f"ogapi {PYPROJECT['project']['version']}"


def _spec(name: str):
    for dep in PYPROJECT["project"]["dependencies"]:
        req = Requirement(dep)
        if _norm(req.name) == name:
            return req.specifier
    raise AssertionError(f"{name} is not a dependency")


def test_bounds_match_the_code():
    """The versions the code works with (docs/architecture.md, "Library internals")."""
    (build,) = PYPROJECT["build-system"]["requires"]
    setuptools = Requirement(build).specifier
    assert "77.0" in setuptools and "76.1" not in setuptools  # PEP 639 `license = "MIT"`
    gunicorn = _spec("gunicorn")  # control_socket_disable (web/cli/gunicorn_conf.py) is 25.1's
    assert "25.1.0" in gunicorn and "25.0.0" not in gunicorn and "24.1.1" not in gunicorn
    # Libraries whose internals we touch: a ceiling each.
    assert "1.1.9" in _spec("tortoise-orm") and "1.2.0" not in _spec("tortoise-orm")
    assert "0.12.3" in _spec("aiocache") and "0.13.0" not in _spec("aiocache")
    assert "0.22.1" in _spec("aiosqlite") and "1.0.0" not in _spec("aiosqlite")
    # Stripe: one major is one API version; the gateway and tests/stripe_fake.py speak one.
    major = int(version("stripe").split(".")[0])
    stripe = _spec("stripe")
    assert f"{major}.0.0" in stripe
    assert f"{major + 1}.0.0" not in stripe and f"{major - 1}.99.0" not in stripe
    redis = _spec("redis")
    assert version("redis") in redis
    assert any(s.operator in ("<", "<=") for s in redis), "redis needs a ceiling"


def test_deptry_ignores_only_what_the_code_does_not_import():
    """A package the code imports by name needs no DEP002 ignore (a stale one hides a real
    finding if the import goes away)."""
    import ast
    from importlib.metadata import packages_distributions

    imported: set[str] = set()
    for package in ("web", "schema", "resolvers", "render", "models"):
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    imported |= {a.name.split(".")[0] for a in node.names}
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    imported.add(node.module.split(".")[0])
    by_module = packages_distributions()  # scans every installed distribution: call it once
    dists = {_norm(d) for module in imported for d in by_module.get(module, [])}
    ignored = {_norm(n) for n in PYPROJECT["tool"]["deptry"]["per_rule_ignores"]["DEP002"]}
    assert ignored & dists == set()


def test_licence_file_and_ignored_env():
    assert PYPROJECT["project"]["license"] == "MIT"
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License\n") and "Permission is hereby granted" in text
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert ".env" in ignored
