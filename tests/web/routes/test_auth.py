"""docs/accounts.md: sign-up, login, logout, password reset, sessions and cookies, through real
HTTP."""

from __future__ import annotations

import io
import json
from datetime import timedelta

from models import Account, LoginFailure, Session
from tests.conftest import PASSWORD


async def test_signup_sets_session_cookie_and_creates_free_account_with_key(client):
    resp = await client.post(
        "/api/auth/signup",
        json={"email": "  New@Example.COM ", "password": PASSWORD, "domain": "Example.com"},
    )
    assert resp.status == 201
    body = await resp.json()
    assert body["account"]["email"] == "new@example.com"
    assert body["account"]["plan"] == "free"
    assert body["account"]["domain"] == "example.com"
    cookie = resp.headers["Set-Cookie"]
    assert "ogapi_session=" in cookie and "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie and "Path=/" in cookie and "Secure" not in cookie
    account = await Account.get(email="new@example.com")
    assert await account.api_keys.all().count() == 1
    assert account.password_hash.startswith("$argon2id$")


async def test_cookie_is_secure_in_production(aiohttp_client, make_app):
    client = await aiohttp_client(make_app(env="production"))
    resp = await client.post(
        "/api/auth/signup", json={"email": "a@example.com", "password": PASSWORD}
    )
    assert "Secure" in resp.headers["Set-Cookie"]


async def test_signup_errors(client):
    cases = [
        ({"email": "not-an-email", "password": PASSWORD}, 400, "INVALID_PARAMETER"),
        ({"email": 5, "password": PASSWORD}, 400, "INVALID_PARAMETER"),
        ({"email": "a@example.com", "password": "short"}, 400, "WEAK_PASSWORD"),
        ({"email": "a@example.com", "password": "x" * 1025}, 400, "WEAK_PASSWORD"),
        (
            {"email": "a@example.com", "password": PASSWORD, "domain": "not a domain"},
            400,
            "INVALID_PARAMETER",
        ),
    ]
    for body, status, code in cases:
        resp = await client.post("/api/auth/signup", json=body)
        data = await resp.json()
        assert (resp.status, data["code"]) == (status, code), body
        assert data["error"] is True and data["message"] and data["request_id"]
    assert await Account.all().count() == 0
    ok = await client.post(
        "/api/auth/signup", json={"email": "a@example.com", "password": "x" * 1024}
    )
    assert ok.status == 201
    dup = await client.post(
        "/api/auth/signup", json={"email": "A@example.com", "password": PASSWORD}
    )
    assert (dup.status, (await dup.json())["code"]) == (409, "EMAIL_TAKEN")


