"""What the fetchers accept as an image (docs/remote-images.md): pure Pillow, no I/O.

`check_image_head` refuses a response from its head (status, type, encoding, length);
`image_info` reads format and size from the header only (never decoding the pixels);
`check_image` refuses an image over `max_pixels` before decoding it, then decodes it (at most
as many at once as the caller's semaphore allows: decoding is the memory peak), a JPEG at the
reduced DCT scale the renderer itself uses (`Image.draft`, render/draw.py).
"""

from __future__ import annotations

import asyncio
import io
import re
import warnings

from PIL import Image

from resolvers.fetch.limits import Head, Rejected

CONTENT_TYPES = frozenset({"image/png", "image/jpeg", "image/jpg", "image/gif", "image/webp"})
PILLOW_FORMATS = ("PNG", "JPEG", "GIF", "WEBP")  # SVG is never rasterised
DRAFT_SIZE = (1200, 1200)  # as render.draw.decode_image: JPEGs decode at >= this, not full size


def check_image_head(head: Head, max_bytes: int) -> None:
    if head.status != 200:
        raise Rejected(f"HTTP status {head.status}")
    if head.content_type not in CONTENT_TYPES:
        raise Rejected(f"Content-Type {head.content_type} is not an allowed image type")
    if head.content_encoding != "identity":
        raise Rejected("compressed Content-Encoding is not accepted")
    if head.content_length is not None and head.content_length > max_bytes:
        raise Rejected(f"Content-Length {head.content_length} exceeds {max_bytes}")


def _open(data: bytes, formats: tuple[str, ...] | None) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data), formats=formats)
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise Rejected(f"decompression bomb: {exc}") from None
    except Exception as exc:  # Pillow raises many types for garbage input
        reason = re.sub(r" <[^>]*>", "", str(exc))  # no "<_io.BytesIO object at 0x…>"
        raise Rejected(f"not a supported image: {reason}") from None


def image_info(data: bytes) -> tuple[str, int, int] | None:
    """(Pillow format, width, height) from the header of any format Pillow knows, or None.
    Reads no pixels, so a huge size is reported rather than refused."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                return str(image.format), *image.size
    except Exception:  # Pillow raises many types for garbage input (and for sizes past 2x its
        return None  # bomb limit, which no preview shows either)


async def check_image(data: bytes, max_pixels: int, decodes: asyncio.Semaphore) -> None:
    """Reject oversized or undecodable images; the size check precedes any decoding."""
    image = _open(data, PILLOW_FORMATS)
    width, height = image.size
    if width * height > max_pixels:
        image.close()
        raise Rejected(f"{width}x{height} exceeds {max_pixels} pixels")
    try:
        async with decodes:
            await asyncio.to_thread(_decode, image)
    except Exception as exc:
        raise Rejected(f"image does not decode: {exc}") from None


def _decode(image: Image.Image) -> None:
    with image:
        image.draft("RGB", DRAFT_SIZE)
        image.load()
