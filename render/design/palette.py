"""A design's colour tokens for one render (docs/templates.md, colors): each theme's hex values,
the built-ins' colour parameters applied to them, then the mixed tokens computed from the result.

A design that declares `bg_color`, `text_color` or `accent_color` as color fields gets the
built-ins' colour parameters: a given `bg_color` becomes `$bg0` and moves `$bg1` and `$surface`
with it (and `$text`, `$muted`, `$faint` when the text would lose its contrast), `text_color`
becomes `$text` with `$muted` and `$faint` mixed towards the background, `accent_color` becomes
`$accent` with a readable `$accent_text` and an `$on_accent` that contrasts with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from render.design import refs
from render.draw import RGB, hex_rgb, luminance, mix, rgb_hex

PARAMS = ("bg_color", "text_color", "accent_color")
WHITE: RGB = (255, 255, 255)
INK: RGB = (15, 23, 42)


def _rgb(tokens: dict[str, str], name: str) -> RGB:
    return hex_rgb(tokens.get(name), (0, 0, 0))


def apply_params(tokens: dict[str, str], given: Mapping[str, str]) -> None:
    """The built-ins' colour parameters (docs/rest-api.md, Parameters) applied to `tokens`."""
    put = tokens.__setitem__
    bg_value, text_value, accent_value = (given.get(p) for p in PARAMS)
    if bg_value:
        bg = hex_rgb(bg_value, _rgb(tokens, "bg0"))
        dark = luminance(bg) < 0.5
        toward = WHITE if dark else (0, 0, 0)
        put("bg0", rgb_hex(bg))
        put("bg1", rgb_hex(mix(bg, toward, 0.08)))
        put("surface", rgb_hex(mix(bg, toward, 0.1)))
        if not text_value and (luminance(_rgb(tokens, "text")) < 0.5) == dark:  # keep contrast
            text = WHITE if dark else INK
            put("text", rgb_hex(text))
            put("muted", rgb_hex(mix(text, bg, 0.22)))
            put("faint", rgb_hex(mix(text, bg, 0.42)))
    if text_value:
        text, bg0 = hex_rgb(text_value, _rgb(tokens, "text")), _rgb(tokens, "bg0")
        put("text", rgb_hex(text))
        put("muted", rgb_hex(mix(text, bg0, 0.22)))
        put("faint", rgb_hex(mix(text, bg0, 0.42)))
    if accent_value:
        acc, bg0 = hex_rgb(accent_value, _rgb(tokens, "accent")), _rgb(tokens, "bg0")
        readable = abs(luminance(acc) - luminance(bg0)) > 0.3
        put("accent", rgb_hex(acc))
        put("accent_text", rgb_hex(acc if readable else mix(acc, _rgb(tokens, "text"), 0.5)))
        put("on_accent", rgb_hex(WHITE if luminance(acc) < 0.6 else INK))


def _part(value: str, tokens: Mapping[str, str]) -> RGB:
    tok = refs.token(value)
    return hex_rgb(tokens.get(tok, "") if tok is not None else value, (0, 0, 0))


def tokens(design: Mapping[str, Any], theme: str, values: Mapping[str, str]) -> dict[str, str]:
    """The token values of `design` in `theme`, with the colour parameters it declares."""
    themes: Mapping[str, Mapping[str, Any]] = design.get("colors") or {}
    chosen = themes.get(theme) or next(iter(themes.values()), {})
    base = {k: v for k, v in chosen.items() if isinstance(v, str)}
    declared = design.get("fields", {})
    given = {p: values.get(p, "") for p in PARAMS if declared.get(p, {}).get("type") == "color"}
    if any(given.values()):
        apply_params(base, given)
    out = dict(base)
    for name, value in chosen.items():
        if isinstance(value, dict):
            a, b, t = value["mix"]
            out[name] = rgb_hex(mix(_part(a, base), _part(b, base), float(t)))
    return out
