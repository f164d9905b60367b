from __future__ import annotations

import pytest

from render import layout
from render.text import clean, raqm_available
from tests.render.conftest import card, ink_bbox, saturated

MISSING = "\u0378"  # unassigned: no font has it, so it draws as .notdef
SCRIPTS = {
    "cjk-zh": ("中", "国"),
    "cjk-ja": ("あ", "漢"),
    "cjk-ko": ("한", "국"),
    "arabic": ("ع", "ب"),
    "hebrew": ("ש", "ל"),
    "devanagari": ("क", "म"),
    "cyrillic": ("Ж", "Я"),
    "greek": ("Ω", "λ"),
}


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_scripts_draw_real_glyphs(script, plain):
    a, b = SCRIPTS[script]
    tofu = card(MISSING, **plain)
    ia, ib = card(a, **plain), card(b, **plain)
    assert ink_bbox(ia, ib) is not None, "two different characters look different (tofu would not)"
    assert ink_bbox(ia, tofu) is not None and ink_bbox(ib, tofu) is not None


def test_two_cjk_titles_differ(plain):
    assert ink_bbox(card("東京の天気", **plain), card("北京的天气", **plain)) is not None


def test_emoji_are_coloured(plain):
    assert saturated(card("Launch 🚀🎉", **plain)) > 200
    assert saturated(card("Launch", **plain)) == 0


def test_rtl_is_right_aligned():
    empty = card("", template="default", width=1200, height=630)
    he = ink_bbox(card("שלום עולם וברוכים הבאים", template="default"), empty)
    en = ink_bbox(card("Hello world and welcome", template="default"), empty)
    assert he is not None and en is not None
    assert he[2] >= 1200 - 80 - 6 and he[0] > 300, he
    assert en[0] <= 80 + 6 and en[2] < 900, en


@pytest.mark.skipif(not raqm_available(), reason="shaping needs libraqm")
def test_arabic_is_shaped():
    # joined (shaped) Arabic is narrower than its isolated letters separated by ZWNJ
    joined = layout.fit("سلام", 700, 54, 54, 1000, 1)
    isolated = layout.fit("س\u200cل\u200cا\u200cم", 700, 54, 54, 1000, 1)
    assert joined.width < isolated.width


def test_long_title_is_clamped_with_ellipsis_and_stays_inside():
    words = "unbelievably " * 40
    block = layout.fit(words, 700, 54, 30, 1040, 3)
    assert len(block.lines) == 3 and block.lines[-1].text.endswith("…")
    assert all(line.width <= 1040 for line in block.lines)
    one_word = layout.fit("W" * 200, 700, 54, 30, 1040, 3)
    assert all(line.width <= 1040 for line in one_word.lines)
    for w, h in [(1200, 630), (400, 400), (2400, 600), (200, 200)]:
        for title in (words, "W" * 200):
            for tpl in ("default", "minimal", "quote", "vibrant"):
                im = card(title, template=tpl, width=w, height=h)
                box = ink_bbox(im, card("", template=tpl, width=w, height=h))
                assert box is not None
                margin = round(min(w, h) * 0.04)
                assert box[0] >= margin and box[2] <= w - margin, (tpl, w, h, box)
                assert box[1] >= margin and box[3] <= h - margin, (tpl, w, h, box)


@pytest.mark.parametrize(
    "title",
    [
        "",
        " ",
        "\x00\x07\n\t",
        "🎉" * 60,
        "x" * 200,
        "a\u0301\u0301\u0301",
        "\ud800",
        "עברית and English 123",
        "\u202e\u200f",
    ],
)
def test_never_crashes_on_odd_strings(title):
    for tpl in ("default", "event", "product"):
        assert card(title, template=tpl, subtitle=title, width=300, height=200).size == (300, 200)


def test_clean_collapses_whitespace_and_drops_controls():
    assert clean(" a\n\tb\x00c ") == "a bc"
