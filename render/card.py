"""render_card: a CardSpec in, image bytes out. Pure and deterministic. Every card is a design
drawn by `render.design.engine`: a built-in's own (render/builtins) or a custom template's."""

from __future__ import annotations

import io
from dataclasses import replace

from render import draw, fonts, png, report
from render.design.engine import draw_design, load
from render.draw import Canvas
from render.spec import DEFAULT_QUALITY, MAX_QUALITY, MAX_SIZE, MIN_QUALITY, MIN_SIZE, CardSpec
from render.templates import TEMPLATES

RENDER_VERSION = "3"
PNG_LEVEL = 7
_MIME = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}


def _clamp(v: int) -> int:
    return max(MIN_SIZE, min(MAX_SIZE, int(v)))


def _encode(canvas: Canvas, fmt: str, quality: int | None) -> bytes:
    if fmt == "png":
        pixels = canvas.pixels()
        return png.encode_png(pixels, PNG_LEVEL, canvas.bg, canvas.dirty, draw.PNG_BANDS)
    q = max(MIN_QUALITY, min(MAX_QUALITY, quality or DEFAULT_QUALITY.get(fmt, 90)))
    buf = io.BytesIO()
    if fmt == "jpeg":
        canvas.im.save(
            buf,
            "JPEG",
            quality=q,
            optimize=False,
            progressive=False,
            subsampling=0 if q >= 90 else 2,
        )
    else:
        canvas.im.save(buf, "WEBP", quality=q, method=2)
    return buf.getvalue()


def draw_card(spec: CardSpec) -> Canvas:
    """Draw `spec` (its size clamped to the API's limits) on a new canvas."""
    w, h = _clamp(spec.width), _clamp(spec.height)
    if (w, h) != (spec.width, spec.height):
        spec = replace(spec, width=w, height=h)
    values = {**dict(spec.fields), "title": spec.title}
    if spec.design is not None:
        source = spec.design
    else:  # a built-in: its design, with the subtitle and colour parameters as its fields
        source = (TEMPLATES.get(spec.template) or TEMPLATES["default"]).source
        extra = {
            "subtitle": spec.subtitle,
            "bg_color": spec.bg_color,
            "text_color": spec.text_color,
            "accent_color": spec.accent_color,
        }
        values.update({k: v for k, v in extra.items() if v})
        values.update({name: name for name, _ in spec.images})  # given: drawn if it decodes
    faces = {fid: fonts.user_face(path, family) for fid, path, family in spec.fonts}
    design, images = load(source), dict(spec.images)
    return draw_design(design, values, images, spec.theme, w, h, source, faces)


def render_card(spec: CardSpec) -> bytes:
    """Draw `spec` and encode it in spec.format."""
    canvas = draw_card(spec)
    return _encode(canvas, spec.format if spec.format in _MIME else "png", spec.quality)


def render_warned(spec: CardSpec) -> tuple[bytes, str]:
    """(the image, its `X-Render-Warnings`: "" when it is what was asked)."""
    with report.collecting(spec.images) as found:
        canvas = draw_card(spec)
    return _encode(canvas, spec.format if spec.format in _MIME else "png", spec.quality), (
        found.warnings()
    )


def render_report(spec: CardSpec) -> dict:
    """The render report of `spec` (drawn, never encoded): docs/templates.md."""
    with report.collecting(spec.images) as found:
        draw_card(spec)
    return found.as_dict()


def render_fallback(width: int = 1200, height: int = 630, fmt: str = "png") -> bytes:
    """A neutral "preview unavailable" card (served when the owner is out of quota)."""
    spec = CardSpec(
        title="Preview unavailable",
        template="minimal",
        theme="light",
        format=fmt,  # type: ignore[arg-type]  # callers pass "png", "jpeg" or "webp"
        width=_clamp(width),
        height=_clamp(height),
        fields=(("brand", "OG Image API"),),
    )
    return render_card(spec)


def mime_type(fmt: str) -> str:
    return _MIME.get(fmt, "image/png")


__all__ = [
    "RENDER_VERSION",
    "draw_card",
    "mime_type",
    "render_card",
    "render_fallback",
    "render_report",
    "render_warned",
]
