"""scripts/setup.sh's apt path, on a view of this machine without the system packages.

The README says the scripts work on a fresh Debian machine. Containers from a registry are not
available to the tests, so this builds the fresh machine's view with a private mount namespace
(`unshare -m`, root only): PostgreSQL, redis-server, Chromium, Node, the DejaVu font, ensurepip
and the libraries `ldconfig -p` lists are hidden; `apt-get` is a shim that records each call and
hands `install` to the real apt-get as a simulation (`-s`) against an empty dpkg status, so apt
resolves exactly the script's list from this release's archive as for a machine with nothing
installed. pip is a stand-in that answers as pip does, so the script's progress and stamps run.

What this proves: which packages the script asks for on such a machine (the exact list, in
order, with its flags), that Debian resolves that list with every dependency, and that the
script then goes on to the venv and the install with its progress. What it does not: the real
download and installation (maintainer scripts, e.g. PostgreSQL's first cluster), a real pip
install from PyPI, or other Debian releases than this machine's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HIDE_DIRS = ["/usr/lib/postgresql", "/usr/share/fonts/truetype/dejavu"]
HIDE_FILES = ["/usr/bin/chromium"]  # checked by its path; the rest by PATH, which lacks them
# What the script runs (a fresh Debian has these): the only commands on its PATH.
TOOLS = ["bash", "sh", "dirname", "grep", "ls", "id", "python3", "awk", "tee", "tail", "rm",
         "touch", "cat", "mkdir", "env"]  # fmt: skip
TEST_PACKAGES = ["libfribidi0", "libharfbuzz0b", "redis-server", "postgresql", "chromium",
                 "nodejs", "npm", "fonts-dejavu-core", "python3-venv"]  # fmt: skip
RUN_PACKAGES = ["libfribidi0", "libharfbuzz0b", "python3-venv"]

if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("apt-get"):
    pytest.skip("needs root, unshare and apt-get (a Debian machine)", allow_module_level=True)

FAKE_PIP = """#!/bin/sh
# A stand-in for .venv/bin/python: records pip's arguments and answers as pip does.
echo "$*" >> "$PIP_LOG"
case "$*" in *" -r "*) printf 'Collecting aiohttp==3.14.5 (from -r x (line 1))\\nCollecting \
yarl==1.22.0\\nInstalling collected packages: yarl, aiohttp\\n' ;; esac
"""
APT_SHIM = """#!/bin/sh
echo "$*" >> "$APT_LOG"
[ "$1" = update ] && exit 0  # no network: this machine's package lists are used as they are
PATH=/usr/sbin:/usr/bin:/sbin:/bin exec "$REAL_APT" -s -o Dir::State::status="$EMPTY_STATUS" "$@"
"""
LDCONFIG_SHIM = """#!/bin/sh
echo "0 libs found in cache \\`/etc/ld.so.cache'"
"""
ENSUREPIP = 'raise ImportError("hidden: python3-venv is not installed on this machine")\n'


def _fresh_view(tmp: Path) -> str:
    """Shell lines that build the fresh machine's view inside the mount namespace, and its PATH
    (a directory holding only TOOLS and the apt-get and ldconfig shims)."""
    import ensurepip

    real_apt = tmp / "apt-get.real"
    shutil.copy2(shutil.which("apt-get") or "", real_apt)
    for name, body in (("apt-get", APT_SHIM), ("ldconfig", LDCONFIG_SHIM),
                       ("ensurepip.py", ENSUREPIP)):  # fmt: skip
        (tmp / name).write_text(body)
        (tmp / name).chmod(0o755)
    bin_ = tmp / "bin"
    bin_.mkdir()
    for tool in TOOLS:
        (bin_ / tool).symlink_to(shutil.which(tool) or f"/usr/bin/{tool}")
    for shim in ("apt-get", "ldconfig"):
        (bin_ / shim).symlink_to(tmp / shim)
    lines = ["set -e"]
    lines += [f"mount -t tmpfs none {d}" for d in HIDE_DIRS if Path(d).is_dir()]
    lines += [f"mount --bind /dev/null {f}" for f in HIDE_FILES if Path(f).exists()]
    lines += [f"mount --bind {tmp / 'ensurepip.py'} {ensurepip.__file__}", f"export PATH={bin_}"]
    (tmp / "status").write_text("")
    return "\n".join(lines)


@pytest.mark.parametrize(("mode", "packages"), [("test", TEST_PACKAGES), ("run", RUN_PACKAGES)])
def test_setup_installs_what_a_fresh_machine_lacks_then_goes_on(tmp_path, mode, packages):
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    for name in ("scripts/setup.sh", "requirements.txt", "requirements-test.txt",
                 "pyproject.toml"):  # fmt: skip
        shutil.copy2(ROOT / name, repo / name)
    (repo / ".venv/bin").mkdir(parents=True)
    (repo / ".venv/bin/python").write_text(FAKE_PIP)
    (repo / ".venv/bin/python").chmod(0o755)
    view = _fresh_view(tmp_path)
    env = {**os.environ, "APT_LOG": str(tmp_path / "apt.log"), "PIP_LOG": str(tmp_path / "pip.log"),
           "EMPTY_STATUS": str(tmp_path / "status"), "REAL_APT": str(tmp_path / "apt-get.real"),
           "PYTHON": "python3"}  # fmt: skip
    script = f"{view}\ncd {repo}\nexec bash scripts/setup.sh {mode}\n"
    out = subprocess.run(["unshare", "-m", "--propagation", "private", "bash", "-c", script],
                         env=env, capture_output=True, text=True, timeout=600)  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    calls = (tmp_path / "apt.log").read_text().splitlines()
    assert calls == ["update -qq", "install -y -qq --no-install-recommends " + " ".join(packages)]
    assert f"==> apt-get install {' '.join(packages)}" in out.stdout
    # … then it goes on: the locked packages with their progress, the package itself, a stamp.
    lock = "requirements-test.txt" if mode == "test" else "requirements.txt"
    pip = (tmp_path / "pip.log").read_text()
    assert f"--require-hashes -r {lock}" in pip and "--no-deps -e ." in pip
    total = sum("==" in line for line in (repo / lock).read_text().splitlines())
    assert f"[1/{total}] aiohttp" in out.stdout and f"[2/{total}] yarl" in out.stdout
    assert "==> installed" in out.stdout
    assert (repo / f".venv/.installed-{lock.removesuffix('.txt')}").exists()
    # The machine itself is unchanged: the view was private to the namespace.
    assert Path(sys.executable).exists() and "apt-get.real" not in (shutil.which("apt-get") or "")
