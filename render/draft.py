"""render_draft: the playground's preview of a card (docs/dashboard.md, Playground).

A draft is never the deliverable: a JPEG at most DRAFT_MAX pixels on its long side, whatever
size or format was asked, with a "PREVIEW" mark drawn over the card: a faint diagonal pattern of
the word across the whole card (so no crop removes it), a solid sash along the diagonal through
the centre and a solid tag in the top-right corner. The sash and the tag are fully opaque: what
they cover is not in the draft at all, so knowing the (deterministic) mark does not let anyone
subtract it and recover a clean card. Light letters with a dark outline read on dark and light
cards alike; the sash is dark with light edges, so it stands out on both.

It is drawn at the draft's own size (the layout scales, as for any other size), so a preview
costs a small render, not the full-size one it stands for.
"""

from __future__ import annotations

import functools
import io
import math
from dataclasses import replace

from PIL import Image, ImageDraw

from render import fonts
from render.card import draw_card
from render.spec import MAX_SIZE, MIN_SIZE, CardSpec

DRAFT_MAX = 600  # pixels on the long side
DRAFT_QUALITY = 80
MARK = "PREVIEW"
_ANGLE = 28  # degrees, counter-clockwise
_INK = (255, 255, 255)
_OUTLINE = (15, 23, 42)  # slate-900
_PATTERN_ALPHA = 64  # of 255: the card stays readable under it
_TAG_FILL = (15, 23, 42, 215)
_SASH = 0.055  # its height, of the long side: ~12 % of a 1.91:1 card is under it
_SASH_FILL = (15, 23, 42, 255)


def draft_size(width: int, height: int) -> tuple[int, int]:
    """The draft's size: `width` x `height` scaled down to DRAFT_MAX on the long side (never
    up), the aspect ratio kept."""
    w = max(MIN_SIZE, min(MAX_SIZE, width))
    h = max(MIN_SIZE, min(MAX_SIZE, height))
    scale = min(1.0, DRAFT_MAX / max(w, h))
    return max(1, round(w * scale)), max(1, round(h * scale))


def _drawn_size(width: int, height: int) -> tuple[int, int]:
    """The size to draw at before the final resize: the draft's own, unless a side would fall
    under the renderer's minimum (a 2400x200 banner); then the smallest allowed size."""
    w, h = draft_size(width, height)
    if min(w, h) >= MIN_SIZE:
        return w, h
    scale = MIN_SIZE / min(width, height)
    return round(width * scale), round(height * scale)


def render_draft(spec: CardSpec) -> bytes:
    """Draw `spec` as a watermarked JPEG draft (its format, size and quality are ignored)."""
    w, h = draft_size(spec.width, spec.height)
    dw, dh = _drawn_size(spec.width, spec.height)
    img = draw_card(replace(spec, width=dw, height=dh)).im
    if (dw, dh) != (w, h):
        img = img.resize((w, h), Image.Resampling.LANCZOS)
    marked = img.convert("RGBA")
    marked.alpha_composite(overlay(w, h))
    buf = io.BytesIO()
    marked.convert("RGB").save(buf, "JPEG", quality=DRAFT_QUALITY, optimize=False)
    return buf.getvalue()


@functools.lru_cache(maxsize=16)
def overlay(w: int, h: int) -> Image.Image:
    """The mark for a w x h draft, as a transparent layer (made once per size)."""
    layer = _pattern(w, h)
    _tag(layer)
    return layer


def _pattern(w: int, h: int) -> Image.Image:
    """The word repeated along diagonal rows, covering the whole card."""
    size = max(12, round(max(w, h) * 0.075))
    font = fonts.get_font(fonts.PRIMARY, 700, size)
    stroke = max(1, round(size / 18))
    left, top, right, bottom = (round(v) for v in font.getbbox(MARK, stroke_width=stroke))
    word_w, word_h = right - left, bottom - top
    side = math.ceil(math.hypot(w, h)) + 2 * size  # the rotated square still covers the card
    tile = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    draw = ImageDraw.Draw(tile)
    ink, outline = (*_INK, _PATTERN_ALPHA), (*_OUTLINE, _PATTERN_ALPHA)
    step_x, step_y = word_w + size * 2, word_h + size * 2
    for row, y in enumerate(range(-step_y, side + step_y, step_y)):
        offset = (step_x // 2) * (row % 2)
        for x in range(-step_x + offset, side + step_x, step_x):
            draw.text(
                (x - left, y - top),
                MARK,
                font=font,
                fill=ink,
                stroke_width=stroke,
                stroke_fill=outline,
            )
    _sash(draw, side, max(8, round(max(w, h) * _SASH)))
    turned = tile.rotate(_ANGLE, resample=Image.Resampling.BICUBIC)
    x0, y0 = (side - w) // 2, (side - h) // 2
    return turned.crop((x0, y0, x0 + w, y0 + h))


def _sash(draw: ImageDraw.ImageDraw, side: int, height: int) -> None:
    """An opaque band of `height` across the middle of the (unturned) `side` square tile, light
    edges, the word spaced along it."""
    top = (side - height) // 2
    edge = max(1, round(height / 16))
    draw.rectangle((0, top, side, top + height - 1), fill=(*_INK, 255))
    draw.rectangle((0, top + edge, side, top + height - 1 - edge), fill=_SASH_FILL)
    font = fonts.get_font(fonts.PRIMARY, 700, max(8, round(height * 0.5)))
    left, t, right, bottom = (round(v) for v in font.getbbox(MARK))
    step = (right - left) + height * 2
    y = top + (height - (bottom - t)) // 2 - t
    for x in range(side // 2 - (right - left) // 2 - step * (side // step), side, step):
        draw.text((x - left, y), MARK, font=font, fill=(*_INK, 255))


def _tag(layer: Image.Image) -> None:
    """A solid "PREVIEW" tag in the top-right corner."""
    w, h = layer.size
    size = max(10, min(20, round(min(w, h) * 0.055)))
    font = fonts.get_font(fonts.PRIMARY, 700, size)
    left, top, right, bottom = (round(v) for v in font.getbbox(MARK))
    pad_x, pad_y, margin = round(size * 0.8), round(size * 0.45), round(size * 0.7)
    box_w, box_h = right - left + 2 * pad_x, bottom - top + 2 * pad_y
    x0, y0 = w - margin - box_w, margin
    tag = Image.new("RGBA", (box_w, box_h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(tag)
    draw.rounded_rectangle(
        (0, 0, box_w - 1, box_h - 1),
        radius=box_h // 2,
        fill=_TAG_FILL,
        outline=(*_INK, 200),
        width=max(1, size // 12),
    )
    draw.text((pad_x - left, pad_y - top), MARK, font=font, fill=(*_INK, 255))
    layer.alpha_composite(tag, (x0, y0))
