"""scripts/rehouse.py, the codemod of the house move (docs/architecture.md): old import paths,
dotted strings and file paths become the new ones, and a second run changes nothing."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("rehouse", ROOT / "scripts" / "rehouse.py")
assert _spec and _spec.loader
rehouse = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rehouse)

OLD = '''\
"""Reads resolvers.keys.usable_account; see resolvers/fetcher.py."""
from unittest import mock

from resolvers import accounts, ledger, quota
from resolvers.errors import AppError
from resolvers.fetcher import RemoteImageFetcher  # the client
from resolvers.reports.pages import edges
from web import cli, settings
import web.cli_store as store

if TYPE_CHECKING:
    from resolvers.key_owner import KeySnapshot

patch = mock.patch("resolvers.keys.usable_account")
worker = "web.gunicorn_worker:Worker"
command = ["python", "-m", "web.cli", "migrate"]
'''

NEW = '''\
"""Reads resolvers.accounts.keys.usable_account; see resolvers/fetch/fetcher.py."""
from unittest import mock

from resolvers.accounts import accounts
from resolvers.ledger import entries as ledger
from resolvers.metering import quota
from resolvers.errors import AppError
from resolvers.fetch.fetcher import RemoteImageFetcher  # the client
from resolvers.reports.pagination import edges
from web.cli import main as cli
from web import settings
import web.cli.store as store

if TYPE_CHECKING:
    from resolvers.accounts.key_owner import KeySnapshot

patch = mock.patch("resolvers.accounts.keys.usable_account")
worker = "web.cli.gunicorn_worker:Worker"
command = ["python", "-m", "web.cli.main", "migrate"]
'''


def test_rewrites_imports_strings_and_paths() -> None:
    assert rehouse.Rehouse(ROOT).rewrite(OLD) == NEW


def test_a_second_run_changes_nothing() -> None:
    rh = rehouse.Rehouse(ROOT)
    assert rh.rewrite(NEW) == NEW


def test_text_files_get_dotted_names_and_paths() -> None:
    rh = rehouse.Rehouse(ROOT)
    procfile = "web: gunicorn -c python:web.gunicorn_conf web.app:gunicorn_app"
    assert (
        rh.rewrite(procfile, "")
        == "web: gunicorn -c python:web.cli.gunicorn_conf web.app:gunicorn_app"
    )
    doc = (
        "`resolvers/ledger.py` builds, `resolvers/posting.py` writes; `web.middleware`, web/cli.py"
    )
    new = "`resolvers/ledger/entries.py` builds, `resolvers/ledger/posting.py` writes; " + (
        "`web.http.middleware`, web/cli/main.py"
    )
    assert rh.rewrite(doc, ".md") == new
    assert rh.rewrite(new, ".md") == new


def test_import_linter_module_lists_are_left_alone() -> None:
    rh = rehouse.Rehouse(ROOT)
    toml = 'forbidden_modules = ["web.cli"]\nignore_imports = ["resolvers.fetcher -> aiohttp"]\n'
    new = (
        'forbidden_modules = ["web.cli"]\nignore_imports = ["resolvers.fetch.fetcher -> aiohttp"]\n'
    )
    assert rh.rewrite(toml, ".toml") == new


def test_the_repository_is_on_the_new_paths() -> None:
    """Nothing left on an old path: run `.venv/bin/python scripts/rehouse.py` if this fails."""
    assert rehouse.main(["--check"]) == 0


def test_python_code_in_a_string_gets_its_imports_rewritten() -> None:
    rh = rehouse.Rehouse(ROOT)
    old = 'CODE = """\nfrom web import gcpause\nfrom resolvers import ledger\n"""\n'
    new = 'CODE = """\nfrom web.cli import gcpause\n' + (
        'from resolvers.ledger import entries as ledger\n"""\n'
    )
    assert rh.rewrite(old) == new
    assert rh.rewrite(new) == new
