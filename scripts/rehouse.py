"""The house move of issue #17: resolvers/ and web/ in domain rooms (docs/architecture.md).

Re-runnable codemod holding the old -> new module mapping. It rewrites, in every tracked text
file under the repository (or the paths given):

- `import x.y [as z]`, `from x.y import a`, `from x import y` (a moved module keeps its local
  name with `as`: `from resolvers import ledger` -> `from resolvers.ledger import entries as
  ledger`);
- dotted names in strings and comments, e.g. mock.patch("resolvers.keys.usable_account"),
  "web.gunicorn_worker:Worker", `python -m web.cli`;
- file paths such as `resolvers/fetcher.py` (also in docs, scripts and pyproject.toml).

It is idempotent: a name already on its new path is left alone. After it, run
`ruff check --fix . && ruff format .` (import order). `--move` also performs the `git mv`s
(done once, by the move itself).

    .venv/bin/python scripts/rehouse.py [--move] [--check] [PATH ...]
"""

from __future__ import annotations

import argparse
import ast
import io
import re
import shutil
import subprocess
import sys
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_R = {
    # kernel tier: rate limiting primitives (memory or Redis)
    "ratelimit": "limits.per_second",  # GCRA: requests per second with a burst
    "window_limit": "limits.per_window",  # N per fixed window (an hour, 15 minutes)
    # accounts
    "accounts": "accounts.accounts",
    "keys": "accounts.keys",
    "keycache": "accounts.keycache",
    "key_owner": "accounts.key_owner",
    "sqlite_changes": "accounts.sqlite_changes",
    "sessions": "accounts.sessions",
    "passwords": "accounts.passwords",
    "throttle": "accounts.auth_throttle",  # logins and sign-ups
    "origin": "accounts.origin",  # CSRF: allowed origins, the same-site check
    # ledger
    "ledger": "ledger.entries",
    "posting": "ledger.posting",
    "exports": "ledger.exports",
    "spending_cap": "ledger.spending_cap",  # overage per month never passes the account's cap
    # metering
    "metering": "metering.meter",
    "quota": "metering.quota",
    "quota_headers": "metering.quota_headers",
    "rate_gate": "metering.plan_rate",  # a plan's requests per second, for Meter
    "api_calls": "metering.api_calls",
    "alerts": "metering.alerts",
    # remote fetching (SSRF policy, limits): images, templates and insight use it
    "fetcher": "fetch.fetcher",
    "fetch_policy": "fetch.policy",
    "fetch_limits": "fetch.limits",
    "image_check": "fetch.image_check",
    # images
    "params": "images.params",
    "renders": "images.renders",
    "signing": "images.signing",
    "cache": "images.cache",
    "memory_lru": "images.memory_lru",
    "tierstats": "images.tierstats",
    "imagestore": "images.store",
    "s3store": "images.s3store",
    "store_tier": "images.store_tier",
    "batch": "images.batch",
    "previews": "images.previews",
    "render_report": "images.render_report",
    # billing
    "billing": "billing.checkout_flow",
    "stripe_api": "billing.stripe_api",
    "stripe_sync": "billing.stripe_sync",
    "stripe_budget": "billing.stripe_budget",
    "checkouts": "billing.checkouts",
    "subscriptions": "billing.subscriptions",
    "disputes": "billing.disputes",
    "invoices": "billing.invoices",
    "purchases": "billing.purchases",
    "replaced": "billing.replaced",
    "webhooks": "billing.webhooks",
    # insight: link previews (crawlers, the share check, signed-card fetches)
    "crawlers": "insight.crawlers",
    "fetch_log": "insight.fetch_log",
    "share_check": "insight.share_check",
    "share_rules": "insight.share_rules",
    "page_meta": "insight.page_meta",
    # reports
    "demo": "reports.demo",
    "reports.pages": "reports.pagination",
}
_HTTP = (
    "middleware",
    "bodies",
    "callers",
    "clientip",
    "headers",
    "logs",
    "metrics",
    "tiermetrics",
    "zipstream",
)
_ROUTES = (
    "admin", "apidoc", "auth", "batch", "billing", "exports", "fonts", "graphql", "health",
    "images", "pages", "playground", "share_check", "templates", "usage", "webhook_endpoints",
)  # fmt: skip
_W = {
    **{m: f"http.{m}" for m in _HTTP},
    **{m: f"routes.{m}" for m in _ROUTES},
    "cli": "cli.main",
    "cli_metering": "cli.metering",
    "cli_store": "cli.store",
    "serve": "cli.serve",
    "gunicorn_conf": "cli.gunicorn_conf",
    "gunicorn_worker": "cli.gunicorn_worker",
    "gcpause": "cli.gcpause",
}
MODULES: dict[str, str] = {
    **{f"resolvers.{k}": f"resolvers.{v}" for k, v in _R.items()},
    **{f"web.{k}": f"web.{v}" for k, v in _W.items()},
}

