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
