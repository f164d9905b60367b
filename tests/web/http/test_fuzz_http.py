"""Property-based fuzzing of the REST image API, signed URLs and the admin API over real HTTP
(a raw socket, so any bytes can be sent): whatever arrives, the answer is never a 5xx, and an
`/api/*` error is the JSON error shape.

Inputs are drawn first (a plain, bounded, derandomised Hypothesis run), then sent one by one,
after a few known-hostile inputs that once answered 500 (kept as regressions).
`OGAPI_FUZZ_EXAMPLES` (default 40) sets the number of inputs per target; run longer locally,
e.g. `OGAPI_FUZZ_EXAMPLES=2000 .venv/bin/pytest tests/web/http/test_fuzz_http.py`.
"""

from __future__ import annotations

import asyncio
import json
import os
from datetime import UTC, datetime
from urllib.parse import quote, quote_plus, urlsplit

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from yarl import URL

from models import Account, PlanId
from resolvers.accounts.keys import active_key, reveal
from resolvers.images.params import PARAMS
from resolvers.ledger import entries as ledger
from tests.conftest import PASSWORD, set_account
from tests.web.imaging import CountingPool, client_with_pool
from web.appkeys import secret_box_key

EXAMPLES = int(os.environ.get("OGAPI_FUZZ_EXAMPLES", "40"))
pytestmark = pytest.mark.timeout(120 + EXAMPLES)
ADMIN = "fuzz-admin-token-0123456789"

NAMES = [*sorted(PARAMS), "kid", "exp", "sig", "expires_in"]
ODD_NUMBERS = ["²", "--5", "+5", "-0", "1e3", "0x10", "٣٠٠", "１２００", " 600 ", "600\x00",
               "5" * 5000, "9" * 19, "1_000", "6e2", "Infinity", "NaN", "", "   "]  # fmt: skip


def _draw(strategy, n: int = EXAMPLES) -> list:
    out: list = []

    @settings(max_examples=n, database=None, deadline=None, derandomize=True,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(strategy)
    def collect(value) -> None:
        out.append(value)

    collect()
    return out


# ----------------------------------------------------------------------------- strategies

texts = st.one_of(
    st.text(max_size=30),
    st.text(alphabet=st.characters(categories=["Nd", "No", "Zs", "Cc", "Cf"]), max_size=8),
    st.sampled_from(ODD_NUMBERS),
    st.integers(-(10**40), 10**40).map(str),
    st.sampled_from(
        [
            "#fff",
            "#1e3a8a",
            "https://example.com/a.png",
            "javascript:alert(1)",
            "http://127.0.0.1:9/x.png",
            "blog",
            "dark",
            "jpeg",
            "webp",
        ]
    ),
)
names = st.one_of(st.sampled_from(NAMES), st.text(max_size=10))


def _raw(text: str) -> bytes:
    """As typed, percent-encoding only what would break the request line."""
    data = text.encode("utf-8", "surrogatepass")
    return b"".join(b"%%%02X" % c if c in b" \r\n\t#" or c < 0x20 else bytes([c]) for c in data)


ENCODINGS = {
    "pct": lambda t: quote(t, safe="").encode(),
    "plus": lambda t: quote_plus(t).encode(),
    "twice": lambda t: quote(quote(t, safe=""), safe="").encode(),
    "raw": _raw,
}
encoded = st.tuples(st.sampled_from(sorted(ENCODINGS)), texts).map(lambda p: ENCODINGS[p[0]](p[1]))
raw_bytes = st.binary(max_size=8).map(lambda b: b"".join(b"%%%02X" % c for c in b))
pairs = st.lists(st.tuples(st.sampled_from(NAMES).map(str.encode) | encoded,
                           encoded | raw_bytes), max_size=8)  # fmt: skip
header_values = st.one_of(
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40).map(
        str.encode
    ),
    st.binary(max_size=20).map(lambda b: bytes(c for c in b if c not in b"\r\n")),
    st.sampled_from([b"Bearer \xff\xfe\xfd", b"\xe9t\xe9", b"Bearer " + b"\xc3\xa9" * 8]),
)
odd_headers = st.lists(
    st.tuples(st.sampled_from([b"Accept", b"If-None-Match", b"X-Forwarded-For", b"Content-Type",
                               b"Authorization", b"Cookie", b"Origin", b"X-Request-Id"]),
              header_values), max_size=3)  # fmt: skip
