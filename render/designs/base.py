"""What every template drawing shares: palette, scale, fitted text, avatar, footer pieces."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from PIL import Image

from render import layout, report
from render.draw import RGB, Canvas, decode_image, hex_rgb, luminance, mix
from render.layout import Block
from render.spec import CardSpec

WHITE: RGB = (255, 255, 255)


@dataclass(frozen=True)
class Palette:
    bg0: RGB  # gradient start (top left) and end (bottom right)
    bg1: RGB
    text: RGB
    muted: RGB  # subtitle
    faint: RGB  # dates, captions
    accent: RGB  # shapes (avatar, bars, chips)
    accent_text: RGB  # accent-coloured text, readable on the background
    surface: RGB  # panels and chips drawn on the background
    on_accent: RGB = WHITE

    def with_overrides(self, spec: CardSpec) -> Palette:
        pal = self
        if spec.bg_color:
            bg = hex_rgb(spec.bg_color, self.bg0)
            dark = luminance(bg) < 0.5
            pal = replace(
                pal,
                bg0=bg,
                bg1=mix(bg, WHITE if dark else (0, 0, 0), 0.08),
                surface=mix(bg, WHITE if dark else (0, 0, 0), 0.1),
            )
            if not spec.text_color and (luminance(pal.text) < 0.5) == dark:  # keep contrast
                text = WHITE if dark else (15, 23, 42)
                pal = replace(pal, text=text, muted=mix(text, bg, 0.22), faint=mix(text, bg, 0.42))
        if spec.text_color:
            text = hex_rgb(spec.text_color, self.text)
            pal = replace(
                pal, text=text, muted=mix(text, pal.bg0, 0.22), faint=mix(text, pal.bg0, 0.42)
            )
        if spec.accent_color:
            acc = hex_rgb(spec.accent_color, self.accent)
            readable = abs(luminance(acc) - luminance(pal.bg0)) > 0.3
            pal = replace(pal, accent=acc, accent_text=acc if readable else mix(acc, pal.text, 0.5))
            pal = replace(pal, on_accent=WHITE if luminance(acc) < 0.6 else (15, 23, 42))
        return pal


@dataclass
class Ctx:
    """One render: the spec, its palette, the unit scale `u` and the canvas."""

    spec: CardSpec
    pal: Palette
    canvas: Canvas

    @property
    def w(self) -> int:
        return self.spec.width

    @property
    def h(self) -> int:
        return self.spec.height

    @property
    def u(self) -> float:
        return unit(self.spec.width, self.spec.height)

    def px(self, v: float) -> int:
        return round(v * self.u)

    def fit(
        self,
        text: str | None,
        weight: int,
        size: float,
        min_size: float,
        max_w: float,
        max_lines: int = 1,
        max_h: float | None = None,
        line_height: float = 1.2,
    ) -> Block:
        block = layout.fit(
            text or "",
            weight,
            max(6, self.px(size)),
            max(6, self.px(min_size)),
            max(1.0, float(round(max_w))),
            max_lines,
            None if max_h is None else float(round(max_h)),
            line_height,
        )
        if text and report.active() and (name := report.field_of(self.spec, text)):
            report.text(name, block)
        return block

    def f(self, name: str) -> str | None:
        return self.spec.field(name)


def unit(w: int, h: int) -> float:
    """Scale of a card relative to 1200x630: by area, but never so big that the short side
    cannot hold the layout."""
    return min(math.sqrt(w * h / (1200 * 630)), w / 1200 * 1.8, h / 630 * 1.6)


def initials(name: str | None) -> str:
    parts = [p for p in (name or "").split() if p[:1].isalnum()]
    if not parts:
        return ""
    letters = parts[0][0] + (parts[-1][0] if len(parts) > 1 else "")
    return letters.upper()


def avatar(
    ctx: Ctx,
    x: float,
    cy: float,
    d: float,
    image_field: str = "author_avatar_url",
    name: str | None = None,
    fill: RGB | None = None,
) -> None:
    """A circular user image, or an initials circle, or a plain accent dot."""
    img = decode_image(ctx.spec.image(image_field))
    if img is not None:
        ctx.canvas.image(img, (x, cy - d / 2, x + d, cy + d / 2), radius=d / 2)
        return
    ctx.canvas.circle(x + d / 2, cy, d, fill or ctx.pal.accent)
    letters = initials(name)
    if letters:
        b = ctx.fit(letters, 700, d / ctx.u * 26 / 64, 6, d * 0.8)
        ctx.canvas.text(b, x, cy - b.height / 2, d, ctx.pal.on_accent, "center")


def logo(ctx: Ctx, right: float, cy: float, max_h: float, max_w: float) -> float:
    """Draw logo_url right-aligned at `right`; returns its width (0 when absent)."""
    img: Image.Image | None = decode_image(ctx.spec.image("logo_url"))
    if img is None:
        return 0.0
    k = min(max_h / img.height, max_w / img.width)
    w, h = max(1, round(img.width * k)), max(1, round(img.height * k))
    ctx.canvas.image(img, (right - w, cy - h / 2, right, cy + h / 2))
    return float(w)


def inline(
    ctx: Ctx,
    x: float,
    cy: float,
    parts: list[tuple[str | None, int, RGB]],
    size: float,
    gap: float,
    max_w: float,
    align: str = "start",
) -> float:
    """A row of single-line texts (skipping empty ones) centred on cy; returns its width."""
    blocks = []
    left = max_w
    for t, wt, c in parts:
        if t and left > size * ctx.u:
            b = ctx.fit(t, wt, size, size * 0.7, left)
            blocks.append((b, c))
            left -= b.width + gap * ctx.u
    total = sum(b.width for b, _ in blocks) + gap * ctx.u * max(0, len(blocks) - 1)
    if align == "end":
        x -= total
    elif align == "center":
        x -= total / 2
    for b, colour in blocks:
        if x > ctx.w:
            break
        ctx.canvas.text(
            b, x, cy - b.height / 2, b.width + 1, colour, "start" if not b.rtl else "end"
        )
        x += b.width + gap * ctx.u
    return total


def pill(
    ctx: Ctx,
    x: float,
    y: float,
    text: str | None,
    size: float,
    fill: RGB,
    colour: RGB,
    max_w: float,
    align: str = "start",
) -> tuple[float, float]:
    """A rounded label; returns (width, height); x is the left (or right for align=end) edge."""
    if not text:
        return (0.0, 0.0)
    pad_x, pad_y = size * 0.75 * ctx.u, size * 0.38 * ctx.u
    b = ctx.fit(text, 600, size, size * 0.7, max(1.0, max_w - 2 * pad_x))
    w, h = b.width + 2 * pad_x, b.height + 2 * pad_y
    if align == "end":
        x -= w
    ctx.canvas.rect((x, y, x + w, y + h), fill, h / 2)
    ctx.canvas.text(b, x + pad_x, y + pad_y, b.width + 1, colour, "start" if not b.rtl else "end")
    return (w, h)


@dataclass(frozen=True)
class TitleStyle:
    """Sizes of a `title_block` (in units of `Ctx.u`, like every size here)."""

    size: float  # the title's largest and smallest font size
    min_size: float
    share: float  # of the room the title may take when there is a subtitle
    line_height: float
    gap: float  # between the title and the subtitle
    sub_size: float
    sub_min: float
    sub_width: float = 1.0  # of `width` the subtitle may take


def title_block(
    ctx: Ctx, x: float, y: float, width: float, room: float, bottom: float, st: TitleStyle
) -> None:
    """The bold title (3 lines at most, in `room` or its `share` of it) at (x, y), and the
    subtitle below it (2 lines, ending above `bottom`)."""
    sub = ctx.spec.subtitle
    share = st.share if sub else 1
    title = ctx.fit(
        ctx.spec.title, 700, st.size, st.min_size, width, 3, room * share, st.line_height
    )
    ctx.canvas.text(title, x, y, width, ctx.pal.text)
    y += title.height + st.gap * ctx.u
    if sub:
        s = ctx.fit(sub, 400, st.sub_size, st.sub_min, width * st.sub_width, 2, bottom - y, 1.3)
        ctx.canvas.text(s, x, y, width, ctx.pal.muted)
