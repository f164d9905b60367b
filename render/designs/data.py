"""Announcement-style templates: vibrant, event, stats and caption."""

from __future__ import annotations

from render.designs.base import WHITE, Ctx, TitleStyle, avatar, inline, logo, pill, title_block
from render.draw import decode_image, mix

UP, DOWN = (0x22, 0xC5, 0x5E), (0xEF, 0x44, 0x44)
_VIBRANT_TITLE = TitleStyle(72, 30, 0.74, 1.1, gap=22, sub_size=32, sub_min=18, sub_width=0.9)


def _brand(ctx: Ctx, right: float, cy: float, size: float = 26) -> float:
    w = logo(ctx, right, cy, ctx.px(44), ctx.w * 0.25)
    if w or not ctx.f("brand"):
        return w
    return inline(
        ctx, right, cy, [(ctx.f("brand"), 700, ctx.pal.text)], size, 0, ctx.w * 0.3, "end"
    )


def draw_vibrant(ctx: Ctx) -> None:
    """Big bold title on a colourful gradient with glows, badge on top, brand below."""
    pal, u = ctx.pal, ctx.u
    pad = ctx.px(80)
    width = ctx.w - 2 * pad
    y: float = pad
    _, ph = pill(ctx, pad, y, ctx.f("badge"), 22, pal.accent, pal.on_accent, width * 0.6)
    y += ph + (ctx.px(36) if ph else 0)
    foot = ctx.px(56)
    room = ctx.h - y - pad - foot - ctx.px(24)
    title_block(ctx, pad, y, width, room, ctx.h - pad - foot - ctx.px(24), _VIBRANT_TITLE)
    cy = ctx.h - pad - foot / 2 + ctx.px(16)
    ctx.canvas.rect((pad, cy - 3 * u, pad + ctx.px(48), cy + 3 * u), pal.accent, 3 * u)
    inline(ctx, pad + ctx.px(64), cy, [(ctx.f("author_name"), 600, pal.muted)], 26, 0, width * 0.5)
    _brand(ctx, ctx.w - pad, cy)


def draw_event(ctx: Ctx) -> None:
    """Date tile on the left; title, time · location and speaker on the right."""
    pal, u = ctx.pal, ctx.u
    pad = ctx.px(72)
    tile_w = ctx.px(200) if ctx.w >= ctx.h * 1.2 else 0
    y: float = pad
    _, ph = pill(ctx, pad, y, ctx.f("badge") or "Event", 20, pal.accent, pal.on_accent, ctx.w * 0.5)
    _brand(ctx, ctx.w - pad, y + ph / 2, 24)
    y += ph + ctx.px(40)
    date = ctx.f("date")
    left = pad
    if tile_w and date:
        th = min(ctx.px(200), ctx.h - y - pad)
        ctx.canvas.rect((pad, y, pad + tile_w, y + th), pal.surface, ctx.px(24))
        ctx.canvas.rect((pad, y, pad + tile_w, y + ctx.px(14)), pal.accent, 0)
        parts = date.replace(",", " ").split()
        big = ctx.fit(
            " ".join(parts[:2]) if len(parts) > 1 else date,
            700,
            44,
            18,
            tile_w * 0.84,
            2,
            th * 0.6,
            1.1,
        )
        rest = ctx.fit(" ".join(parts[2:]), 400, 24, 12, tile_w * 0.84)
        stack = big.height + rest.height
        ctx.canvas.text(big, pad, y + (th - stack) / 2 + ctx.px(7), tile_w, pal.text, "center")
        ctx.canvas.text(
            rest, pad, y + (th - stack) / 2 + ctx.px(7) + big.height, tile_w, pal.faint, "center"
        )
        left = pad + tile_w + ctx.px(48)
    width = ctx.w - left - pad
    foot = ctx.px(56) if ctx.f("speaker_name") else 0
    room = ctx.h - y - pad - foot - ctx.px(90)
    title = ctx.fit(ctx.spec.title, 700, 54, 26, width, 3, room, 1.15)
    ctx.canvas.text(title, left, y, width, pal.text)
    y += title.height + 18 * u
    when = " · ".join(
        v for v in ((date if not tile_w else None), ctx.f("time"), ctx.f("location")) if v
    )
    line = ctx.fit(when or ctx.spec.subtitle, 500, 28, 16, width, 1)
    ctx.canvas.text(line, left, y, width, pal.accent_text)
    y += line.height + 12 * u
    room = ctx.h - y - pad - foot - ctx.px(20)
    if when and ctx.spec.subtitle and room >= ctx.px(26):  # the subtitle, when it fits
        sub = ctx.fit(ctx.spec.subtitle, 400, 26, 16, width, 2, room, 1.3)
        ctx.canvas.text(sub, left, y, width, pal.muted)
    if ctx.f("speaker_name"):
        cy = ctx.h - pad - foot / 2
        avatar(ctx, left, cy, foot, name=ctx.f("speaker_name"))
        inline(
            ctx,
            left + foot + ctx.px(16),
            cy,
            [(ctx.f("speaker_name"), 600, pal.text), ("Speaker", 400, pal.faint)],
            24,
            12,
            width - foot,
        )


