"""The Test API playground in Chromium: a form from /api/templates, live previews that count
nothing (watermarked 600 px drafts on their own hourly budget), the signed URL and <meta> block,
and the link-preview mocks."""

from __future__ import annotations

import io
import re
from urllib.parse import parse_qs, urlsplit

from PIL import Image
from playwright.sync_api import expect

from tests.e2e.conftest import axe_check, signup

USED = "{ usage { used } balance { apiCalls } }"


def test_playground_renders_live_and_signs_without_counting(page_factory, live, context_factory):
    page, watch = page_factory(permissions=["clipboard-read", "clipboard-write"])
    signup(page, live.email("play"))
    before = page.request.post("/graphql", data={"query": USED}).json()["data"]
    page.locator("#actions").get_by_role("button", name="Test API").click()
    image = page.locator("#pg-image")
    expect(image).to_be_visible()
    page.wait_for_function("document.querySelector('#pg-image').naturalWidth === 600")  # a draft
    expect(page.locator("#pg-status")).to_contain_text(re.compile(r"\b29\d of 300 previews left"))
    expect(page.locator("#pg-url")).to_contain_text(f"{live.url}/api/signed/image?")

    # Another template: its own fields; typing re-renders after a pause (debounced).
    page.get_by_label("Template").select_option("product")
    expect(page.get_by_label("Price", exact=True)).to_be_visible()
    previews = len([r for r in watch.requests if "/api/dashboard/preview" in r.url])
    title = page.get_by_label("Title (required)")
    title.fill("")
    title.press_sequentially("Noise cancelling", delay=20)
    page.get_by_label("Price", exact=True).fill("$199")
    expect(page.locator("#pg-url")).to_contain_text("Noise%20cancelling")
    after = len([r for r in watch.requests if "/api/dashboard/preview" in r.url])
    assert 1 <= after - previews <= 6  # debounced: not one per keystroke (17 of them)
    alt = image.get_attribute("alt")
    assert "product" in alt and "Noise cancelling" in alt

    url = page.locator("#pg-url").inner_text()
    query = parse_qs(urlsplit(url).query)
    assert query["template"] == ["product"] and query["price"] == ["$199"] and "sig" in query
    page.get_by_role("button", name="Copy URL").click()
    expect(page.get_by_role("button", name="Copied!")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == url
    meta = page.locator("#pg-meta").inner_text()
    assert '<meta property="og:image" content="' in meta and "twitter:card" in meta
    page.get_by_role("button", name="Copy meta tags").click()
    assert page.evaluate("navigator.clipboard.readText()") == meta

    after_data = page.request.post("/graphql", data={"query": USED}).json()["data"]
    assert after_data["usage"]["used"] == before["usage"]["used"] == 0
    assert after_data["balance"]["apiCalls"] == before["balance"]["apiCalls"]

    # The signed URL works for anyone (no key, no cookie): it is the real thing, full size.
    crawler = context_factory().request.get(url)
    assert crawler.ok and crawler.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(crawler.body())).size == (1200, 630)

    mocks = {"X / Twitter": "mock-x", "LinkedIn": "mock-li", "Facebook": "mock-fb",
             "Slack": "mock-slack", "Discord": "mock-dc"}  # fmt: skip
    for name, cls in mocks.items():
        page.get_by_role("tab", name=name).click()
        expect(page.get_by_role("tab", name=name)).to_have_attribute("aria-selected", "true")
        mock = page.locator(f"#pg-mock .{cls}")
        expect(page.locator("#pg-mock")).to_contain_text("Noise cancelling")
        assert mock.locator("img").evaluate("i => i.naturalWidth") == 600
    page.get_by_role("tab", name="Discord").press("ArrowRight")  # arrow keys move between tabs
    expect(page.get_by_role("tab", name="X / Twitter")).to_be_focused()
    axe_check(page, "/dashboard playground")

    # The crawler's fetch of the signed URL was a real render: it counts, the previews did not.
    page.get_by_role("button", name="Refresh Data").click()
    expect(page.locator("#usage")).to_contain_text(re.compile(r"1\s*/ 25 images"))