json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**30), 10**30),
    st.floats(),
    texts,
)
json_values = st.recursive(json_leaf, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                           max_leaves=6)  # fmt: skip
json_bodies = st.dictionaries(names, json_values, max_size=8).map(
    lambda d: json.dumps(d, allow_nan=True).encode()
)
raw_bodies = st.one_of(
    st.binary(max_size=60),
    st.sampled_from([b"[" * 50_000, b'{"title": ' + b"1" * 5000 + b"}", b'{"title": "\\ud800"}',
                     b'{"title": "\\udfff x", "subtitle": "\\ud83d"}', b"\xff\xfe{}", b"null",
                     b'{"title": "t", "title": "u"}', b'{"title": "' + b"x" * 300 + b'"}']),
)  # fmt: skip


# ----------------------------------------------------------------------------- a raw client


async def send(port: int, method: bytes, target: bytes, headers=(), body: bytes = b""):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        head = [method + b" " + target + b" HTTP/1.1", b"Host: fuzz", b"Connection: close",
                b"Content-Length: " + str(len(body)).encode()]  # fmt: skip
        head += [name + b": " + value for name, value in headers]
        writer.write(b"\r\n".join(head) + b"\r\n\r\n" + body)
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), 60)
    finally:
        writer.close()
    head, _, payload = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, head.decode("latin-1"), payload


def check(status: int, head: str, payload: bytes, target: bytes, what, seen=None) -> None:
    if seen is not None:
        seen.add(status)
    assert status < 500, (status, target[:300], what, payload[:300])
    if target.startswith(b"/api/") and 400 <= status < 500 and "application/json" in head:
        body = json.loads(payload)
        assert body["error"] is True and body["code"] and body["message"], body
        assert body["request_id"], body


@pytest.fixture
async def api(aiohttp_client, make_app, clock):
    clock.set(datetime(2026, 5, 10, 12, 0, tzinfo=UTC))
    return await client_with_pool(aiohttp_client, make_app, CountingPool(), admin_token=ADMIN)


@pytest.fixture
async def owner(api):
    email = "fuzz@example.com"
    resp = await api.post("/api/auth/signup", json={"email": email, "password": PASSWORD})
    assert resp.status == 201
    acct = await Account.get(email=email)
    await set_account(acct.id, plan=PlanId.PUBLISHING)
    await ledger.grant(acct.id, "5", datetime(2026, 5, 10, tzinfo=UTC))
    return acct, reveal(await active_key(acct), api.app[secret_box_key])


def _key_headers(key: str):
    return st.one_of(
        st.just([(b"X-API-Key", key.encode())]),
        st.just([]),
        header_values.map(lambda v: [(b"X-API-Key", v)]),
        st.just([(b"X-API-Key", key.encode()), (b"X-API-Key", key.encode())]),
    )


