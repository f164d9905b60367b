"""Sign-up, sign-in, password reset by mail, sign-out and the idle session, in Chromium."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import expect

from tests.e2e.conftest import PASSWORD, axe_check, login, signup


def test_signup_lands_on_an_empty_dashboard(page_factory, live):
    page, _ = page_factory()
    page.goto("/signup")
    axe_check(page, "/signup")
    page.get_by_label("Email").fill("not-an-email")
    page.get_by_label("Password").fill("short")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("#form-error")).to_contain_text("10 characters")
    email = live.email("new")
    signup(page, email)
    assert page.locator("#nav-email").inner_text() == email
    usage = page.locator("#usage")
    assert re.search(r"0\s*/ 25 images", usage.inner_text())
    assert "No transactions yet" in page.locator("#transactions").inner_text()
    assert "No invoices yet" in page.locator("#invoices").inner_text()
    assert "All clear" in page.locator("#notifications").inner_text()
    assert page.locator("#plan .plan-name").inner_text() == "Free"
    axe_check(page, "/dashboard (new account)")
    # Signed in, the sign-in pages send you on.
    page.goto("/login")
    page.wait_for_url("**/dashboard")


def test_wrong_password_then_sign_in_returns_to_the_page_asked_for(page_factory, live):
    page, watch = page_factory()
    watch.expected.append("status of 401 (Unauthorized)")  # the wrong password's answer
    page.goto("/dashboard")
    page.wait_for_url(re.compile(r"/login\?next=%2Fdashboard|/login\?next=/dashboard"))
    axe_check(page, "/login")
    page.get_by_label("Email").fill(live.demo["email"])
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#form-error")).to_contain_text(re.compile("invalid", re.I))
    assert "/login" in page.url
    page.get_by_label("Password").fill(live.demo["password"])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/dashboard")


def test_password_reset_through_the_mailed_link(page_factory, live):
    page, watch = page_factory()
    watch.expected.append("status of 400 (Bad Request)")  # the used link's answer
    email = live.email("reset")
    signup(page, email)
    page.get_by_role("button", name="Sign Out").click()
    page.wait_for_url("**/login?signed_out=1")
    page.get_by_role("link", name="Forgot password?").click()
    page.wait_for_url("**/reset-password")
    axe_check(page, "/reset-password")
    before = len(live.inbox.messages)
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Send reset link").click()
    expect(page.locator("#reset-sent")).to_contain_text("reset link is on its way")
    live.server.call(live.inbox.wait_for(before + 1))
    message = live.inbox.messages[before]
    assert message["To"] == email
    body = message.get_body(("plain",)).get_content()
    link = re.search(r"(http://127\.0\.0\.1:\d+/reset-password\?token=[\w-]+)", body).group(1)
    page.goto(link)
    page.wait_for_url("**/reset-password")  # the token leaves the address bar at once
    axe_check(page, "/reset-password?token=")
    page.get_by_label("New password").fill("a fresh new password")
    page.get_by_role("button", name="Save new password").click()
    page.wait_for_url("**/login?reset=1")
    expect(page.locator("#notice")).to_contain_text("password was changed")
    login(page, email, "a fresh new password")
    # The link worked once.
    page.goto(link)
    page.get_by_label("New password").fill("yet another password")
    page.get_by_role("button", name="Save new password").click()
    expect(page.locator("#confirm-error")).to_contain_text("expired or was already used")


def test_sign_out_destroys_the_session(page_factory, context_factory, live):
    page, _ = page_factory()
    signup(page, live.email("out"))
    cookie = next(c for c in page.context.cookies() if c["name"] == "ogapi_session")
    page.get_by_role("button", name="Sign Out").click()
    page.wait_for_url("**/login?signed_out=1")
    expect(page.locator("#notice")).to_contain_text("signed out")
    # The old cookie, replayed, no longer opens anything.
    ctx = context_factory()
    ctx.add_cookies([cookie])
    resp = ctx.request.post("/graphql", data={"query": "{ me { email } }"})
    assert resp.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    other = ctx.new_page()
    other.goto("/dashboard")
    other.wait_for_url(re.compile(r"/login\?next="))


def test_idle_session_returns_to_login_with_the_email_kept(page_factory, live):
    page, _ = page_factory()
    email = live.email("idle")
    signup(page, email, PASSWORD)
    clock = live.server.clock
    try:
        from datetime import UTC, datetime

        clock.set(datetime.now(UTC) + timedelta(minutes=61))  # past SESSION_IDLE_MINUTES
        page.get_by_role("button", name="Refresh Data").click()
        page.wait_for_url(re.compile(r"/login\?expired=1"))
    finally:
        clock.fixed = None
    expect(page.locator("#notice")).to_contain_text("inactivity")
    assert page.get_by_label("Email").input_value() == email
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/dashboard")


def test_unknown_page_is_a_styled_404(page_factory):
    page, watch = page_factory()
    watch.expected.append("status of 404 (Not Found)")
    resp = page.goto("/no/such/page")
    assert resp.status == 404
    assert page.get_by_role("heading", name="Page not found").is_visible()
    assert resp.headers["content-security-policy"].endswith("frame-ancestors 'none'")
    axe_check(page, "404")
    resp = page.goto("/docs")
    assert resp.ok
    axe_check(page, "/docs")
