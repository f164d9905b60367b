"""A webhook receiver for tests: a real aiohttp server on 127.0.0.1 that records every POST and
answers 500 to the first `fail` of them (or `status`, after `delay` seconds), and the
verification recipe of docs/webhooks.md, run as documented (Python in-process, JavaScript
with node)."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

DOC = Path(__file__).resolve().parents[1] / "docs" / "webhooks.md"


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    fail: int = 0  # answer 500 to this many posts first
    status: int = 200
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    url: str = ""

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/hook", self._handle)
        return app

    async def _handle(self, request: web.Request) -> web.Response:
        self.received.append(Received(dict(request.headers), await request.read()))
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail > 0:
            self.fail -= 1
            return web.Response(status=500, text="not now")
        return web.Response(status=self.status)

    async def wait_for(self, count: int, seconds: float = 10.0) -> list[Received]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while len(self.received) < count and loop.time() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
        return self.received


async def start_receiver(aiohttp_server, **options) -> Receiver:
    receiver = Receiver(**options)
    server = await aiohttp_server(receiver.app())
    receiver.url = str(server.make_url("/hook"))
    return receiver


def documented(kind: str) -> str:
    """The docs' verification example of `kind` (python or js), as written."""
    blocks = re.findall(r"^```(python|js) doctest\n(.*?)^```$", DOC.read_text(), re.S | re.M)
    return next(code for lang, code in blocks if lang == kind)


def verify_with_python_recipe(secret: str, got: Received) -> bool:
    scope: dict = {}
    exec(compile(documented("python"), str(DOC), "exec"), scope)
    return scope["verify"](secret, got.headers["OGAPI-Signature"], got.body)


def verify_with_js_recipe(secret: str, got: Received, tmp: Path) -> bool | None:
    """None when node is not installed (scripts/setup.sh test installs it)."""
    node = shutil.which("node")
    if node is None:
        return None
    script = tmp / "verify.mjs"
    script.write_text(documented("js") + "\nconst [s, h, b] = process.argv.slice(2);\n"
                      "console.log(verify(s, h, Buffer.from(b, 'base64')));\n")  # fmt: skip
    import base64

    out = subprocess.run([node, str(script), secret, got.headers["OGAPI-Signature"],
                          base64.b64encode(got.body).decode()],
                         capture_output=True, text=True, timeout=60, check=True)  # fmt: skip
    return out.stdout.strip().splitlines()[-1] == "true"