def test_playground_shows_the_cards_own_colours_and_a_real_handle(page_factory, live):
    """Colour fields show the template's colours for the theme (not one hard-coded blue), the
    template hint has room above the first label, the first card is complete (an author), and
    the X preview never takes a handle from the server's address ("@127")."""
    page, _ = page_factory()
    signup(page, live.email("colours"))
    templates = page.request.get("/api/templates").json()["templates"]
    colours = {t["name"]: t["colors"] for t in templates}
    page.get_by_role("button", name="Open the playground").click()
    page.locator("#pg-image").wait_for()
    for template, theme in (("default", "dark"), ("default", "light"), ("minimal", "light")):
        page.get_by_label("Template").select_option(template)
        page.get_by_label("Theme").select_option(theme)
        shown = {}
        for field, label in (("bg_color", "Background colour"), ("text_color", "Text colour"),
                             ("accent_color", "Accent colour")):  # fmt: skip
            text = page.get_by_label(label, exact=True)
            picker = page.get_by_label(f"Pick {label.lower()}")
            want = colours[template][theme][field]
            assert (text.get_attribute("placeholder"), picker.input_value()) == (want, want)
            expect(text).to_have_accessible_description(f"Template default {want}")
            shown[field] = want
        assert len(set(shown.values())) == 3, shown  # three fields, three colours
    page.get_by_label("Background colour", exact=True).fill("#112233")
    expect(page.get_by_label("Pick background colour")).to_have_value("#112233")

    page.get_by_label("Template").select_option("default")
    desc = page.locator("#pg-desc").bounding_box()
    title = page.locator("label[for=pg-f-title]").bounding_box()
    assert title["y"] - (desc["y"] + desc["height"]) >= 10  # the hint is not on the label
    assert page.get_by_label("Author name").input_value()  # the sample card has an author

    page.get_by_role("tab", name="X / Twitter").click()
    mock = page.locator("#pg-mock")
    expect(mock).to_contain_text("@yoursite")
    assert "@127" not in mock.inner_text() and "127.0.0.1" not in mock.inner_text()
    expect(mock).to_contain_text("set your domain in Account Overview")


def test_a_spent_preview_budget_keeps_the_last_draft_and_says_when_the_next_comes(
    page_factory, live
):
    from models import Account
    from resolvers.images import previews
    from web.appkeys import window_limiter_key

    page, watch = page_factory()
    watch.expected.append("status of 429")  # Chromium logs the refused preview request
    email = live.email("budget")
    signup(page, email)
    page.locator("#actions").get_by_role("button", name="Test API").click()
    expect(page.locator("#pg-image")).to_be_visible()
    page.wait_for_function("document.querySelector('#pg-image').naturalWidth === 600")
    expect(page.locator("#pg-status")).to_contain_text("299 of 300 previews left this hour")
    first = page.locator("#pg-image").get_attribute("src")
    window = live.server.runner.app[window_limiter_key]

    async def spend_the_hour() -> None:
        key = previews.hour_key((await Account.get(email=email)).id)
        while (await window.hit(key, previews.PER_HOUR, previews.HOUR)).allowed:
            pass

    live.server.call(spend_the_hour())
    page.get_by_label("Title (required)").fill("Over the budget")
    status = page.locator("#pg-status")
    expect(status).to_contain_text(re.compile(r"used this hour's 300 free previews\. The next "
                                              r"one is ready in (59|60) min"))  # fmt: skip
    # The last draft stays, dimmed (no broken image); the signed URL still follows the form.
    image = page.locator("#pg-image")
    assert image.get_attribute("src") == first
    assert image.evaluate("i => i.complete && i.naturalWidth") == 600
    expect(page.locator("#pg-img")).to_have_class(re.compile(r"\bstale\b"))
    expect(page.locator("#pg-url")).to_contain_text("Over%20the%20budget")
    # Once the budget is back (here: the window forgotten), the next edit brings a new draft.
    live.server.call(window.close())
    page.get_by_label("Title (required)").fill("Back within the budget")
    expect(status).to_contain_text("299 of 300 previews left this hour")
    expect(page.locator("#pg-img")).not_to_have_class(re.compile(r"\bstale\b"))
    assert page.locator("#pg-image").get_attribute("src") != first


def test_the_pages_own_retry_after_a_429_is_not_activity(page_factory, live):
    """A refused preview is tried again by the page itself after Retry-After: that retry (and
    the signing after it) is sent as a timed refresh, not as the person's activity."""
    page, watch = page_factory()
    watch.expected.append("status of 429")
    signup(page, live.email("retry"))
    page.locator("#actions").get_by_role("button", name="Test API").click()
    expect(page.locator("#pg-image")).to_be_visible()
    sent: list[tuple[str, str | None]] = []
    refuse = {"left": 1}

    def route(r) -> None:
        sent.append((r.request.url, r.request.headers.get("x-auto-refresh")))
        if refuse["left"] and "/preview" in r.request.url:
            refuse["left"] -= 1
            r.fulfill(status=429, headers={"Retry-After": "1", "X-RateLimit-Remaining": "3"},
                      json={"code": "RATE_LIMITED", "message": "Too many previews."})  # fmt: skip
            return
        r.continue_()

    page.route(re.compile(r"/api/dashboard/(preview|sign)"), route)
    page.get_by_label("Title (required)").fill("Edited by hand")
    expect(page.locator("#pg-status")).to_contain_text("Catching up with your edits")
    expect(page.locator("#pg-status")).to_contain_text("previews left this hour", timeout=15_000)
    previews = [auto for url, auto in sent if "/preview" in url]
    signs = [auto for url, auto in sent if "/sign" in url]
    assert previews == [None, "1"]  # the edit, then the page's own retry
    assert signs[0] is None and signs[-1] == "1"