async def test_bad_json_and_oversized_bodies(client):
    resp = await client.post(
        "/api/auth/signup", data=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert (resp.status, (await resp.json())["code"]) == (400, "INVALID_JSON")
    resp = await client.post("/api/auth/signup", json=[1, 2])
    assert (resp.status, (await resp.json())["code"]) == (400, "INVALID_JSON")
    resp = await client.post(
        "/api/auth/signup",
        data=io.BytesIO(b"{" + b" " * 1_100_000 + b"}"),
        headers={"Content-Type": "application/json"},
    )
    assert (resp.status, (await resp.json())["code"]) == (413, "PAYLOAD_TOO_LARGE")


async def test_login_logout_and_session_rotation(client, signup):
    user = await signup()
    first = client.session.cookie_jar.filter_cookies(client.make_url("/"))["ogapi_session"].value
    resp = await client.post(
        "/api/auth/login", json={"email": user.email.upper(), "password": PASSWORD}
    )
    assert resp.status == 200
    second = client.session.cookie_jar.filter_cookies(client.make_url("/"))["ogapi_session"].value
    assert first != second
    assert await Session.all().count() == 1  # the old session was destroyed, not left alive
    resp = await client.post("/api/auth/logout")
    assert resp.status == 204
    assert await Session.all().count() == 0


async def test_wrong_credentials_look_the_same_for_unknown_email(client, signup):
    user = await signup()
    client.session.cookie_jar.clear()
    a = await client.post(
        "/api/auth/login", json={"email": user.email, "password": "wrong password!"}
    )
    b = await client.post(
        "/api/auth/login", json={"email": "nobody@example.com", "password": "wrong password!"}
    )
    ja, jb = await a.json(), await b.json()
    assert a.status == b.status == 401
    assert ja["code"] == jb["code"] == "INVALID_CREDENTIALS"
    assert ja["message"] == jb["message"]


async def test_five_failures_lock_the_email_even_for_the_right_password(client, signup, clock):
    from datetime import UTC, datetime

    clock.set(datetime(2026, 5, 1, 12, 0, tzinfo=UTC))
    user = await signup()
    for _ in range(5):
        resp = await client.post(
            "/api/auth/login", json={"email": user.email, "password": "wrong password!"}
        )
        assert resp.status == 401
    resp = await client.post("/api/auth/login", json={"email": user.email, "password": PASSWORD})
    assert resp.status == 429
    assert (await resp.json())["code"] == "TOO_MANY_ATTEMPTS"
    assert 1 <= int(resp.headers["Retry-After"]) <= 900
    clock.set(datetime(2026, 5, 1, 12, 16, tzinfo=UTC))  # the window has passed
    resp = await client.post("/api/auth/login", json={"email": user.email, "password": PASSWORD})
    assert resp.status == 200


async def test_twenty_failures_from_one_ip_lock_the_ip(client, signup):
    user = await signup()
    for i in range(20):
        await client.post(
            "/api/auth/login", json={"email": f"x{i}@example.com", "password": "wrong password!"}
        )
    assert await LoginFailure.all().count() == 20
    resp = await client.post("/api/auth/login", json={"email": user.email, "password": PASSWORD})
    assert resp.status == 429


async def test_session_idle_and_absolute_expiry(client, signup, clock):
    from datetime import UTC, datetime

    from resolvers.accounts.sessions import resolve_session

    start = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    clock.set(start)
    await signup()
    token = client.session.cookie_jar.filter_cookies(client.make_url("/"))["ogapi_session"].value
    idle = timedelta(minutes=60)
    assert await resolve_session(token, start + timedelta(minutes=59), idle) is not None
    # Each visit keeps it alive...
    for hours in range(1, 7 * 24, 1):
        if await resolve_session(token, start + timedelta(hours=hours, minutes=-1), idle) is None:
            break
    # ...but never past 7 days.
    assert await resolve_session(token, start + timedelta(days=7, minutes=1), idle) is None
    clock.set(start)
    await client.post("/api/auth/login", json={"email": "user1@example.com", "password": PASSWORD})


async def test_the_dashboards_auto_refresh_does_not_keep_the_session_alive(client, signup, clock):
    """Only what the person does is activity: the timed refresh (X-Auto-Refresh: 1) is served
    but leaves the idle clock running (docs/accounts.md)."""
    from datetime import UTC, datetime

    start = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    clock.set(start)
    user = await signup()

    async def me(minutes: int, auto: bool = True) -> str | None:
        clock.set(start + timedelta(minutes=minutes))
        headers = {"X-Auto-Refresh": "1"} if auto else {}
        resp = await client.post("/graphql", json={"query": "{ me { email } }"}, headers=headers)
        body = await resp.json()
        account = (body.get("data") or {}).get("me")
        return account["email"] if account else None

    for minutes in range(5, 60, 5):  # a dashboard left open refreshes every 5 minutes
        assert await me(minutes) == user.email
    assert await me(61) is None  # idle 61 minutes: signed out, auto-refresh or not
    assert await Session.all().count() == 0

    # What the person does still counts: a click at minute 30 keeps it alive to minute 90.
    clock.set(start)
    resp = await client.post("/api/auth/login", json={"email": user.email, "password": PASSWORD})
    assert resp.status == 200
    assert await me(30, auto=False) == user.email
    assert await me(85) == user.email
    assert await me(91) is None


async def test_idle_timeout_kills_session(client, signup):
    from datetime import UTC, datetime

    from resolvers.accounts.sessions import resolve_session

    await signup()
    token = client.session.cookie_jar.filter_cookies(client.make_url("/"))["ogapi_session"].value
    later = datetime.now(UTC) + timedelta(minutes=61)
    assert await resolve_session(token, later, timedelta(minutes=60)) is None
    assert await Session.all().count() == 0


async def test_parallel_guesses_cannot_outrun_the_throttle(client, signup):
    import asyncio

    user = await signup()
    client.session.cookie_jar.clear()

    async def guess(i: int) -> int:
        body = {"email": user.email, "password": f"wrong password {i}"}
        return (await client.post("/api/auth/login", json=body)).status

    statuses = await asyncio.gather(*(guess(i) for i in range(30)))
    assert statuses.count(401) == 5 and statuses.count(429) == 25


async def test_auth_endpoints_refuse_cross_site_and_non_json(client, signup):
    user = await signup()
    client.session.cookie_jar.clear()
    creds = {"email": user.email, "password": PASSWORD}
    # A cross-site HTML form can only send form/text bodies: login CSRF must not work.
    resp = await client.post(
        "/api/auth/login", data=json.dumps(creds), headers={"Content-Type": "text/plain"}
    )
    assert (resp.status, (await resp.json())["code"]) == (415, "UNSUPPORTED_MEDIA_TYPE")
    assert "Set-Cookie" not in resp.headers
    for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        resp = await client.post("/api/auth/login", json=creds, headers=headers)
        assert (resp.status, (await resp.json())["code"]) == (403, "FORBIDDEN")
        resp = await client.post("/api/auth/logout", headers=headers)
        assert resp.status == 403
    same = {"Origin": str(client.make_url("/")).rstrip("/"), "Sec-Fetch-Site": "same-origin"}
    resp = await client.post("/api/auth/login", json=creds, headers=same)
    assert resp.status == 200


async def test_a_body_sent_in_pieces_is_read_whole(client, signup):
    """Real clients (proxies, TLS, slow links) send bodies in chunks."""
    import asyncio

    async def pieces():
        yield b'{"email": "chunked@example.com", '
        await asyncio.sleep(0.2)
        yield b'"password": "' + PASSWORD.encode() + b'"}'

    resp = await client.post(
        "/api/auth/signup", data=pieces(), headers={"Content-Type": "application/json"}
    )
    assert resp.status == 201, await resp.text()

    async def big():
        for _ in range(20):
            yield b" " * 100_000

    resp = await client.post(
        "/api/auth/signup", data=big(), headers={"Content-Type": "application/json"}
    )
    assert (resp.status, (await resp.json())["code"]) == (413, "PAYLOAD_TOO_LARGE")


async def test_graphql_reads_a_chunked_body_whole(client):
    import asyncio

    async def pieces():
        yield b'{"query": "{ plans '
        await asyncio.sleep(0.2)
        yield b'{ id } }"}'

    resp = await client.post(
        "/graphql", data=pieces(), headers={"Content-Type": "application/json"}
    )
    assert resp.status == 200
    assert len((await resp.json())["data"]["plans"]) == 5
