"""Listing templates: product and real_estate (text left, image panel right)."""

from __future__ import annotations

from render.designs.base import Ctx, inline, logo, pill
from render.draw import decode_image, mix


def _panel(ctx: Ctx) -> tuple[float, float, float, float]:
    """The image panel box (right side on wide cards, bottom half on tall ones)."""
    if _wide(ctx):
        return (round(ctx.w * 0.56), 0, ctx.w, ctx.h)
    return (0, round(ctx.h * 0.5), ctx.w, ctx.h)


def _wide(ctx: Ctx) -> bool:
    return ctx.w >= ctx.h * 1.3


def _photo(ctx: Ctx, box: tuple[float, float, float, float], inset: float) -> None:
    img = decode_image(ctx.spec.image("image_url"))
    x0, y0, x1, y1 = box
    if img is not None:
        ctx.canvas.image(img, (x0 + inset, y0 + inset, x1 - inset, y1 - inset), ctx.px(20))
        return
    d = min(x1 - x0, y1 - y0) * 0.32  # placeholder: a soft circle + square mark
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    ctx.canvas.circle(cx, cy, d, mix(ctx.pal.surface, ctx.pal.accent, 0.18))
    ctx.canvas.rect(
        (cx - d * 0.2, cy - d * 0.2, cx + d * 0.2, cy + d * 0.2),
        mix(ctx.pal.surface, ctx.pal.accent, 0.5),
        d * 0.06,
    )


def _text_column(ctx: Ctx) -> tuple[float, float, float, float]:
    x0, y0, _, _ = _panel(ctx)
    pad = ctx.px(64)
    if _wide(ctx):
        return (pad, pad, x0 - pad, ctx.h - pad)
    return (pad, pad, ctx.w - pad, y0 - pad / 2)


def _stars(ctx: Ctx, x: float, cy: float, rating: str) -> None:
    try:
        value = max(0.0, min(5.0, float(rating.split("/")[0])))
    except ValueError:
        inline(ctx, x, cy, [(rating, 600, ctx.pal.faint)], 24, 0, ctx.w * 0.3)
        return
    full = round(value)
    stars = "★" * full + "☆" * (5 - full)
    inline(
        ctx,
        x,
        cy,
        [(stars, 400, (0xF5, 0x9E, 0x0B)), (f"{value:g}", 600, ctx.pal.faint)],
        26,
        10,
        ctx.w * 0.4,
    )


def draw_product(ctx: Ctx) -> None:
    pal, u = ctx.pal, ctx.u
    panel = _panel(ctx)
    _photo(ctx, panel, ctx.px(40))
    x0, y0, x1, y1 = _text_column(ctx)
    width = x1 - x0
    y = y0
    brand_w = logo(
        ctx, x0 + min(width, ctx.px(200)), y0 + ctx.px(20), ctx.px(40), min(width, ctx.px(200))
    )
    if not brand_w and (brand := ctx.f("brand")):
        b = ctx.fit(brand.upper(), 700, 20, 12, width)
        ctx.canvas.text(b, x0, y, width, pal.accent_text)
    if ctx.f("badge"):
        pill(
            ctx,
            panel[0] + ctx.px(40) + ctx.px(16),
            panel[1] + ctx.px(40) + ctx.px(16),
            ctx.f("badge"),
            20,
            pal.accent,
            pal.on_accent,
            ctx.w * 0.3,
        )
    y += ctx.px(56)
    room = y1 - y - ctx.px(150)
    title = ctx.fit(ctx.spec.title, 700, 52, 24, width, 3, room * 0.7, 1.12)
    ctx.canvas.text(title, x0, y, width, pal.text)
    y += title.height + 16 * u
    if ctx.spec.subtitle:
        s = ctx.fit(ctx.spec.subtitle, 400, 26, 15, width, 2, y1 - ctx.px(150) - y, 1.3)
        ctx.canvas.text(s, x0, y, width, pal.muted)
    price_cy = y1 - ctx.px(80)
    if ctx.f("price"):
        p = ctx.fit(ctx.f("price"), 700, 56, 24, width * 0.6)
        ctx.canvas.text(p, x0, price_cy - p.height / 2, width, pal.text)
        if ctx.f("original_price"):
            o = ctx.fit(ctx.f("original_price"), 400, 30, 16, width - p.width - ctx.px(20))
            ox, oy = x0 + p.width + ctx.px(20), price_cy - o.height / 2 + ctx.px(6)
            ctx.canvas.text(o, ox, oy, o.width + 1, pal.faint)
            mid = oy + o.height * 0.55
            ctx.canvas.rect((ox, mid - u, ox + o.width, mid + u), pal.faint)
    if rating := ctx.f("rating"):
        _stars(ctx, x0, y1 - ctx.px(14), rating)


def draw_real_estate(ctx: Ctx) -> None:
    pal = ctx.pal
    panel = _panel(ctx)
    _photo(ctx, panel, 0)
    if ctx.f("badge"):
        pill(
            ctx,
            panel[0] + ctx.px(28),
            panel[1] + ctx.px(28),
            ctx.f("badge"),
            20,
            pal.accent,
            pal.on_accent,
            ctx.w * 0.3,
        )
    x0, y0, x1, y1 = _text_column(ctx)
    width = x1 - x0
    y = y0
    if ctx.f("price"):
        p = ctx.fit(ctx.f("price"), 700, 60, 24, width)
        ctx.canvas.text(p, x0, y, width, pal.accent_text)
        y += p.height + ctx.px(8)
    title = ctx.fit(ctx.spec.title, 700, 40, 20, width, 2, (y1 - y) * 0.4, 1.15)
    ctx.canvas.text(title, x0, y, width, pal.text)
    y += title.height + ctx.px(12)
    addr = ctx.fit(ctx.f("address") or ctx.spec.subtitle, 400, 26, 14, width, 2, ctx.px(70), 1.3)
    ctx.canvas.text(addr, x0, y, width, pal.muted)
    y += addr.height + ctx.px(10)
    room = y1 - ctx.px(70) - y  # above the facts row
    if ctx.f("address") and ctx.spec.subtitle and room >= ctx.px(24):  # both: the subtitle too
        sub = ctx.fit(ctx.spec.subtitle, 400, 22, 14, width, 2, room, 1.3)
        ctx.canvas.text(sub, x0, y, width, pal.faint)
    facts = [
        (v, unit)
        for v, unit in (
            (ctx.f("beds"), "beds"),
            (ctx.f("baths"), "baths"),
            (ctx.f("sqft"), "sq ft"),
        )
        if v
    ]
    x, cy = x0, y1 - ctx.px(30)
    for value, label in facts:
        w, _ = pill(ctx, x, cy - ctx.px(22), f"{value} {label}", 22, pal.surface, pal.text, x1 - x)
        x += w + ctx.px(12)
        if x > x1:
            break
    brand = ctx.f("brand")
    if brand and not facts:
        inline(ctx, x0, cy, [(brand, 700, pal.accent_text)], 24, 0, width)
    if not ctx.f("price"):
        logo(ctx, x1, y0 + ctx.px(20), ctx.px(40), width * 0.3)
