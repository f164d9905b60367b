"""docs/openapi.yaml against the app: valid OpenAPI, every route listed, and real answers.

The schemathesis run sends generated requests (valid and invalid) for every operation to a
real aiohttp server on 127.0.0.1, with a real API key, admin token and session, and checks each
answer: never a 5xx, a documented status and content type, documented headers present and well
formed, and a body that matches its schema. Examples per operation: OGAPI_OPENAPI_EXAMPLES
(default 12 in CI; e.g. 200 to dig deeper locally).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import shutil
import threading
from pathlib import Path

import pytest
import schemathesis
import yaml
from aiohttp import web
from hypothesis import HealthCheck, settings
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from models import Account, PlanId
from resolvers.accounts.accounts import create_account
from resolvers.accounts.keys import active_key, reveal
from resolvers.images.signing import CONTROL, signed_query
from tests.conftest import PASSWORD, TEST_SECRET
from web.app import create_app
from web.appkeys import secret_box_key
from web.settings import Settings

SPEC_PATH = Path(__file__).resolve().parents[3] / "docs" / "openapi.yaml"
SPEC = yaml.safe_load(SPEC_PATH.read_text())
EXAMPLES = int(os.environ.get("OGAPI_OPENAPI_EXAMPLES", "12"))
ADMIN_TOKEN = "admin-token-for-the-openapi-test-0123456789"
METHODS = {"get", "post", "put", "patch", "delete"}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
PNG = (Path(__file__).resolve().parents[3] / "docs" / "img" / "templates.png").read_bytes()


def _spec_operations() -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, item in SPEC["paths"].items()
        for method in item
        if method in METHODS
    }


def _app_routes(app: web.Application) -> set[tuple[str, str]]:
    out = set()
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        path = info.get("path") or info.get("formatter")
        if path is None or route.method in ("HEAD", "*"):
            continue  # aiohttp's automatic HEAD for each GET; static files have a prefix
        out.add((route.method, path))
    return out


def test_spec_is_valid_openapi_31():
    assert SPEC["openapi"].startswith("3.1")
    validate(SPEC)


def test_spec_lists_every_route(tmp_path):
    settings = Settings(secret_key=TEST_SECRET, database_url=f"sqlite://{tmp_path}/x.sqlite3",
                        admin_token=ADMIN_TOKEN, render_workers=0)  # fmt: skip
    routes = _app_routes(create_app(settings))
    spec = _spec_operations()
    assert routes - spec == set(), "routes missing from docs/openapi.yaml"
    assert spec - routes == set(), "docs/openapi.yaml lists routes the app does not have"


def test_every_error_code_raised_is_documented():
    """Each `code="…"` the code raises is documented: web/'s in the spec; the service layer's
    in the spec or a docs/ page (codes only GraphQL answers, e.g. billing's)."""
    root = SPEC_PATH.parents[1]
    spec = SPEC_PATH.read_text()
    pages = spec + "".join(p.read_text() for p in (root / "docs").glob("*.md"))

    def codes(folder: str) -> set[str]:
        pattern = re.compile(r'code(?:=|, status =|\s*=)\s*"([A-Z][A-Z_]+)"')
        return {c for p in (root / folder).rglob("*.py") for c in pattern.findall(p.read_text())}

    generic = {"INTERNAL_ERROR", "HTTP_ERROR", "CONFLICT", "SERVICE_UNAVAILABLE"}
    assert sorted(c for c in codes("web") - generic if c not in spec) == []
    assert sorted(c for c in codes("resolvers") - generic if c not in pages) == []


# ---------------------------------------------------------------- a real server


class Server:
    """The app on 127.0.0.1 in a thread with its own event loop (schemathesis calls are
    synchronous), plus a small image host for the `*_url` parameters."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.runners: list[web.AppRunner] = []

    def run(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(60)

    async def _site(self, app: web.Application) -> str:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.runners.append(runner)
        host, port = runner.addresses[0][:2]
        return f"http://{host}:{port}"

    async def _start(self) -> None:
        images = web.Application()

        async def png(request: web.Request) -> web.Response:
            return web.Response(body=PNG, content_type="image/png")

        images.router.add_get("/img.png", png)
        self.image_url = await self._site(images) + "/img.png"
        self.app = create_app(self.settings)
        self.base = await self._site(self.app)

    async def _account(self) -> tuple[str, str]:
        box = self.app[secret_box_key]
        account = await create_account("openapi@example.com", PASSWORD, box,
                                       plan=PlanId.PUBLISHING)  # fmt: skip
        await Account.filter(id=account.id).update(custom_quota=1_000_000, balance=1000)
        key = await active_key(account)
        return reveal(key, box) or "", key.kid

    def start(self) -> None:
        self.thread.start()
        self.run(self._start())
        self.api_key, self.kid = self.run(self._account())

    def stop(self) -> None:
        async def stop() -> None:
            for runner in reversed(self.runners):
                await runner.cleanup()

        self.run(stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module")
def stripe():
    from tests.stripe_fake import running_in_thread

    with running_in_thread() as fake:
        yield fake


@pytest.fixture(scope="module")
def server(tmp_path_factory, migrated_db, stripe):
    import requests

    tmp = tmp_path_factory.mktemp("openapi")
    db = tmp / "api.sqlite3"
    shutil.copy(migrated_db, db)
    srv = Server(
        Settings(
            secret_key=TEST_SECRET,
            database_url=f"sqlite://{db}",
            admin_token=ADMIN_TOKEN,
            render_workers=0,
            allow_private_fetch=True,  # the image host is on 127.0.0.1
            image_store=f"file://{tmp / 'images'}",
            stripe_secret_key=stripe.key,
            stripe_api_base=stripe.url,
            stripe_webhook_secret=stripe.webhook_secret,
            stripe_max_network_retries=0,
        )
    )
    srv.stripe = stripe
    srv.start()
    # base_url stays "http://127.0.0.1:8080" (the default): the session must log in on the
    # address the server believes is its own, so do it against the live one.
    login = requests.post(f"{srv.base}/api/auth/login",
                          json={"email": "openapi@example.com", "password": PASSWORD},
                          timeout=30)  # fmt: skip
    assert login.status_code == 200, login.text
    srv.session = login.cookies["ogapi_session"]
    yield srv
    srv.stop()


schema = schemathesis.openapi.from_path(SPEC_PATH)


def _local_images(values: dict | None, image_url: str) -> None:
    """Generated `*_url` values point at hosts that do not exist: send them to the local image
    host instead (a real fetch, without DNS lookups of random names)."""
    if not isinstance(values, dict):
        return
    for name, value in list(values.items()):
        if name.endswith("_url") and isinstance(value, str) and value.startswith("http"):
            values[name] = image_url


_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


def _wellformed_headers(case) -> None:
    """Drop generated headers that are not HTTP at all (a name that is not a token, a value
    with control characters): aiohttp's parser refuses those connections before any handler
    runs, so they say nothing about the API this file describes."""
    if not isinstance(case.headers, dict):
        return
    for name, value in list(case.headers.items()):
        text = str(value)
        control = any((ord(c) < 32 and c != "\t") or ord(c) == 127 for c in text)
        if control or not _TOKEN.match(name):
            del case.headers[name]


def _sign(case, server: Server, rng: random.Random) -> None:
    """Most signed-image cases get a real signature over their generated parameters, so the
    200 path (renders, cache, fallback) is exercised, not only INVALID_SIGNATURE."""
    query = case.query
    if not isinstance(query, dict) or rng.random() < 0.25:
        return
    if not all(isinstance(v, str) for v in query.values()):
        return
    params = {k: v for k, v in query.items() if k not in CONTROL}
    exp = query.get("exp")
    exp_value = int(exp) if isinstance(exp, str) and exp.isdigit() and len(exp) < 12 else None
    signed = signed_query(server.api_key, server.kid, params, exp_value)
    from urllib.parse import parse_qsl

    case.query = dict(parse_qsl(signed, keep_blank_values=True))


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
    derandomize=True,
)
def test_api_matches_openapi(case, server):
    rng = random.Random(repr(case.query) + repr(case.body))
    _wellformed_headers(case)
    _local_images(case.query, server.image_url)
    _local_images(case.body, server.image_url)
    headers = {"X-API-Key": server.api_key, "Authorization": f"Bearer {ADMIN_TOKEN}"}
    cookies = {}
    op = case.operation.label
    body = case.body if isinstance(case.body, dict) else {}
    if op == "POST /api/batch" and isinstance(items := body.get("items"), list) and items:
        body["items"] = items[:4]  # the shape is what is tested: spare the renders
        for item in body["items"]:
            _local_images(item, server.image_url)
    if op == "GET /api/signed/image":
        _sign(case, server, rng)
    if op == "POST /api/stripe/webhook" and isinstance(case.body, dict) and rng.random() < 0.75:
        # Most events carry a valid signature (over the JSON requests sends), so what follows
        # the check is exercised too.
        headers["Stripe-Signature"] = server.stripe.sign(json.dumps(case.body))
    if op != "POST /api/auth/logout":  # logging out would end the session the others use
        cookies["ogapi_session"] = server.session
    case.call_and_validate(base_url=server.base, headers=headers, cookies=cookies, checks=CHECKS,
                           timeout=60)  # fmt: skip


def test_the_description_is_served_from_the_package(server):
    """GET /api/openapi.yaml: the document shipped as package data (web/openapi.yaml, the
    repository's docs/openapi.yaml), cacheable, with an ETag."""
    import tomllib
    from importlib.resources import files

    import requests

    pyproject = tomllib.loads((SPEC_PATH.parents[1] / "pyproject.toml").read_text())
    assert "openapi.yaml" in pyproject["tool"]["setuptools"]["package-data"]["web"]
    assert files("web").joinpath("openapi.yaml").read_bytes() == SPEC_PATH.read_bytes()
    resp = requests.get(f"{server.base}/api/openapi.yaml", timeout=30)
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("application/yaml")
    assert yaml.safe_load(resp.text) == SPEC
    assert resp.headers["Cache-Control"] == "public, max-age=3600"
    again = requests.get(f"{server.base}/api/openapi.yaml", timeout=30,
                         headers={"If-None-Match": resp.headers["ETag"]})  # fmt: skip
    assert again.status_code == 304
