"""resolvers.images.params: the validation of docs/rest-api.md and the canonical form behind cache
keys."""

from __future__ import annotations

import pytest

from resolvers.errors import AppError
from resolvers.images.params import alt_text, parse_params


def parse(**raw):
    return parse_params(raw, allow_http=False)


def code_of(raw: dict, allow_http: bool = False) -> tuple[str, str]:
    with pytest.raises(AppError) as info:
        parse_params(raw, allow_http=allow_http)
    return info.value.code, info.value.message


def test_defaults():
    req = parse(title="Hello")
    s = req.spec
    assert (s.template, s.theme, s.format, s.width, s.height, s.quality) == (
        "default",
        "dark",
        "png",
        1200,
        630,
        None,
    )
    assert req.params == (("title", "Hello"),)
    assert req.content_type == "image/png"


@pytest.mark.parametrize(
    ("raw", "code", "field"),
    [
        ({}, "MISSING_TITLE", "title"),
        ({"title": "   "}, "MISSING_TITLE", "title"),
        ({"title": "x" * 201}, "TITLE_TOO_LONG", "200"),
        ({"title": "t", "subtitle": "x" * 301}, "SUBTITLE_TOO_LONG", "300"),
        ({"title": "t", "template": "nope"}, "INVALID_TEMPLATE", "nope"),
        ({"title": "t", "theme": "blue"}, "INVALID_THEME", "theme"),
        ({"title": "t", "format": "gif"}, "INVALID_PARAMETER", "format"),
        ({"title": "t", "width": "199"}, "INVALID_PARAMETER", "width"),
        ({"title": "t", "width": 2401}, "INVALID_PARAMETER", "width"),
        ({"title": "t", "height": "12.5"}, "INVALID_PARAMETER", "height"),
        ({"title": "t", "height": True}, "INVALID_PARAMETER", "height"),
        ({"title": "t", "format": "jpeg", "quality": "0"}, "INVALID_PARAMETER", "quality"),
        ({"title": "t", "quality": "101"}, "INVALID_PARAMETER", "quality"),
        ({"title": "t", "bg_color": "red"}, "INVALID_PARAMETER", "bg_color"),
        ({"title": "t", "accent_color": "#12345"}, "INVALID_PARAMETER", "accent_color"),
        ({"title": "t", "logo_url": "ftp://example.com/a.png"}, "INVALID_PARAMETER", "logo_url"),
        ({"title": "t", "image_url": "http://example.com/a.png"}, "INVALID_PARAMETER", "image_url"),
        ({"title": "t", "image_url": "not a url"}, "INVALID_PARAMETER", "image_url"),
        ({"title": "t", "author_name": "x" * 101}, "INVALID_PARAMETER", "author_name"),
        ({"title": "t", "subtitel": "typo"}, "INVALID_PARAMETER", "subtitel"),
        ({"title": "t", "badge": {"a": 1}}, "INVALID_PARAMETER", "badge"),
        ({"title": ["a"]}, "INVALID_PARAMETER", "title"),
    ],
)
def test_errors_name_the_field(raw, code, field):
    got, message = code_of(raw)
    assert got == code
    assert field in message


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("width", True, "width must be a whole number from 200 to 2400"),
        ("height", False, "height must be a whole number from 200 to 2400"),
        ("quality", True, "quality must be a whole number from 1 to 100"),
        ("width", [1200], "width must be a whole number from 200 to 2400"),
        ("height", {"px": 630}, "height must be a whole number from 200 to 2400"),
    ],
)
def test_json_non_numbers_for_numeric_fields_say_whole_number(name, value, message):
    # JSON true is not a number (nor 1): the message asks for what the field takes
    assert code_of({"title": "t", "format": "jpeg", name: value}) == ("INVALID_PARAMETER", message)


def test_http_urls_only_when_allowed():
    raw = {"title": "t", "image_url": "http://example.com/a.png"}
    assert parse_params(raw, allow_http=True).urls == {"image_url": "http://example.com/a.png"}


def test_normalisation_makes_equal_requests_share_a_cache_key():
    a = parse(title="Hi", bg_color="#ABC", format="jpg", width="1200", quality="80")
    b = parse_params(
        {
            "title": "Hi",
            "bg_color": "aabbcc",
            "format": "jpeg",
            "quality": 80,
            "template": "default",
        },
        allow_http=False,
    )
    assert a.cache_key == b.cache_key
    assert a.spec.bg_color == "#aabbcc" and a.spec.format == "jpeg" and a.spec.quality == 80
    assert parse(title="Hi").cache_key != parse(title="Hi ").cache_key
    assert parse(title="Hi").cache_key != parse(title="Hi", theme="light").cache_key
    # quality means nothing for PNG: it neither changes the key nor stays in the params
    assert parse(title="Hi", quality="50").cache_key == parse(title="Hi").cache_key
    assert "quality" not in dict(parse(title="Hi", quality="50").params)


def test_json_numbers_and_blank_optionals():
    req = parse_params(
        {"title": "Flat", "template": "real_estate", "beds": 3, "rating": 4.5, "subtitle": ""},
        allow_http=False,
    )
    assert req.spec.field("beds") == "3"
    assert req.spec.subtitle is None
    assert dict(req.params) == {"title": "Flat", "template": "real_estate", "beds": "3",
                                "rating": "4.5"}  # fmt: skip


def test_remote_urls_are_collected_for_the_fetcher():
    req = parse(title="t", template="blog", image_url="https://example.com/a.png")
    assert req.urls == {"image_url": "https://example.com/a.png"}
    assert req.spec.images == ()
    other = parse(title="t", template="blog", image_url="https://example.com/b.png")
    assert other.cache_key != req.cache_key


def test_alt_text_uses_title_subtitle_and_drawn_fields():
    req = parse(title="Launch", subtitle="Today", template="event", location="Berlin", price="$5")
    assert alt_text(req.spec) == "Launch — Today — Berlin"
    assert len(alt_text(parse(title="x" * 200, subtitle="y" * 300).spec)) == 300
