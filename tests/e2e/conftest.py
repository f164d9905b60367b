"""The dashboard in a real browser: Debian's Chromium driven by Playwright (never downloaded:
`playwright install` is not used), against a real aiohttp server on 127.0.0.1 started once per
session in a background thread (so tests can move its clock), a real SMTP server (aiosmtpd)
for reset mail, and `ogapi demo`'s data created by the real command.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import TEST_SECRET, Clock, Inbox
from tests.services import free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "correct horse battery"

if not Path(CHROMIUM).exists():  # scripts/setup.sh test installs it
    pytest.skip(f"{CHROMIUM} is not installed (scripts/setup.sh test)", allow_module_level=True)
playwright_sync = pytest.importorskip("playwright.sync_api")
playwright_sync.expect.set_options(timeout=10_000)  # CI machines are slower than laptops


class LiveServer:
    """create_app() on a real socket, in a thread with its own event loop."""

    def __init__(self, settings, clock: Clock) -> None:
        self.settings, self.clock = settings, clock
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="live-server", daemon=True)
        self.error: BaseException | None = None

    @property
    def url(self) -> str:
        return self.settings.base_url

    def _run(self) -> None:
        from aiohttp import web

        from web.app import create_app

        asyncio.set_event_loop(self.loop)
        try:
            self.runner = web.AppRunner(create_app(self.settings, clock=self.clock))
            self.loop.run_until_complete(self.runner.setup())
            site = web.TCPSite(self.runner, "127.0.0.1", self.settings.port)
            self.loop.run_until_complete(site.start())
        except BaseException as exc:
            self.error = exc
            self._ready.set()
            return
        self._ready.set()
        self.loop.run_forever()
        self.loop.run_until_complete(self.runner.cleanup())
        self.loop.close()

    def start(self) -> None:
        self._thread.start()
        self._ready.wait(30)
        if self.error:
            raise self.error

    def call(self, coro):
        """Run a coroutine on the server's loop (its database connection) and wait for it."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(30)


@dataclass
class Env:
    server: LiveServer
    inbox: Inbox
    demo: dict[str, str]
    counter: Iterator[int] = field(default_factory=lambda: iter(range(10_000)))

    @property
    def url(self) -> str:
        return self.server.url

    def email(self, prefix: str = "user") -> str:
        return f"{prefix}{next(self.counter)}@example.com"


def _ogapi(args: list[str], env: dict[str, str]) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "web.cli.main", *args],
        env=env, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return out.stdout


@pytest.fixture(scope="package")
def live(tmp_path_factory) -> Iterator[Env]:
    from aiosmtpd.controller import Controller

    from web.settings import Settings

    tmp = tmp_path_factory.mktemp("e2e")
    db = f"sqlite://{tmp / 'e2e.sqlite3'}"
    port, smtp_port = free_port(), free_port()
    env = {**os.environ, "DATABASE_URL": db, "SECRET_KEY": TEST_SECRET,
           "BASE_URL": f"http://127.0.0.1:{port}", "OGAPI_DATA_DIR": str(tmp)}  # fmt: skip
    demo = dict(re.findall(r"^(\w+): (\S+)$", _ogapi(["demo", "--seed", "7"], env), re.M))
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    settings = Settings(
        secret_key=TEST_SECRET,
        database_url=db,
        port=port,
        base_url=f"http://127.0.0.1:{port}",
        render_workers=0,
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        smtp_from="OG Image API <noreply@og.test>",
        signups_per_hour=0,  # the session's tests sign up more than 10 accounts from here
        allow_private_fetch=True,  # the share check reads pages served on loopback
    )
    server = LiveServer(settings, Clock())
    server.start()
    try:
        yield Env(server, inbox, demo)
    finally:
        server.stop()
        smtp.stop()


@pytest.fixture(scope="package")
def browser(live):
    """One Chromium for tests/e2e, closed before other packages run: while Playwright's sync
    API is open it marks its event loop as running in this thread, which async tests cannot
    share (and the live server's database context must end before theirs begin)."""
    with playwright_sync.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    asyncio.events._set_running_loop(None)  # left marked by its last call; nothing runs it


class Watch:
    """What a page did: console errors, page errors, requests (to spot other origins)."""

    def __init__(self, page, base: str) -> None:
        self.base = base
        self.errors: list[str] = []
        self.requests: list = []
        self.expected: list[str] = []  # e.g. the browser's own log line for an expected 401
        self.other_origins: list[str] = []  # where a test means to go (Stripe's pages)
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", lambda r: self.requests.append(r))

    def foreign(self) -> list[str]:
        return [
            r.url for r in self.requests
            if not r.url.startswith((self.base + "/", "blob:", "data:", *self.other_origins))
        ]  # fmt: skip

    def graphql(self) -> list:
        return [r for r in self.requests if r.url == self.base + "/graphql"]


@pytest.fixture
def context_factory(browser, live):
    made = []

    def make(width: int = 1280, scheme: str = "light", base_url: str | None = None, **kw):
        ctx = browser.new_context(
            viewport={"width": width, "height": 900}, color_scheme=scheme,
            timezone_id="UTC", base_url=base_url or live.url, accept_downloads=True, **kw,
        )  # fmt: skip
        ctx.set_default_timeout(15_000)
        made.append(ctx)
        return ctx

    yield make
    for ctx in made:
        ctx.close()


@pytest.fixture
def page_factory(context_factory, live):
    """(page, watch) pairs; every page is checked for console errors and foreign requests
    when the test ends."""
    watches = []

    def make(**kw):
        page = context_factory(**kw).new_page()
        watch = Watch(page, kw.get("base_url") or live.url)
        watches.append(watch)
        return page, watch

    yield make
    for watch in watches:
        errors = [e for e in watch.errors if not any(x in e for x in watch.expected)]
        assert errors == [], errors
        assert watch.foreign() == [], watch.foreign()


def login(page, email: str, password: str, next_path: str = "/dashboard") -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**{next_path}")
    if next_path == "/dashboard":
        page.wait_for_selector("body[data-loaded]")


def signup(page, email: str, password: str = PASSWORD) -> None:
    page.goto("/signup")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url("**/dashboard")
    page.wait_for_selector("body[data-loaded]")


def axe_check(page, label: str) -> None:
    """axe-core (shipped by axe-playwright-python): no serious or critical violation."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    bad = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], f"{label}: {bad}"