# Test files that moved with their domain (paths only: tests are not imported by module).
_T = {
    "accounts": ("keycache", "keys", "sqlite_changes", "throttle_address"),
    "billing": ("billing_db", "billing_states"),
    "fetch": ("fetcher",),
    "images": ("imagestore_s3", "params", "signing"),
    "insight": ("crawlers", "share_check_fuzz"),
    "ledger": ("exports", "ledger", "ledger_states", "ledger_totals", "spending_cap"),
    "limits": ("ratelimit",),
    "metering": ("alerts", "quota"),
    "notify": ("webhook_delivery",),
    "reports": ("fetch_rows", "reports_databases"),
}
_TW = {
    "cli": ("cli", "cli_admin", "cli_stripe", "serve", "serve_boot"),
    "http": (
        "clientip",
        "fuzz_http",
        "hostile_input",
        "http_edges",
        "logs",
        "metrics",
        "usage_headers",
    ),
    "routes": (
        "account_hardening",
        "admin_api",
        "auth",
        "batch",
        "billing_checkout",
        "billing_disputes",
        "billing_one_subscription",
        "billing_state_rules",
        "billing_stripe_budget",
        "spending_cap",
        "cache_isolation",
        "crawler_rate",
        "custom_templates",
        "exports",
        "generate",
        "image_store",
        "link_previews",
        "openapi",
        "pages",
        "password_reset",
        "preview",
        "render_report",
        "reservation_sweep",
        "share_check",
        "signed",
        "signup_throttle",
        "sqlite_write_locks",
        "stripe_webhooks",
        "studio_preview",
        "templates_api",
        "usage_api",
        "fonts",
        "webhooks_api",
    ),
}
TEST_PATHS: dict[str, str] = {
    **{
        f"tests/resolvers/test_{t}.py": f"tests/resolvers/{d}/test_{t}.py"
        for d, ts in _T.items()
        for t in ts
    },
    **{f"tests/web/test_{t}.py": f"tests/web/{d}/test_{t}.py" for d, ts in _TW.items() for t in ts},
}

TEST_MODULES = {o[:-3].replace("/", "."): n[:-3].replace("/", ".") for o, n in TEST_PATHS.items()}

TEXT_SUFFIXES = {".py", ".md", ".toml", ".sh", ".cfg", ".ini", ".yaml", ".yml", ".txt", ".graphql"}
TEXT_NAMES = {"Procfile", "Makefile"}
SKIP = {"scripts/rehouse.py", "tests/test_rehouse.py"}  # they hold the old names on purpose

_ROOTS = ("resolvers", "web", "tests")
_DOTTED = re.compile(r"(?<![\w.])((?:resolvers|web|tests)(?:\.\w+)+)")
_IMPORT_LINE = re.compile(r"\s*(from \S+ import |import )")
_LITERAL = re.compile(r"([rRuU]?)(\"\"\"|\'\'\')(.*)\2", re.S)
_CONTRACT_LIST = re.compile(r"\s*(source_modules|forbidden_modules|containers|modules)\s*=")
_PATH = re.compile(r"(?<![\w/.-])((?:resolvers|web|tests)(?:/\w+)+\.py)\b")


def _new_modules(root: Path) -> set[str]:
    """Every module of the new tree: the mapping's targets, their packages and what is on disk."""
    names = set()
    for new in MODULES.values():
        parts = new.split(".")
        names.update(".".join(parts[:i]) for i in range(2, len(parts) + 1))
    for pkg in ("resolvers", "web"):
        for p in (root / pkg).rglob("*.py"):
            rel = p.relative_to(root).with_suffix("").parts
            names.add(".".join(rel[:-1] if rel[-1] == "__init__" else rel))
    return names


