"""The Link Previews panel in Chromium (docs/link-previews.md): crawler fetches of a signed
card show up per platform and in the latest fetches; "Check a page" shows each platform's
verdict, its problems with the fix, and the image found. Axe-clean, phone width, dark."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import axe_check, signup

FB = "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)"
SLACK = "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"


@pytest.fixture
def shared_page():
    """A page on loopback whose og:image is set by the test (`page.og_image`), without
    og:image:width/height (a problem for Facebook only)."""
    state = {"og_image": ""}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = (
                "<!doctype html><html><head><title>Launch</title>"
                '<meta property="og:title" content="We launched">'
                f'<meta property="og:image" content="{state["og_image"]}">'
                '<meta name="twitter:card" content="summary_large_image">'
                "</head><body>Hello</body></html>"
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{server.server_port}/post"
    server.shutdown()
    server.server_close()


def test_link_previews_panel_and_share_check(page_factory, live, shared_page, tmp_path):
    page, watch = page_factory()
    watch.expected.append("status of 400 (Bad Request)")  # the malformed address, at the end
    signup(page, live.email("previews"))
    panel = page.locator("#link-previews")
    expect(panel.get_by_role("heading", name="Link Previews")).to_be_visible()
    expect(panel).to_contain_text("No fetches yet")

    key = page.request.post("/graphql", data={"query": "{ me { apiKey } }"}).json()
    key = key["data"]["me"]["apiKey"]
    minted = page.request.get("/api/signed/generate", params={"title": "Launch day card"},
                              headers={"X-API-Key": key}).json()  # fmt: skip
    for ua in (FB, FB, SLACK):
        assert page.request.get(minted["url"], headers={"User-Agent": ua}).ok

    # Counted in memory, flushed within seconds: "Refresh Data" shows them.
    for _ in range(40):  # within 5 s; up to 20 s on a busy machine
        page.get_by_role("button", name="Refresh Data").click()
        page.wait_for_selector("#refresh:not([disabled])")
        if "3 fetches" in panel.inner_text():
            break
        page.wait_for_timeout(500)
    expect(panel).to_contain_text("3 fetches of your signed cards in the last 30 days")
    chart = panel.locator("svg[role=img]")
    assert chart.get_attribute("aria-label").endswith("3 in all")
    assert any("Facebook 2, Slack 1" in t for t in chart.locator("rect title").all_text_contents())
    platforms = panel.get_by_role("list", name="Fetches per platform, last 30 days")
    expect(platforms.locator("li").first).to_contain_text("Facebook")
    expect(platforms.locator("li").first).to_contain_text("2")
    recent = panel.locator("table.lp-recent")
    expect(recent).to_contain_text("Launch day card")
    expect(recent).to_contain_text("Slack")

    # Check a page whose og:image is the signed card.
    state, page_url = shared_page
    state["og_image"] = minted["url"]
    page.get_by_label("Page address").fill(page_url)
    page.wait_for_timeout(1100)  # a free plan's one request a second, spent by Refresh Data
    page.get_by_role("button", name="Check", exact=True).click()
    verdicts = panel.get_by_role("list", name="What each platform shows")
    expect(verdicts.locator("> li")).to_have_count(5)
    facebook = verdicts.locator("> li").filter(has_text="Facebook")
    expect(facebook).to_contain_text("1 problem")
    expect(facebook).to_contain_text("NO_IMAGE_DIMENSIONS")
    expect(facebook).to_contain_text('og:image:width" content="1200"')  # the fix
    expect(verdicts.locator("> li").filter(has_text="LinkedIn")).to_contain_text("Looks good")
    expect(panel.locator(".lp-image")).to_contain_text("image/png, 1200×630")
    axe_check(page, "link previews with a check")
    panel.screenshot(path=str(tmp_path / "link-previews-light.png"))

    # A malformed address: the API's message, in plain words (after a second: free plans may
    # check once a second).
    page.wait_for_timeout(1100)
    page.get_by_label("Page address").fill("ftp://example.com/")
    page.get_by_role("button", name="Check", exact=True).click()
    expect(panel.get_by_role("alert")).to_contain_text("url must be an http or https URL")


def test_link_previews_phone_width_and_dark(page_factory, live, shared_page, tmp_path):
    for width, scheme in ((390, "light"), (1280, "dark")):
        page, _ = page_factory(width=width, scheme=scheme)
        signup(page, live.email(f"lp-{scheme}"))
        state, page_url = shared_page
        state["og_image"] = "/relative/card.png"
        page.get_by_label("Page address").fill(page_url)
        page.get_by_role("button", name="Check", exact=True).click()
        panel = page.locator("#link-previews")
        expect(panel.get_by_role("list", name="What each platform shows")).to_be_visible()
        expect(panel).to_contain_text("IMAGE_URL_RELATIVE")
        overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
        assert not overflow, f"{width}px: the page scrolls sideways"
        axe_check(page, f"link previews at {width}px, {scheme}")
        panel.screenshot(path=str(tmp_path / f"link-previews-{width}-{scheme}.png"))
