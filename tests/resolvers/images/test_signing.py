"""resolvers.images.signing: the canonical string, the key derivation, expiry and the meta block."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from urllib.parse import parse_qsl

import pytest

from resolvers.errors import AppError
from resolvers.images.params import parse_params
from resolvers.images.signing import (
    canonical_query,
    expiry,
    meta_block,
    signature,
    signed_query,
    signing_key,
)

KEY = "og_" + "a" * 32


def test_canonical_query_sorts_and_encodes_rfc3986():
    params = {"title": "Hello, world & more", "kid": "k1", "bg_color": "#ff0000", "x": "a~b.c-d_e"}
    assert canonical_query(params) == (
        "bg_color=%23ff0000&kid=k1&title=Hello%2C%20world%20%26%20more&x=a~b.c-d_e"
    )
    assert canonical_query({"title": "ü/é+*"}) == "title=%C3%BC%2F%C3%A9%2B%2A"
    assert canonical_query({"a": "1", "sig": "zzz"}) == "a=1"


def test_signing_key_is_an_hmac_of_the_api_key():
    expected = hmac.new(KEY.encode(), b"ogapi-signed-url-v1", hashlib.sha256).digest()
    assert signing_key(KEY) == expected


def test_signed_query_round_trips():
    query = signed_query(KEY, "kid123", {"title": "Hi there"}, exp=1_900_000_000)
    pairs = dict(parse_qsl(query))
    assert (
        pairs["kid"] == "kid123" and pairs["exp"] == "1900000000" and pairs["title"] == "Hi there"
    )
    sig = pairs.pop("sig")
    assert len(sig) == 64 and sig == signature(signing_key(KEY), pairs)
    assert "exp" not in dict(parse_qsl(signed_query(KEY, "k", {"title": "t"}, exp=None)))


def test_expiry():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert expiry(None, now) is None
    assert expiry("60", now) == int(now.timestamp()) + 60
    for bad in ("0", "-5", "abc", "1.5", True):
        with pytest.raises(AppError) as info:
            expiry(bad, now)
        assert info.value.code == "INVALID_PARAMETER" and "expires_in" in info.value.message


def test_meta_block_is_escaped():
    req = parse_params({"title": 'Say "hi" <b>', "width": "800", "height": "400",
                        "format": "webp"}, allow_http=False)  # fmt: skip
    block = meta_block("https://x.test/i?a=1&b=2", req, 'Say "hi" <b>')
    assert '<meta property="og:image" content="https://x.test/i?a=1&amp;b=2">' in block
    assert '<meta property="og:image:width" content="800">' in block
    assert '<meta property="og:image:height" content="400">' in block
    assert '<meta property="og:image:type" content="image/webp">' in block
    assert 'content="Say &quot;hi&quot; &lt;b&gt;"' in block
    assert '<meta name="twitter:card" content="summary_large_image">' in block
    assert "<b>" not in block
