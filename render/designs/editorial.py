"""Text-first templates: default (the standard card), minimal, blog and quote."""

from __future__ import annotations

from render.designs.base import Ctx, TitleStyle, avatar, inline, logo, pill, title_block

_BLOG_TITLE = TitleStyle(56, 28, 0.7, 1.15, gap=20, sub_size=28, sub_min=16)


def footer(ctx: Ctx, y_center: float, left: float, right: float) -> None:
    """Avatar + author + date · reading time on the left, logo or brand on the right."""
    pal, author = ctx.pal, ctx.f("author_name")
    d = ctx.px(64)
    x = left
    if author or ctx.spec.image("author_avatar_url"):
        avatar(ctx, x, y_center, d, name=author)
        x += d + ctx.px(20)
    meta = " · ".join(v for v in (ctx.f("date"), ctx.f("reading_time")) if v)
    brand_w = logo(ctx, right, y_center, ctx.px(48), (right - left) * 0.3)
    if not brand_w and ctx.f("brand"):
        b = ctx.fit(ctx.f("brand"), 700, 28, 20, (right - left) * 0.35)
        ctx.canvas.text(b, right - b.width, y_center - b.height / 2, b.width + 1, pal.accent_text)
        brand_w = b.width
    room = right - x - brand_w - ctx.px(32)
    inline(ctx, x, y_center, [(author, 700, pal.text), (meta, 400, pal.faint)], 28, 16, room)


def _footer_brand(ctx: Ctx, right: float, cy: float, max_width: float) -> None:
    """The brand, right-aligned on the footer line, in the accent colour."""
    inline(ctx, right, cy, [(ctx.f("brand"), 700, ctx.pal.accent_text)], 24, 0, max_width, "end")


def draw_default(ctx: Ctx) -> None:
    """The standard card: title and subtitle at the top, author row at the bottom."""
    pal, u = ctx.pal, ctx.u
    pad_x, pad_t, pad_b = ctx.px(80), ctx.px(80), ctx.px(60)
    width = ctx.w - 2 * pad_x
    foot_h = ctx.px(64)
    room = ctx.h - pad_t - pad_b - foot_h - ctx.px(32)
    sub = ctx.spec.subtitle
    title = ctx.fit(ctx.spec.title, 700, 54, 30, width, 3, room * (0.72 if sub else 1))
    s = ctx.fit(sub, 400, 32, 20, width, 2, room - title.height - 24 * u, 1.25) if sub else None
    y: float = pad_t
    if ctx.h > ctx.w * 1.2:  # portrait: centre the text in the free space above the footer
        y += (room - title.height - (s.height + 24 * u if s else 0)) * 0.4
    ctx.canvas.text(title, pad_x, y, width, pal.text)
    y += title.height + 24 * u
    if s:
        ctx.canvas.text(s, pad_x, y, width, pal.muted)
    footer(ctx, ctx.h - pad_b - foot_h / 2, pad_x, ctx.w - pad_x)


def draw_minimal(ctx: Ctx) -> None:
    """Centred title on a flat background, a short accent rule above it, brand below."""
    pal, u = ctx.pal, ctx.u
    pad = ctx.px(96)
    width = ctx.w - 2 * pad
    sub = ctx.spec.subtitle
    room = ctx.h - 2 * ctx.px(72) - ctx.px(100)
    title = ctx.fit(ctx.spec.title, 700, 64, 30, width, 3, room * (0.75 if sub else 1), 1.15)
    s = ctx.fit(sub, 400, 30, 18, width * 0.85, 2, room * 0.3, 1.3) if sub else None
    total = title.height + (s.height + ctx.px(24) if s else 0)
    y = (ctx.h - total) / 2 - ctx.px(8)
    rule_w, rule_h = ctx.px(56), max(2, ctx.px(6))
    ctx.canvas.rect(
        (ctx.w / 2 - rule_w / 2, y - ctx.px(36), ctx.w / 2 + rule_w / 2, y - ctx.px(36) + rule_h),
        pal.accent,
        rule_h / 2,
    )
    ctx.canvas.text(title, pad, y, width, pal.text, "center")
    if s:
        ctx.canvas.text(s, pad, y + title.height + 24 * u, width, pal.muted, "center")
    brand = ctx.f("brand") or ctx.f("author_name")
    if brand:
        b = ctx.fit(brand, 600, 24, 14, width)
        ctx.canvas.text(b, pad, ctx.h - ctx.px(56) - b.height, width, pal.faint, "center")