async def test_rest_image_parameters_never_5xx(api, owner):
    _, key = owner
    port = api.server.port
    seen: set[int] = set()
    known = [([(b"title", b"t"), (b"width", value)], [(b"X-API-Key", key.encode())], [])
             for value in (b"%C2%B2", b"--5", b"5" * 5000)]  # fmt: skip
    gets = known + _draw(st.tuples(pairs, _key_headers(key), odd_headers))
    for query, keys, extra in gets:
        target = b"/api/generate?" + b"&".join(k + b"=" + v for k, v in query)
        if query and query[0][0] == b"title":
            target = b"/api/generate?" + b"&".join([b"title=t"] + [k + b"=" + v for k, v in query])
        check(*await send(port, b"GET", target, [*keys, *extra]), target, (keys, extra), seen)
    posts = _draw(st.tuples(json_bodies | raw_bodies, _key_headers(key), odd_headers))
    for body, keys, extra in posts:
        headers = [(b"Content-Type", b"application/json"), *keys, *extra]
        answer = await send(port, b"POST", b"/api/generate", headers, body)
        check(*answer, b"/api/generate", body, seen)
    minting = _draw(st.tuples(pairs, _key_headers(key)), max(10, EXAMPLES // 2))
    for query, keys in minting:
        target = b"/api/signed/generate?title=t&" + b"&".join(k + b"=" + v for k, v in query)
        check(*await send(port, b"GET", target, keys), target, keys, seen)
    assert {200, 400, 401} <= seen  # the inputs reached renders, the parser and the key check


# Values a signed URL's controls must survive: 64 characters (the length of a sig) that are
# not hex, Unicode digits, thousands of digits.
controls = st.one_of(
    st.text(min_size=64, max_size=64).map(lambda t: quote(t, safe="").encode()),
    st.sampled_from([b"%C3%A9" * 64, b"%FF" * 64, b"%C2%B2", b"5" * 5000, b"-1", b"%ED%A0%80"]),
)


def _mutations():
    op = st.one_of(
        st.tuples(st.just("set"), st.sampled_from(["sig", "kid", "exp", "title", "width"])
                  | names.map(str), encoded | raw_bytes | controls),
        st.tuples(st.just("drop"), st.sampled_from(["sig", "kid", "exp", "title"]), st.just(b"")),
        st.tuples(st.just("repeat"), st.sampled_from(["sig", "kid", "title"]), st.just(b"")),
        st.tuples(st.just("append"), st.just(""), encoded | raw_bytes),
    )  # fmt: skip
    return st.lists(op, min_size=1, max_size=3)


async def test_signed_url_queries_never_5xx(api, owner):
    _, key = owner
    port = api.server.port
    minted = []
    for params in ({"title": "Fuzzed & signed", "width": "400", "height": "210"},
                   {"title": "Expiring", "expires_in": "600", "template": "blog"}):  # fmt: skip
        resp = await api.get("/api/signed/generate", params=params, headers={"X-API-Key": key})
        assert resp.status == 200
        minted.append(urlsplit((await resp.json())["url"]).query)
    seen: set[int] = set()
    known = [[("set", name, value)] for name in ("sig", "kid", "exp")
             for value in (b"%C3%A9" * 64, b"%FF" * 64, b"%C2%B2", b"5" * 5000)]  # fmt: skip
    for i, ops in enumerate(known + _draw(_mutations())):
        original = minted[i % 2]
        parts = [p.split("=", 1) for p in original.split("&")]
        items = [(k.encode(), v.encode()) for k, v in parts]
        for kind, name, value in ops:
            if kind == "set":
                items = [(k, v) for k, v in items if k != name.encode()]
                items.append((quote(name, safe="").encode(), value))
            elif kind == "drop":
                items = [(k, v) for k, v in items if k != name.encode()]
            elif kind == "repeat":
                items += [(k, v) for k, v in items if k == name.encode()][:1]
            else:
                items.append((value, b"1"))
        target = b"/api/signed/image?" + b"&".join(k + b"=" + v for k, v in items)
        status, head, payload = await send(port, b"GET", target)
        check(status, head, payload, target, ops, seen)
        if status == 200 and "X-OG-Degraded" not in head:
            got = sorted(URL(target.decode("latin-1")).query.items())
            assert got == sorted(URL("/?" + original).query.items()), (target, ops)
    assert 403 in seen


async def test_admin_api_never_5xx(api, owner):
    acct, _ = owner
    port = api.server.port
    auth = st.one_of(
        st.just([(b"Authorization", b"Bearer " + ADMIN.encode())]),
        st.just([(b"Authorization", ADMIN.encode())]),
        header_values.map(lambda v: [(b"Authorization", v)]),
        header_values.map(lambda v: [(b"Authorization", b"Bearer " + v)]),
        st.just([]),
    )
    idem = st.one_of(st.just([]), header_values.map(lambda v: [(b"Idempotency-Key", v)]),
                     st.uuids().map(lambda u: [(b"Idempotency-Key", str(u).encode())]))  # fmt: skip
    fields = st.fixed_dictionaries(
        {},
        optional={
            "email": st.sampled_from([acct.email, "nobody@example.com", "", " FUZZ@example.com "])
            | json_values,
            "service": st.sampled_from(["ai_data", "ai_images", "og_image", ""]) | json_values,
            "tokens": json_values,
            "images": json_values,
            "description": json_values,
        },
    ).map(lambda d: json.dumps(d, allow_nan=True).encode())
    seen: set[int] = set()
    known = [
        ([(b"Authorization", value)], [], b"{}")
        for value in (b"Bearer \xff\xfe\xfd", b"\xe9t\xe9", b"Bearer \xc3\xa9")
    ]
    for headers, key, body in known + _draw(st.tuples(auth, idem, fields | raw_bodies)):
        all_headers = [(b"Content-Type", b"application/json"), *headers, *key]
        status, head, payload = await send(port, b"POST", b"/api/admin/usage", all_headers, body)
        check(status, head, payload, b"/api/admin/usage", (headers, key, body), seen)
    assert {400, 401} <= seen
    acct = await Account.get(id=acct.id)
    assert acct.balance >= 0  # whatever was recorded, never past the credits