class Rehouse:
    def __init__(self, root: Path = ROOT) -> None:
        self.root = root
        self.new = _new_modules(root)
        # test modules that moved (once they have: until then the old ones are real)
        self.tests = {
            o: n
            for o, n in TEST_MODULES.items()
            if not (root / (o.replace(".", "/") + ".py")).exists()
        }

    def resolve(self, dotted: str) -> str:
        """`dotted` on its new path: the longest known prefix decides (new wins over old)."""
        parts = dotted.split(".")
        for i in range(len(parts), 0, -1):
            head = ".".join(parts[:i])
            if head in self.tests:
                return ".".join([self.tests[head], *parts[i:]])
            if head in MODULES:
                return ".".join([MODULES[head], *parts[i:]])
            if head in self.new:
                return dotted
        return dotted

    # imports -------------------------------------------------------------------------------

    def _import_from(self, node: ast.ImportFrom) -> list[str]:
        mod = node.module or ""
        groups: dict[str, list[str]] = {}
        for a in node.names:
            full = f"{mod}.{a.name}"
            if a.name != "*" and full in self.new and full not in MODULES:
                target_mod, name = mod, a.name  # already a new submodule
            elif a.name != "*" and full in MODULES:
                target_mod, _, name = MODULES[full].rpartition(".")
            else:
                target_mod, name = self.resolve(mod), a.name
            local = a.asname or (a.name if name != a.name else None)
            if a.asname:  # an explicit alias stays, `x as x` (a re-export) too
                groups.setdefault(target_mod, []).append(f"{name} as {a.asname}")
                continue
            groups.setdefault(target_mod, []).append(
                name if local in (None, name) else f"{name} as {local}"
            )
        return [f"from {m} import {', '.join(ns)}" for m, ns in groups.items()]

    def _import(self, node: ast.Import) -> list[str]:
        out = []
        for a in node.names:
            new = self.resolve(a.name)
            out.append(f"import {new}" + (f" as {a.asname}" if a.asname else ""))
        return out

    def _imports(self, text: str) -> str:
        try:
            tree = ast.parse(text)
        except SyntaxError:
            return text
        lines = text.splitlines(keepends=True)
        edits = []
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                if node.module.split(".")[0] not in _ROOTS:
                    continue
                new = self._import_from(node)
            elif isinstance(node, ast.Import):
                if not any(a.name.split(".")[0] in _ROOTS for a in node.names):
                    continue
                new = self._import(node)
            else:
                continue
            first, last = node.lineno - 1, (node.end_lineno or node.lineno) - 1
            old = "".join(lines[first : last + 1])
            indent = old[: len(old) - len(old.lstrip())]
            if old[len(indent) :].split("\n")[0].rstrip().endswith(";") or node.col_offset != len(
                indent
            ):
                continue  # not alone on its lines: leave it to a human
            comments = [
                c.strip()
                for ln in lines[first : last + 1]
                if "#" in ln
                for c in [ln[ln.index("#") :]]
            ]
            body = [indent + s for s in new]
            if comments:
                body[-1] += "  " + "  ".join(comments)
            rebuilt = "\n".join(body) + "\n"
            if _norm(rebuilt) != _norm(old):
                edits.append((first, last, rebuilt))
        for first, last, rebuilt in sorted(edits, reverse=True):
            lines[first : last + 1] = [rebuilt]
        return "".join(lines)

    # strings, comments, paths --------------------------------------------------------------

    def _dotted(self, pattern: re.Pattern[str], text: str) -> str:
        return pattern.sub(lambda m: self.resolve(m.group(1)), text)

    def _path(self, text: str) -> str:
        def one(m: re.Match[str]) -> str:
            path = m.group(1)
            if path in TEST_PATHS and not (self.root / path).exists():
                return TEST_PATHS[path]
            if path.startswith("tests/"):
                return path
            dotted = path[:-3].replace("/", ".")
            if dotted.endswith(".__init__"):
                return path
            return self.resolve(dotted).replace(".", "/") + ".py"

        return _PATH.sub(one, text)

    def _dotted_text(self, text: str) -> str:
        """Dotted names, but not in import lines (`_snippet` did those: `web.cli` there is the
        package already)."""
        return "".join(
            ln if _IMPORT_LINE.match(ln) else self._dotted(_DOTTED, ln)
            for ln in text.splitlines(keepends=True)
        )

    def _snippet(self, literal: str) -> str:
        """Imports in a string literal that is itself Python (`python -c` code in a test)."""
        m = _LITERAL.fullmatch(literal)
        if not m or "import" not in m.group(3):
            return literal
        return m.group(1) + m.group(2) + self._imports(m.group(3)) + m.group(2)

    def _python_tokens(self, text: str) -> str:
        """Dotted names and file paths in strings and comments (code is left to `_imports`)."""
        try:
            tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
        except (tokenize.TokenError, SyntaxError):
            return text
        lines = text.splitlines(keepends=True)
        offsets = [0]
        for ln in lines:
            offsets.append(offsets[-1] + len(ln))
        spans = []
        for t in tokens:
            if t.type in (tokenize.STRING, tokenize.COMMENT):
                a = offsets[t.start[0] - 1] + t.start[1]
                b = offsets[t.end[0] - 1] + t.end[1]
                spans.append((a, b))
        out, pos = [], 0
        for a, b in spans:
            out.append(text[pos:a])
            out.append(self._path(self._dotted_text(self._snippet(text[a:b]))))
            pos = b
        out.append(text[pos:])
        return "".join(out)

    def rewrite(self, text: str, suffix: str = ".py") -> str:
        if suffix == ".py":
            return self._python_tokens(self._imports(text))
        # import-linter's module lists name packages (`web.cli`), never the old modules
        return "".join(
            ln if _CONTRACT_LIST.match(ln) else self._path(self._dotted(_DOTTED, ln))
            for ln in text.splitlines(keepends=True)
        )


