"""The dashboard's Webhooks section in Chromium (docs/webhooks.md): add an endpoint with event
checkboxes, its secret shown once, send a test that a real aiohttp receiver on loopback gets
signed (verified with the documented recipe), see the delivery log, a failing endpoint's
retry, remove; light and dark, 390 px, axe-clean."""

from __future__ import annotations

import asyncio
import re
import threading

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import axe_check, signup
from tests.webhook_receiver import Receiver, verify_with_python_recipe

SHOT = re.compile(r"^whsec_[A-Za-z0-9]{32}$")


@pytest.fixture
def receivers():
    """Two receivers (one answers 200, one 500) on a loop of their own in a thread."""
    from aiohttp import web

    loop = asyncio.new_event_loop()
    ok, failing = Receiver(), Receiver(status=500)
    runners = []

    async def start(r: Receiver) -> None:
        runner = web.AppRunner(r.app())
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        r.url = f"http://127.0.0.1:{port}/hook"
        runners.append(runner)

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    for r in (ok, failing):
        asyncio.run_coroutine_threadsafe(start(r), loop).result(10)
    yield ok, failing
    for runner in runners:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


@pytest.mark.parametrize(("width", "scheme"), [(1280, "light"), (390, "dark")])
def test_webhooks_section(page_factory, live, receivers, width, scheme, tmp_path):
    ok, failing = receivers
    page, watch = page_factory(width=width, scheme=scheme)
    watch.expected.append("status of 400 (Bad Request)")  # the refused URL below
    signup(page, live.email("hooks"))
    section = page.locator("#webhooks")
    expect(section.get_by_role("heading", name="Webhooks")).to_be_visible()
    expect(section).to_contain_text("No endpoints yet")

    url = section.get_by_label("Endpoint URL")
    url.fill("ftp://example.com/hook")
    section.get_by_role("button", name="Add endpoint").click()
    expect(section.get_by_role("alert")).to_contain_text("url must be an http or https URL")

    url.fill(ok.url)
    section.get_by_role("checkbox", name=re.compile("subscription.updated")).uncheck()
    section.get_by_role("button", name="Add endpoint").click()
    secret_box = section.locator("#wh-secret-value")
    expect(secret_box).to_be_visible()
    secret = secret_box.inner_text()
    assert SHOT.match(secret), secret
    expect(section.get_by_role("button", name="Copy secret")).to_be_focused()
    item = section.locator(".wh-endpoint").first
    expect(item).to_contain_text(ok.url)
    expect(item).to_contain_text("quota.threshold, balance.low")
    expect(item).to_contain_text("No deliveries yet")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    section.screenshot(path=str(tmp_path / f"webhooks-secret-{width}-{scheme}.png"))
    axe_check(page, f"/dashboard webhooks, secret shown, {width}px {scheme}")
    section.get_by_role("button", name="Done").click()
    expect(secret_box).to_have_count(0)

    item.get_by_role("button", name=f"Send a test to {ok.url}").click()
    expect(page.locator("#toast")).to_contain_text("Test delivered: HTTP 200.")
    log = item.get_by_role("table", name=f"Recent deliveries to {ok.url}")
    expect(log).to_contain_text("ping")
    expect(log).to_contain_text("Delivered")
    [got] = ok.received
    assert got.event["type"] == "ping" and verify_with_python_recipe(secret, got)

    url.fill(failing.url)
    section.get_by_role("button", name="Add endpoint").click()
    section.get_by_role("button", name="Done").click()
    bad = section.locator(".wh-endpoint").nth(1)
    page.wait_for_timeout(1100)  # each test spends a request of the rate limit: 1/s on Free
    bad.get_by_role("button", name=f"Send a test to {failing.url}").click()
    expect(page.locator("#toast")).to_contain_text("Test failed: HTTP 500. Fix the endpoint")
    expect(bad.get_by_role("table")).to_contain_text("Failed")  # a ping is never retried
    expect(bad.get_by_role("table")).to_contain_text("HTTP 500")
    expect(bad.get_by_role("table")).not_to_contain_text("next try")
    expect(bad).to_contain_text("Failing")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    section.screenshot(path=str(tmp_path / f"webhooks-log-{width}-{scheme}.png"))
    axe_check(page, f"/dashboard webhooks, delivery log, {width}px {scheme}")

    # The secret is shown once: not after a reload, nor in the list.
    page.reload()
    page.wait_for_selector("body[data-loaded]")
    assert secret not in page.content()
    expect(section.locator(".wh-endpoint")).to_have_count(2)

    bad.get_by_role("button", name=f"Remove {failing.url}").click()
    expect(bad.get_by_role("button", name="Remove endpoint")).to_be_focused()
    bad.get_by_role("button", name="Remove endpoint").click()
    expect(page.locator("#toast")).to_contain_text("Endpoint removed.")
    expect(section.locator(".wh-endpoint")).to_have_count(1)
    print(f"\nscreenshots: {tmp_path}")
