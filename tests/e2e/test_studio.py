"""The template studio in Chromium (docs/dashboard.md, Template studio): fork a built-in, edit
with controls and on the preview, the JSON tab's errors at their layer, versions, delete, the
playground, axe on every state, phone width, dark, and the studio's own JS+CSS budget."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from playwright.sync_api import expect

from tests.e2e.conftest import axe_check, signup

BUDGET_BYTES = 40_000  # the studio's own modules and stylesheet (studio*.js, studio.css)
BLANK = {
    "width": 1200, "height": 630, "background": "#0f172a",
    "fields": {"title": {"type": "string", "required": True, "max_length": 120}},
    "layers": [
        {"type": "rect", "name": "Bar", "box": [0, 0, 1200, 24], "fill": "#3b82f6"},
        {"type": "text", "name": "Title", "box": [80, 200, 1040, 230], "text": "{{title}}",
         "weight": 700, "size": 64, "min_size": 32, "max_lines": 3, "color": "#ffffff"},
    ],
}  # fmt: skip
ROOT = Path(__file__).resolve().parents[2]
SHOTS = os.environ.get("OGAPI_STUDIO_SHOTS")  # a folder: write the docs' screenshots there


def _make(page, name: str = "Launch card", design: dict = BLANK) -> str:
    made = page.request.post("/api/templates", data={"name": name, "design": design})
    assert made.status == 201, made.text()
    return made.json()["id"]


def _design(page, tpl: str) -> dict:
    return page.request.get(f"/api/templates/{tpl}").json()["design"]


def _open(page, tpl: str) -> None:
    page.goto(f"/dashboard/templates/{tpl}")
    expect(page.locator("#st-status")).to_contain_text("Preview up to date")


def _new_in_editor(page, email: str, name: str = "Launch card") -> str:
    """Sign up `email`, make a template `name` and open it in the editor: its id."""
    signup(page, email)
    tpl = _make(page, name)
    _open(page, tpl)
    return tpl


def _red_pixels(page) -> int:
    """Strongly red pixels of the preview as the page shows it (drawn to a canvas)."""
    return page.evaluate(
        """() => { const i = document.querySelector('#st-img');
        const c = document.createElement('canvas');
        c.width = i.naturalWidth; c.height = i.naturalHeight;
        const x = c.getContext('2d'); x.drawImage(i, 0, 0);
        const d = x.getImageData(0, 0, c.width, c.height).data; let n = 0;
        for (let k = 0; k < d.length; k += 4) if (d[k] > 180 && d[k + 1] < 80 && d[k + 2] < 80) n++;
        return n; }"""
    )


def test_fork_a_builtin_and_change_the_title_colour(page_factory, live):
    page, _ = page_factory()
    signup(page, live.email("studio"))
    page.get_by_role("link", name="Templates").click()
    expect(page.get_by_role("heading", name="Templates", exact=True)).to_be_visible()
    expect(page.get_by_text("No templates yet")).to_be_visible()
    axe_check(page, "studio list (empty)")
    page.get_by_role("button", name="New template").click()
    dialog = page.get_by_role("dialog", name="New template")
    dialog.get_by_text("minimal", exact=True).click()
    dialog.get_by_label("Name").fill("Launch card")
    axe_check(page, "new template dialog")
    dialog.get_by_role("button", name="Create").click()
    page.wait_for_url(re.compile(r".*/dashboard/templates/tpl_[a-z0-9]{16}$"))
    tpl = page.url.rsplit("/", 1)[1]
    expect(page.locator("#st-status")).to_contain_text("Preview up to date")
    builtin = page.request.get("/api/templates/minimal").json()["design"]
    assert _design(page, tpl) == builtin  # a fork: the built-in's design as it is
    axe_check(page, "editor")

    title = page.locator("#layer-0-2 .st-pick")  # the title drawn when there is a subtitle
    title.click()
    expect(title).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#p-color")).to_have_value("$text")
    axe_check(page, "editor, a text layer selected")
    assert _red_pixels(page) == 0
    src = page.locator("#st-img").get_attribute("src")
    page.get_by_label("Pick colour").fill("#ff0000")
    expect(page.locator("#p-color")).to_have_value("#ff0000")
    expect(page.locator("#st-meta")).to_contain_text("unsaved changes")
    expect(page.locator("#st-img")).not_to_have_attribute("src", src)
    page.wait_for_function("document.querySelector('#st-img').complete")
    assert _red_pixels(page) > 500  # the title, now red, in the draft
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="Saved as version 2")).to_be_visible()
    assert _design(page, tpl)["layers"][0]["layers"][2]["color"] == "#ff0000"

    page.get_by_role("link", name="← Templates").click()
    card = page.locator(".st-cards li").filter(has_text="Launch card")
    expect(card).to_contain_text("Version 2")
    expect(card.locator("img")).to_have_attribute("alt", "Preview of Launch card")
    axe_check(page, "studio list")


def test_drag_resize_and_nudge_a_layer_on_the_preview(page_factory, live):
    page, _ = page_factory()
    tpl = _new_in_editor(page, live.email("drag"))
    canvas = page.locator("#st-canvas").bounding_box()
    scale = 1200 / canvas["width"]
    page.locator('.st-box[data-path="1"]').click()
    expect(page.locator("#layer-1 .st-pick")).to_have_attribute("aria-pressed", "true")
    # The corner handle resizes; dragging the box moves it.
    handle = page.locator(".st-handle").bounding_box()
    hx, hy = handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2
    page.mouse.move(hx, hy)
    page.mouse.down()
    page.mouse.move(hx - 40, hy - 20, steps=5)
    page.mouse.up()
    dw, dh = round(-40 * scale), round(-20 * scale)
    expect(page.locator('[data-k="box.2"]')).to_have_value(str(1040 + dw))
    box = page.locator('.st-box[data-path="1"]').bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 30, y + 15, steps=4)
    page.mouse.move(x + 60, y + 30, steps=4)
    page.mouse.up()
    dx, dy = round(60 * scale), round(30 * scale)
    expect(page.locator('[data-k="box.0"]')).to_have_value(str(80 + dx))
    # Arrow keys nudge the selected layer, 10 px with Shift.
    page.locator("#st-canvas").focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Shift+ArrowDown")
    expect(page.locator('[data-k="box.1"]')).to_have_value(str(200 + dy + 10))
    expect(page.locator("#st-status")).to_contain_text("Preview up to date")
    axe_check(page, "editor after dragging")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#st-meta")).to_contain_text("version 2")
    assert _design(page, tpl)["layers"][1]["box"] == [80 + dx + 1, 200 + dy + 10,
                                                      1040 + dw, 230 + dh]  # fmt: skip


def test_layers_add_duplicate_reorder_and_delete_with_the_keyboard(page_factory, live):
    page, _ = page_factory()
    tpl = _new_in_editor(page, live.email("layers"))
    page.get_by_label("Layer type").select_option("rect")
    add = page.get_by_role("button", name="Add layer")
    add.focus()
    page.keyboard.press("Enter")  # a rectangle on top, selected and focused in the list
    expect(page.locator("#layer-2 .st-pick")).to_be_focused()
    page.get_by_role("button", name="Duplicate").press("Enter")
    expect(page.locator("#layer-3 .st-pick")).to_have_attribute("aria-pressed", "true")
    page.locator("#p-name").fill("Badge")
    for _ in range(3):
        page.get_by_role("button", name="Move up").press("Enter")
    expect(page.locator("#layer-0")).to_contain_text("Badge")
    page.locator("#layer-2 .st-pick").press("Enter")  # the Title, now third
    page.get_by_role("button", name="Delete layer").press("Enter")
    expect(page.locator("#st-status")).to_contain_text("Preview up to date")
    axe_check(page, "editor after layer changes")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#st-meta")).to_contain_text("version 2 ·")
    layers = _design(page, tpl)["layers"]
    assert [(la["type"], la.get("name")) for la in layers] == [
        ("rect", "Badge"), ("rect", "Bar"), ("rect", None)]  # fmt: skip


def test_the_font_picker_offers_the_accounts_uploaded_fonts(page_factory, live):
    page, _ = page_factory()
    signup(page, live.email("fonts"))
    ttf = (ROOT / "render" / "fonts" / "NotoSans-Bold.ttf").read_bytes()
    up = page.request.post(
        "/api/fonts?family=Brand%20Sans", data=ttf, headers={"Content-Type": "font/ttf"}
    )
    assert up.status == 201, up.text()
    font = up.json()["id"]
    tpl = _make(page)
    _open(page, tpl)
    page.locator("#layer-1 .st-pick").click()
    picker = page.get_by_label("Font", exact=True)
    expect(picker.locator("option")).to_contain_text(["(default)", "Inter", "Brand Sans"])
    picker.select_option(font)
    expect(page.locator("#st-status")).to_contain_text("Preview up to date")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#st-meta")).to_contain_text("version 2 ·")
    assert _design(page, tpl)["layers"][1]["font"] == font


def test_broken_json_shows_the_error_at_its_layer(page_factory, live):
    page, watch = page_factory()
    watch.expected.append("status of 400")  # the browser's own log line for each refusal
    _new_in_editor(page, live.email("json"))
    page.get_by_role("tab", name="JSON").click()
    text = page.get_by_label("Design (JSON)")
    design = json.loads(text.input_value())
    assert design == BLANK
    design["layers"][1]["color"] = "red"
    text.fill(json.dumps(design, indent=2))
    errors = page.locator("#st-json-errors")
    expect(errors).to_contain_text("/layers/1/color")
    expect(errors.get_by_role("button", name="Layer 2: Title")).to_be_visible()
    expect(page.locator("#st-status")).to_contain_text("1 problem")
    axe_check(page, "JSON tab with an error")
    text.fill("{ not json")
    expect(errors).to_contain_text("Not valid JSON")
    text.fill(json.dumps(design, indent=2))
    errors.get_by_role("button", name="Layer 2: Title").click()
    # The Design tab: the layer is selected and marked; the error is beside its colour control.
    expect(page.locator("#layer-1")).to_contain_text("color:")
    expect(page.locator("#layer-1 .st-pick")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#e-color")).to_be_visible()
    expect(page.locator("#p-color")).to_have_attribute("aria-invalid", "true")
    axe_check(page, "design tab with an error")
    save = page.get_by_role("button", name="Save", exact=True)
    save.click()
    expect(page.locator("#st-status")).to_contain_text("Not saved")
    page.locator("#p-color").fill("#ffcc00")
    expect(page.get_by_label("Pick colour")).to_have_value("#ffcc00")  # the swatch follows
    expect(page.locator("#e-color")).to_be_hidden()
    expect(page.locator("#st-status")).to_contain_text("Preview up to date")
    save.click()
    expect(page.locator("#st-meta")).to_contain_text("version 2")


def test_save_twice_restore_version_1_and_delete(page_factory, live):
    page, watch = page_factory()
    tpl = _new_in_editor(page, live.email("versions"), "Versioned")
    page.locator("#layer-1 .st-pick").click()
    save = page.get_by_role("button", name="Save", exact=True)
    for size, version in (("72", 2), ("80", 3)):
        page.get_by_label("Size", exact=True).fill(size)
        save.click()
        expect(page.locator("#st-meta")).to_contain_text(f"version {version} ·")
    assert _design(page, tpl)["layers"][1]["size"] == 80
    page.get_by_role("button", name="Versions").click()
    dialog = page.get_by_role("dialog", name="Versions")
    expect(dialog.locator("li")).to_have_count(3)
    expect(dialog.locator("[data-v] img")).to_have_count(3)
    axe_check(page, "versions dialog")
    dialog.get_by_role("button", name="Restore version 1").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#st-meta")).to_contain_text("version 4 ·")
    saved = page.request.get(f"/api/templates/{tpl}").json()
    assert saved["version"] == 4 and saved["design"] == BLANK
    assert page.locator('[data-k="size"]').count() == 0  # the selection is gone with the old state

    # Delete asks first: Cancel keeps it; confirming deletes it and goes back to the list.
    page.get_by_role("button", name="Delete", exact=True).click()
    confirm = page.get_by_role("dialog", name="Delete “Versioned”?")
    expect(confirm).to_be_visible()
    axe_check(page, "delete confirmation")
    confirm.get_by_role("button", name="Cancel").click()
    assert page.request.get(f"/api/templates/{tpl}").status == 200
    page.get_by_role("button", name="Delete", exact=True).click()
    confirm.get_by_role("button", name="Delete template").click()
    page.wait_for_url("**/dashboard/templates")
    expect(page.get_by_text("No templates yet")).to_be_visible()
    assert page.request.get(f"/api/templates/{tpl}").status == 404
    # Its old address now says so (the editor's error state).
    watch.expected.append("status of 404")
    page.goto(f"/dashboard/templates/{tpl}")
    expect(page.locator("#st-banner")).to_contain_text("doesn't exist")
    axe_check(page, "editor of a deleted template")


def test_leaving_with_unsaved_changes_asks_first(page_factory, live):
    page, _ = page_factory()
    tpl = _new_in_editor(page, live.email("leave"))
    page.get_by_label("Template name").fill("Renamed")
    page.get_by_role("link", name="Dashboard").click()
    ask = page.get_by_role("dialog", name="Leave without saving?")
    expect(ask).to_be_visible()
    axe_check(page, "leave confirmation")
    ask.get_by_role("button", name="Cancel").click()
    assert page.url.endswith(tpl)
    # In the page: back to the list, then Back to the editor (history), then Back again.
    page.get_by_role("link", name="← Templates").click()
    expect(ask).to_be_visible()
    ask.get_by_role("button", name="Cancel").click()
    assert page.url.endswith(tpl) and page.get_by_label("Template name").input_value() == "Renamed"
    page.get_by_role("link", name="Dashboard").click()
    ask.get_by_role("button", name="Leave").click()
    page.wait_for_url("**/dashboard")
    page.go_back()  # the editor again, freshly loaded: nothing to lose, nothing asked
    expect(page.get_by_label("Template name")).to_have_value("Launch card")
    page.get_by_label("Template name").fill("Renamed again")
    page.get_by_role("link", name="← Templates").click()
    ask.get_by_role("button", name="Leave").click()
    expect(page.get_by_role("heading", name="Templates", exact=True)).to_be_visible()
    page.go_back()
    expect(page.get_by_label("Template name")).to_have_value("Launch card")  # not saved
    page.get_by_role("link", name="← Templates").click()  # nothing unsaved: no question
    page.get_by_role("link", name="Launch card", exact=True).click()
    expect(page.locator("#st-status")).to_contain_text("Preview up to date")  # loaded
    page.get_by_label("Template name").fill("Kept")
    page.go_back()  # Back with unsaved changes asks too; staying keeps the editor
    ask.get_by_role("button", name="Cancel").click()
    # The address is put back once the dialog's (asynchronous) close event has run: wait for it.
    expect(page).to_have_url(re.compile(re.escape(tpl) + "$"))
    expect(page.get_by_label("Template name")).to_have_value("Kept")


def test_use_the_template_in_the_playground(page_factory, live):
    page, _ = page_factory()
    tpl = _new_in_editor(page, live.email("use"), "Playground card")
    page.get_by_role("link", name="Use in playground").click()
    page.wait_for_url(f"**/dashboard?template={tpl}#playground")
    expect(page.get_by_label("Template")).to_have_value(tpl)
    expect(page.get_by_label("Template")).to_contain_text("Playground card (yours)")
    expect(page.locator("#pg-image")).to_be_visible()
    expect(page.locator("#pg-url")).to_contain_text(f"template={tpl}")
    url = page.locator("#pg-url").inner_text()
    assert page.request.get(url).headers["content-type"].startswith("image/")
    page.get_by_role("tab", name="LinkedIn").click()
    expect(page.locator("#pg-mock img")).to_be_visible()


def test_phone_width_dark_and_the_budget(page_factory, live, record_property):
    sizes: dict[str, int] = {}
    for width, scheme in ((1280, "light"), (1280, "dark"), (390, "light")):
        page, _ = page_factory(width=width, scheme=scheme)
        if not sizes:
            page.on("response", lambda r: _measure(r, sizes))
        signup(page, live.email(f"shot{width}{scheme}"))
        blog = page.request.get("/api/templates/blog").json()["design"]
        tpl = _make(page, "Blog post", blog)
        _open(page, tpl)
        page.locator("#layer-5-1 .st-pick").click()  # the title, in the "Title and excerpt" stack
        expect(page.locator("#p-text")).to_have_value("{{title}}")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        axe_check(page, f"editor {width} {scheme}")
        if SHOTS:
            Path(SHOTS).mkdir(parents=True, exist_ok=True)
            name = "studio-phone" if width == 390 else f"studio-{scheme}"
            page.evaluate("scrollTo(0, 0)")
            page.screenshot(path=str(Path(SHOTS) / f"{name}.png"))
    own = sum(sizes.values())
    print(f"\nBUDGET studio JS+CSS {own} bytes {sorted(sizes)}")
    record_property("studio_js_css_bytes", own)
    assert len(sizes) == 5 and own <= BUDGET_BYTES


def _measure(response, sizes: dict[str, int]) -> None:
    name = response.url.split("?")[0].rsplit("/", 1)[-1]
    if name.startswith("studio") and response.status == 200:
        sizes[name] = len(response.body())
