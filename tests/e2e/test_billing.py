"""Upgrade, Purchase Credits and Manage Billing in Chromium, against the fake Stripe server
(tests/stripe_fake.py) and a real `ogapi serve` process with billing on."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request

import pytest
from playwright.sync_api import expect

from tests.conftest import TEST_SECRET
from tests.e2e.conftest import PASSWORD, axe_check, signup
from tests.services import free_port


@pytest.fixture(scope="module")
def billing(tmp_path_factory):
    """(server url, fake Stripe): `ogapi stripe sync` then `ogapi serve`, both real commands."""
    from tests.stripe_fake import running_in_thread

    tmp = tmp_path_factory.mktemp("billing")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with running_in_thread(webhook_url=f"{url}/api/stripe/webhook") as fake:
        env = {**os.environ, "DATABASE_URL": f"sqlite://{tmp / 'b.sqlite3'}",
               "SECRET_KEY": TEST_SECRET, "BASE_URL": url, "OGAPI_DATA_DIR": str(tmp),
               "OGAPI_RENDER_WORKERS": "0", "STRIPE_SECRET_KEY": fake.key,
               "STRIPE_API_BASE": fake.url, "STRIPE_WEBHOOK_SECRET": fake.webhook_secret,
               "STRIPE_MAX_NETWORK_RETRIES": "0"}  # fmt: skip
        cli = [sys.executable, "-m", "web.cli.main"]
        subprocess.run([*cli, "stripe", "sync"], env=env, check=True, capture_output=True,
                       timeout=60)  # fmt: skip
        server = subprocess.Popen(
            [*cli, "serve", "--port", str(port)], env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/health", timeout=1):
                        break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise
                    time.sleep(0.1)
            yield url, fake
        finally:
            server.terminate()
            server.wait(10)


@pytest.fixture
def billing_page(page_factory, billing, live):
    url, fake = billing
    page, watch = page_factory(base_url=url)
    watch.other_origins.append(fake.url + "/")  # Checkout and the portal live at "Stripe"
    watch.expected.append("status of 404 (Not Found)")  # the fake's pages have no favicon
    signup(page, live.email("pay"))
    return page, fake


def test_upgrade_goes_through_checkout_and_comes_back_on_the_new_plan(billing_page):
    page, fake = billing_page
    expect(page.locator("#billing-off")).to_have_count(0)  # billing is configured here
    for name in ("Upgrade", "Manage Billing", "Purchase Credits"):
        expect(page.get_by_role("button", name=name, exact=True)).to_be_enabled()
    page.get_by_role("button", name="Upgrade", exact=True).click()
    dialog = page.get_by_role("dialog", name="Choose a plan")
    for name, price in (("Starter", "$9/mo"), ("Pro", "$19/mo"), ("Agency", "$49/mo"),
                        ("Publishing", "$99/mo")):  # fmt: skip
        expect(dialog.get_by_role("heading", name=name)).to_be_visible()
        expect(dialog).to_contain_text(price)
    axe_check(page, "plan picker")
    dialog.get_by_role("button", name=re.compile("^Choose Starter")).click()
    page.wait_for_url(f"{fake.url}/checkout/*")
    expect(page.locator("body")).to_contain_text("$9.00")
    page.get_by_role("button", name="Pay").click()
    page.wait_for_url(re.compile(r"/dashboard"))
    page.wait_for_selector("body[data-loaded]")
    expect(page.locator("#checkout-banner")).to_contain_text("Payment received")
    expect(page.locator("#plan .plan-name")).to_have_text("Starter")
    assert page.url.endswith("/dashboard")  # the outcome left the address bar

    page.get_by_role("button", name="Manage Billing").click()
    page.wait_for_url(f"{fake.url}/portal/*")
    expect(page.locator("body")).to_contain_text("1 subscription")
    page.get_by_role("link", name="Return").click()
    page.wait_for_url(re.compile(r"/dashboard$"))


def test_purchase_credits_goes_through_checkout_and_credits_the_balance(billing_page):
    page, fake = billing_page
    page.locator("#actions").get_by_role("button", name="Purchase Credits").click()
    credits = page.get_by_role("dialog", name="Purchase Credits")
    for amount in ("$5", "$10", "$25", "$50", "$100"):
        expect(credits.get_by_role("button", name=amount, exact=True)).to_be_visible()
    credits.get_by_role("button", name="$10", exact=True).click()
    page.wait_for_url(f"{fake.url}/checkout/*")
    expect(page.locator("body")).to_contain_text("$10.00")
    page.get_by_role("button", name="Pay").click()
    page.wait_for_url(re.compile(r"/dashboard"))
    page.wait_for_selector("body[data-loaded]")
    expect(page.locator("#balance-value")).to_have_text("$10.000000")
    expect(page.locator("#transactions")).to_contain_text("Purchase")


def test_a_return_without_the_session_signs_in_then_comes_back(page_factory, billing, live):
    """The dashboard session ended while paying: the return page asks to sign in (Stripe is
    not called for an anonymous visitor), then comes back and applies the payment."""
    url, fake = billing
    page, watch = page_factory(base_url=url)
    watch.other_origins.append(fake.url + "/")
    watch.expected.append("status of 404 (Not Found)")
    email = live.email("back")
    signup(page, email)
    page.locator("#actions").get_by_role("button", name="Purchase Credits").click()
    page.get_by_role("dialog", name="Purchase Credits").get_by_role(
        "button", name="$5", exact=True
    ).click()
    page.wait_for_url(f"{fake.url}/checkout/*")
    page.context.clear_cookies()  # signed out meanwhile (another tab, an expired session)
    page.get_by_role("button", name="Pay").click()
    page.wait_for_url(re.compile(r"/login\?next=/billing/return(\?|%3F)session_id(=|%3D)cs_"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/dashboard"))
    page.wait_for_selector("body[data-loaded]")
    expect(page.locator("#checkout-banner")).to_contain_text("Payment received")
    expect(page.locator("#balance-value")).to_have_text("$5.000000")