def _norm(s: str) -> str:
    return " ".join(s.replace("(", " ").replace(")", " ").replace(",", " ").split())


def _git(root: Path, *args: str) -> str:
    git = shutil.which("git") or "git"
    return subprocess.run([git, *args], cwd=root, capture_output=True, text=True, check=True).stdout  # noqa: S603


def _files(root: Path, paths: list[str]) -> list[Path]:
    listed = _git(root, "ls-files", "--cached", "--others", "--exclude-standard", *paths).split()
    out = []
    for rel in listed:
        p = root / rel
        if rel in SKIP or not p.is_file():
            continue
        if p.suffix in TEXT_SUFFIXES or p.name in TEXT_NAMES:
            out.append(p)
    return out


def move(root: Path) -> None:
    """`git mv` every module still on its old path; new packages get an `__init__.py`."""
    for old, new in MODULES.items():
        src = root / (old.replace(".", "/") + ".py")
        dst = root / (new.replace(".", "/") + ".py")
        if not src.exists():
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        init = dst.parent / "__init__.py"
        _git(root, "mv", str(src), str(dst))
        if not init.exists():
            init.write_text("")
            _git(root, "add", str(init))


def move_tests(root: Path) -> None:
    """`git mv` every test file still on its old path into its domain's folder."""
    for old, new in TEST_PATHS.items():
        src, dst = root / old, root / new
        if src.exists():
            dst.parent.mkdir(parents=True, exist_ok=True)
            if not (dst.parent / "__init__.py").exists():
                (dst.parent / "__init__.py").write_text("")
                _git(root, "add", str(dst.parent / "__init__.py"))
            _git(root, "mv", str(src), str(dst))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("paths", nargs="*", help="files or folders (default: the whole repository)")
    ap.add_argument("--move", action="store_true", help="git mv the old modules first")
    ap.add_argument("--move-tests", action="store_true", help="git mv the old test files first")
    ap.add_argument("--check", action="store_true", help="list files that would change; exit 1")
    args = ap.parse_args(argv)
    if args.move:
        move(ROOT)
    if args.move_tests:
        move_tests(ROOT)
    rh = Rehouse(ROOT)
    changed = []
    for p in _files(ROOT, args.paths):
        try:
            text = p.read_text()
        except UnicodeDecodeError:
            continue
        new = rh.rewrite(text, ".py" if p.suffix == ".py" else p.suffix)
        if new != text:
            changed.append(p.relative_to(ROOT))
            if not args.check:
                p.write_text(new)
    for c in changed:
        print(c)
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    sys.exit(main())