def draw_stats(ctx: Ctx) -> None:
    """A headline number with its label and a coloured trend chip."""
    pal, u = ctx.pal, ctx.u
    pad = ctx.px(80)
    width = ctx.w - 2 * pad
    head = ctx.fit(ctx.spec.title, 600, 30, 18, width * 0.75, 2, ctx.px(80), 1.2)
    ctx.canvas.text(head, pad, pad, width, pal.muted)
    _brand(ctx, ctx.w - pad, pad + ctx.px(18), 24)
    value = ctx.f("stat_value") or ctx.spec.subtitle or "—"
    top = pad + head.height + ctx.px(28)
    big = ctx.fit(value, 700, 150, 40, width, 1, ctx.h - top - pad - ctx.px(90), 1.05)
    ctx.canvas.text(big, pad, top, width, pal.text)
    y = top + big.height + ctx.px(12)
    label = ctx.f("stat_label")
    trend = " ".join(v for v in (ctx.f("trend_icon"), ctx.f("trend_value")) if v)
    x: float = pad
    if trend:
        down = any(c in trend for c in "↓▼-−📉")
        col = DOWN if down else UP
        w, _ = pill(
            ctx,
            pad,
            y,
            trend,
            26,
            mix(pal.bg0, col, 0.22),
            mix(col, WHITE, 0.35) if pal.bg0[0] < 128 else col,
            width * 0.5,
        )
        x += w + ctx.px(20)
    if label:
        lb = ctx.fit(label, 400, 30, 18, ctx.w - pad - x, 1)
        ctx.canvas.text(
            lb, x, y + ctx.px(26 * 0.38) + (ctx.px(26 * 1.2) - lb.height) / 2, width, pal.faint
        )
    y += ctx.px(26 * 1.2 + 26 * 0.76) + ctx.px(16)  # below the trend / label row
    room = ctx.h - ctx.px(56) - y  # above the accent bar
    if ctx.f("stat_value") and ctx.spec.subtitle and room >= ctx.px(24):  # not the value itself
        sub = ctx.fit(ctx.spec.subtitle, 400, 26, 16, width, 2, room, 1.3)
        ctx.canvas.text(sub, pad, y, width, pal.muted)
    ctx.canvas.rect((pad, ctx.h - ctx.px(36), ctx.w - pad, ctx.h - ctx.px(30)), pal.accent, 3 * u)


def draw_caption(ctx: Ctx) -> None:
    """An image filling the card with top and bottom captions on dark scrims."""
    pal = ctx.pal
    img = decode_image(ctx.spec.image("image_url"))
    if img is not None:
        ctx.canvas.image(img, (0, 0, ctx.w, ctx.h))
    pad = ctx.px(40)
    width = ctx.w - 2 * pad
    top = ctx.f("caption_top") or ctx.spec.title
    bottom = ctx.f("caption_bottom") or ctx.spec.subtitle
    for text, at_top in ((top, True), (bottom, False)):
        if not text:
            continue
        b = ctx.fit(text.upper(), 700, 64, 24, width, 2, ctx.h * 0.4, 1.1)
        band = b.height + 2 * ctx.px(20)
        y0 = 0 if at_top else ctx.h - band
        ctx.canvas.rect((0, y0, ctx.w, y0 + band), mix(pal.bg0, (0, 0, 0), 0.4))
        ctx.canvas.text(b, pad, y0 + ctx.px(20), width, WHITE, "center")
