"""The dashboard screenshots in docs/img/, taken in Debian's Chromium against a real server.

usage: python -m bench.screenshots [--out docs/img] [--all /tmp/shots]

Starts `ogapi serve` on a private SQLite database, creates `ogapi demo`'s account and a new one,
and writes dashboard-light.png, dashboard-dark.png (1280 px), dashboard-phone.png (390 px,
light and dark side by side), dashboard-new-account.png and dashboard-playground.png.
`--all DIR` also saves every combination (1280 and 390 px, light and dark, demo and new
account) as full pages, for looking at each change.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

from tests.services import free_port, wait_http_ok

CHROMIUM = "/usr/bin/chromium"
HEIGHT = 1500
PASSWORD = "correct horse battery"


def _cli(args: list[str], env: dict[str, str]) -> str:
    cmd = [sys.executable, "-m", "web.cli.main", *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout


def _shoot(browser, base: str, creds: dict, width: int, scheme: str, path: Path, full: bool):
    ctx = browser.new_context(viewport={"width": width, "height": HEIGHT}, color_scheme=scheme,
                              timezone_id="UTC", base_url=base)  # fmt: skip
    try:
        page = ctx.new_page()
        assert page.request.post("/api/auth/login", data=creds).ok
        page.goto("/dashboard")
        page.wait_for_selector("body[data-loaded]")
        page.evaluate("document.fonts.ready")
        page.screenshot(path=str(path), full_page=full)
        return page, ctx
    except BaseException:
        ctx.close()
        raise


def _palette(path: Path) -> None:
    """256 colours, as the committed screenshots have always been (a third of the bytes)."""
    img = Image.open(path).convert("RGB")
    img.quantize(256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="docs/img")
    ap.add_argument("--all", help="also save every width, scheme and account as full pages here")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    out = Path(args.out)
    tmp = Path(tempfile.mkdtemp(prefix="ogapi-shots-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "OGAPI_DATA_DIR": str(tmp), "SECRET_KEY": secrets.token_urlsafe(48),
           "DATABASE_URL": f"sqlite://{tmp / 'shots.sqlite3'}", "BASE_URL": base}  # fmt: skip
    for name in ("STRIPE_SECRET_KEY", "REDIS_URL", "OGAPI_ENV"):
        env.pop(name, None)
    _cli(["migrate"], env)
    demo = dict(re.findall(r"^(\w+): (\S+)$", _cli(["demo", "--seed", "7"], env), re.M))
    server = subprocess.Popen(
        [sys.executable, "-m", "web.cli.main", "serve", "--port", str(port)], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        asyncio.run(wait_http_ok(f"{base}/health", 60))
        new = {"email": f"new-{secrets.token_hex(3)}@example.com", "password": PASSWORD}
        demo_creds = {"email": demo["email"], "password": demo["password"]}
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            ctx = browser.new_context(base_url=base)
            assert ctx.request.post("/api/auth/signup", data=new).status == 201
            ctx.close()
            shots = [("dashboard-light", demo_creds, 1280, "light"),
                     ("dashboard-dark", demo_creds, 1280, "dark"),
                     ("dashboard-new-account", new, 1280, "light")]  # fmt: skip
            for name, creds, width, scheme in shots:
                _shoot(browser, base, creds, width, scheme, out / f"{name}.png", False)[1].close()
            halves = []
            for scheme in ("light", "dark"):
                path = tmp / f"phone-{scheme}.png"
                _shoot(browser, base, demo_creds, 390, scheme, path, False)[1].close()
                halves.append(Image.open(path))
            sheet = Image.new("RGB", (390 * 2 + 24, HEIGHT), (255, 255, 255))
            sheet.paste(halves[0], (0, 0))
            sheet.paste(halves[1], (390 + 24, 0))
            sheet.save(out / "dashboard-phone.png", optimize=True)
            page, ctx = _shoot(browser, base, new, 1280, "light", tmp / "pg.png", False)
            page.get_by_role("button", name="Open the playground").click()
            page.locator("#pg-image").wait_for()
            page.wait_for_function("() => document.querySelector('#pg-image').naturalWidth > 0")
            page.locator("#playground").screenshot(path=str(out / "dashboard-playground.png"))
            ctx.close()
            for name in ("light", "dark", "new-account", "phone", "playground"):
                _palette(out / f"dashboard-{name}.png")
            if args.all:
                where = Path(args.all)
                where.mkdir(parents=True, exist_ok=True)
                for who, creds in (("demo", demo_creds), ("new", new)):
                    for width in (1280, 390):
                        for scheme in ("light", "dark"):
                            path = where / f"{who}-{width}-{scheme}.png"
                            _shoot(browser, base, creds, width, scheme, path, True)[1].close()
            browser.close()
    finally:
        server.terminate()
        server.wait(30)
    print(f"screenshots in {out}" + (f" and {args.all}" if args.all else ""))


if __name__ == "__main__":
    main()