def draw_blog(ctx: Ctx) -> None:
    """Article card: category pill and reading time, title, excerpt, author row; optional
    cover image on the right."""
    pal = ctx.pal
    pad = ctx.px(72)
    bar = ctx.px(12)
    ctx.canvas.rect((0, 0, bar, ctx.h), pal.accent)
    img_w = 0
    if ctx.spec.image("image_url") and ctx.w >= ctx.h:
        img_w = round(ctx.w * 0.34)
        from render.draw import decode_image

        img = decode_image(ctx.spec.image("image_url"))
        if img is not None:
            ctx.canvas.image(img, (ctx.w - img_w - pad, pad, ctx.w - pad, ctx.h - pad), ctx.px(24))
            img_w += ctx.px(40)
        else:
            img_w = 0
    left = pad + bar
    width = ctx.w - left - pad - img_w
    y: float = pad
    _, ph = pill(
        ctx, left, y, ctx.f("badge") or "Blog", 20, pal.surface, pal.accent_text, width * 0.6
    )
    if ctx.f("reading_time"):
        b = ctx.fit(ctx.f("reading_time"), 400, 22, 14, width * 0.35)
        ctx.canvas.text(b, left, y + ph / 2 - b.height / 2, width, pal.faint, "end")
    y += ph + ctx.px(32)
    foot_h = ctx.px(56)
    room = ctx.h - y - pad - foot_h - ctx.px(24)
    title_block(ctx, left, y, width, room, pad + ctx.px(32) + ph + room, _BLOG_TITLE)
    cy = ctx.h - pad - foot_h / 2
    author = ctx.f("author_name")
    x = left
    if author or ctx.spec.image("author_avatar_url"):
        avatar(ctx, x, cy, foot_h, name=author)
        x += foot_h + ctx.px(16)
    inline(
        ctx,
        x,
        cy,
        [(author, 600, pal.text), (ctx.f("date"), 400, pal.faint)],
        24,
        14,
        left + width - x,
    )
    if ctx.f("brand") and not img_w:
        _footer_brand(ctx, ctx.w - pad, cy, width * 0.3)


def draw_quote(ctx: Ctx) -> None:
    """A pull quote: big accent quotation mark, the title as the quote, who said it."""
    pal, u = ctx.pal, ctx.u
    pad = ctx.px(88)
    width = ctx.w - 2 * pad
    mark = ctx.fit("“", 700, 200, 60, width)
    ctx.canvas.text(mark, pad - ctx.px(8), pad - ctx.px(70), width, pal.accent)
    foot_h = ctx.px(64)
    top = pad + ctx.px(70)
    room = ctx.h - top - pad - foot_h - ctx.px(28)
    quote = ctx.fit(ctx.spec.title, 600, 48, 24, width, 4, room, 1.25)
    ctx.canvas.text(quote, pad, top + (room - quote.height) / 2, width, pal.text)
    cy = ctx.h - pad - foot_h / 2 + ctx.px(20)
    author = ctx.f("author_name")
    x = pad
    if author or ctx.spec.image("author_avatar_url"):
        avatar(ctx, x, cy, foot_h, name=author)
        x += foot_h + ctx.px(20)
    else:
        ctx.canvas.rect((x, cy - 2 * u, x + ctx.px(40), cy + 2 * u), pal.accent)
        x += ctx.px(56)
    b_who = ctx.fit(author, 700, 28, 18, width * 0.6)
    b_role = ctx.fit(ctx.spec.subtitle, 400, 22, 14, width * 0.6)
    stack = b_who.height + b_role.height
    ctx.canvas.text(b_who, x, cy - stack / 2, width, pal.text)
    ctx.canvas.text(b_role, x, cy - stack / 2 + b_who.height, width, pal.faint)
    if ctx.f("brand"):
        _footer_brand(ctx, ctx.w - pad, cy, width * 0.3)
