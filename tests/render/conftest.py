from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageChops

from render.card import render_card
from render.spec import CardSpec


def decode(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def card(title: str = "Hello", **kw) -> Image.Image:
    return decode(render_card(CardSpec.build(title, **kw))).convert("RGB")


def ink_bbox(a: Image.Image, b: Image.Image) -> tuple[int, int, int, int] | None:
    """Bounding box of the pixels that differ between two renders."""
    return ImageChops.difference(a, b).getbbox()


def saturated(im: Image.Image, box=None, threshold: int = 90) -> int:
    arr = np.asarray(im.crop(box) if box else im).astype(int)
    return int(((arr.max(axis=2) - arr.min(axis=2)) > threshold).sum())


@pytest.fixture
def plain():
    """Card kwargs for a white card with black text and no coloured decorations."""
    return {
        "template": "minimal",
        "theme": "light",
        "bg_color": "#ffffff",
        "text_color": "#000000",
        "accent_color": "#ffffff",
        "width": 600,
        "height": 300,
    }


def marked_share(draft: Image.Image, clean: Image.Image, threshold: int = 40) -> list[float]:
    """The share of pixels in each quarter of `draft` (top-left, top-right, bottom-left,
    bottom-right) that differ from `clean` (the same card, unmarked) by more than `threshold`
    in some channel: what a watermark changed, far above JPEG noise (under 1 %)."""
    a = np.asarray(draft.convert("RGB")).astype(int)
    b = np.asarray(clean.convert("RGB")).astype(int)
    assert a.shape == b.shape, (a.shape, b.shape)
    changed = np.abs(a - b).max(axis=2) > threshold
    h, w = changed.shape
    rows, cols = (slice(0, h // 2), slice(h // 2, h)), (slice(0, w // 2), slice(w // 2, w))
    return [float(changed[r, c].mean()) for r in rows for c in cols]
