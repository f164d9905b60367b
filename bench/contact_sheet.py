"""Render every template in both themes; write a contact sheet (and, with --all, variants).

usage: python -m bench.contact_sheet [--out docs/img/templates.png] [--all /tmp/cards]
"""

from __future__ import annotations

import argparse
import dataclasses
import io
from pathlib import Path

from PIL import Image

from bench.samples import INTL, LONG, SAMPLES, sample
from render.card import render_card
from render.templates import TEMPLATES


def _img(spec) -> Image.Image:
    return Image.open(io.BytesIO(render_card(spec))).convert("RGB")


def sheet(out: Path, thumb_w: int = 400) -> None:
    names = list(TEMPLATES)
    th = round(thumb_w * 630 / 1200)
    gap = 12
    grid = Image.new("RGB", (2 * thumb_w + 3 * gap, len(names) * (th + gap) + gap), (228, 231, 236))
    for row, name in enumerate(names):
        for col, theme in enumerate(("dark", "light")):
            im = _img(sample(name, theme)).resize((thumb_w, th), Image.Resampling.LANCZOS)
            grid.paste(im, (gap + col * (thumb_w + gap), gap + row * (th + gap)))
    out.parent.mkdir(parents=True, exist_ok=True)
    grid.quantize(256, dither=Image.Dither.NONE).save(out, optimize=True)


def variants(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in TEMPLATES:
        for theme in ("dark", "light"):
            base = sample(name, theme)
            cases = {
                "std": base,
                "long": dataclasses.replace(base, title=LONG + " " + base.title),
                "short": dataclasses.replace(base, title="Hi", subtitle=None),
            }
            cases.update({k: dataclasses.replace(base, title=v) for k, v in INTL.items()})
            for size in ((1200, 630), (400, 400), (2400, 600), (600, 1200)):
                for case, spec in cases.items():
                    if size != (1200, 630) and case not in ("std", "long", "mixed"):
                        continue
                    spec = dataclasses.replace(spec, width=size[0], height=size[1])
                    _img(spec).save(folder / f"{name}-{theme}-{case}-{size[0]}x{size[1]}.png")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="docs/img/templates.png")
    ap.add_argument("--all", help="also write every variant into this folder")
    a = ap.parse_args()
    sheet(Path(a.out))
    if a.all:
        variants(Path(a.all))
    print(f"wrote {a.out} ({Path(a.out).stat().st_size} bytes) {len(SAMPLES)} templates")
