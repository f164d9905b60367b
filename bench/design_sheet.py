"""Render the example user designs (docs/examples/*.json) in both themes as a contact sheet.
podcast.json names an uploaded font: here DejaVu Serif Bold (Debian's fonts-dejavu-core, which
scripts/setup.sh installs), checked as an upload is (render/fontcheck.py).

usage: python -m bench.design_sheet [--out docs/img/custom-templates.png]
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

from PIL import Image, ImageDraw

from render.card import render_card
from render.fontcheck import inspect_font
from render.spec import CardSpec

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"
VALUES = {
    "changelog": ("Faster cold starts, and templates you keep in git",
                  {"version": "4.2", "summary": "Designs as JSON, versions you can pin, fonts "
                   "that travel with them", "author": "Priya Raman", "avatar": "img:avatar"}),
    "podcast": ("Why every team rewrites its billing system twice",
                {"show": "Ship It Weekly", "episode": "87", "host": "Sam & Alex",
                 "rating": "4.5", "cover": "img:cover"}),
    "meetup": ("مؤتمر المطورين في دبي — 開発者会議 2026",
               {"date": "12 · 03 · 2026", "city": "Dubai & online"}),
}  # fmt: skip


def _picture(kind: str) -> bytes:
    """A made-up photo: a radial gradient with stripes (no file to ship)."""
    im = Image.new("RGB", (320, 320))
    d = ImageDraw.Draw(im)
    for r in range(320, 0, -8):
        t = r / 320
        colour = (int(250 - 120 * t), int(120 + 60 * t), int(80 + 150 * t))
        if kind == "cover":
            colour = colour[::-1]
        d.ellipse((160 - r, 160 - r, 160 + r, 160 + r), fill=colour)
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


# the uploaded fonts the examples name -> the file standing in for the upload
UPLOADED = {"font_dejavuserifbold0": Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf")}


def _fonts(design: str) -> tuple[tuple[str, str, str], ...]:
    out = []
    for font_id, path in UPLOADED.items():
        if font_id in design:
            _, info = inspect_font(path.read_bytes())  # a TTF: drawn from its own file
            out.append((font_id, str(path), info["family"]))
    return tuple(out)


def card(name: str, theme: str) -> Image.Image:
    design = (EXAMPLES / f"{name}.json").read_text(encoding="utf-8")
    title, fields = VALUES[name]
    images = {k: _picture(v[4:]) for k, v in fields.items() if v.startswith("img:")}
    fields = {k: f"https://example.com/{k}.png" if k in images else v for k, v in fields.items()}
    spec = CardSpec.build(title, fields=fields, images=images, theme=theme, design=design,
                          fonts=_fonts(design))  # fmt: skip
    return Image.open(io.BytesIO(render_card(spec))).convert("RGB")


def sheet(out: Path, thumb_w: int = 480) -> None:
    names = sorted(VALUES)
    th, gap = round(thumb_w * 630 / 1200), 12
    grid = Image.new("RGB", (2 * thumb_w + 3 * gap, len(names) * (th + gap) + gap), (228, 231, 236))
    for row, name in enumerate(names):
        for col, theme in enumerate(("dark", "light")):
            im = card(name, theme).resize((thumb_w, th), Image.Resampling.LANCZOS)
            grid.paste(im, (gap + col * (thumb_w + gap), gap + row * (th + gap)))
    out.parent.mkdir(parents=True, exist_ok=True)
    grid.quantize(256, dither=Image.Dither.NONE).save(out, optimize=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("docs/img/custom-templates.png"))
    sheet(parser.parse_args().out)


if __name__ == "__main__":
    main()
