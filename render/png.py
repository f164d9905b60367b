"""A PNG writer for RGB cards that reuses the compressed background.

A card is a cached background plus a few drawn rectangles. Rows are stored unfiltered (filter
0): a diagonal gradient row is the previous row shifted by one pixel, which deflate matches
better than any PNG filter. The image is cut into bands of `BAND` rows, each compressed as its
own raw-deflate segment, sync-flushed so segments concatenate into one zlib stream. Each segment
is primed (zdict) with the row above it, so it still matches against that row. A band whose rows
and the row above are untouched background is copied from `Background` (compressed once, hard);
only the bands that were drawn on are compressed per render, each as its own segment, and a
`bands` memo keeps each drawn band's segment by its exact bytes (and the row above): the bands a
new title does not reach (the subtitle, the footer) are not compressed again.
"""

from __future__ import annotations

import struct
import zlib
from typing import TYPE_CHECKING

import numpy as np
from zlib_ng import zlib_ng

if TYPE_CHECKING:
    from render.memo import ByteLru

BAND = 16
BG_LEVEL = 9
_SIG = b"\x89PNG\r\n\x1a\n"
_END = b"\x03\x00"  # an empty final fixed-Huffman block


def _chunk(tag: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(data, zlib.crc32(tag))
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)


def _rows(pixels: np.ndarray, y0: int, y1: int) -> bytes:
    rows = np.zeros((y1 - y0, pixels.shape[1] * 3 + 1), np.uint8)
    rows[:, 1:] = pixels[y0:y1].reshape(y1 - y0, -1)
    return rows.tobytes()


def _deflate(raw: bytes, level: int, prev_row: bytes) -> bytes:
    kw = {"zdict": prev_row} if prev_row else {}
    co = zlib_ng.compressobj(level, zlib_ng.DEFLATED, -15, 9, zlib_ng.Z_DEFAULT_STRATEGY, **kw)
    return co.compress(raw) + co.flush(zlib_ng.Z_SYNC_FLUSH)


def _adler_combine(a1: int, a2: int, len2: int) -> int:
    base = 65521
    rem = len2 % base
    s1 = a1 & 0xFFFF
    s2 = (rem * s1) % base
    s1 = (s1 + (a2 & 0xFFFF) + base - 1) % base
    s2 = (s2 + (a1 >> 16) + (a2 >> 16) + base - rem) % base
    return (s2 << 16) | s1


class Background:
    """A background image with its bands compressed once (lazily)."""

    def __init__(self, pixels: np.ndarray):
        self.pixels = pixels  # (h, w, 3) uint8, read-only
        self._bands: dict[int, tuple[bytes, int, int]] = {}  # y0 -> (segment, adler, len)

    def band(self, y0: int, y1: int) -> tuple[bytes, int, int]:
        hit = self._bands.get(y0)
        if hit is None:
            raw = _rows(self.pixels, y0, y1)
            prev = _rows(self.pixels, y0 - 1, y0) if y0 else b""
            hit = self._bands[y0] = (_deflate(raw, BG_LEVEL, prev), zlib.adler32(raw), len(raw))
        return hit


def _drawn_band(
    pixels: np.ndarray, y0: int, y1: int, level: int, bands: ByteLru | None
) -> tuple[bytes, int, int]:
    """(segment, adler, length) of rows [y0, y1), from `bands` when these exact rows (and the
    row above, which primes the segment) were compressed before at this level."""
    raw = _rows(pixels, y0, y1)
    prev = _rows(pixels, y0 - 1, y0) if y0 else b""
    key = (level, prev, raw) if bands is not None else None
    hit = bands.get(key) if bands is not None else None
    if hit is None:
        hit = (_deflate(raw, level, prev), zlib.adler32(raw), len(raw))
        if bands is not None:
            bands.put(key, hit, len(prev) + len(raw) + len(hit[0]) + 200)
    return hit


def encode_png(
    pixels: np.ndarray,
    level: int = 6,
    background: Background | None = None,
    dirty: list[tuple[int, int]] | None = None,
    bands: ByteLru | None = None,
) -> bytes:
    """PNG bytes of an (h, w, 3) uint8 array.

    With `background` and `dirty` (row ranges [y0, y1) where pixels may differ from the
    background), untouched bands are taken from the background's compressed cache; with
    `bands`, drawn bands are compressed one by one and memoised there (else runs of them at
    once).
    """
    h, w = pixels.shape[:2]
    n = (h + BAND - 1) // BAND
    reusable = [False] * n
    if background is not None and dirty is not None:
        touched = np.zeros(h + 1, bool)  # touched[y + 1]: row y differs; touched[0]: none
        for y0, y1 in dirty:
            touched[max(0, y0) + 1 : max(0, min(h, y1)) + 1] = True
        for i in range(n):
            y0 = i * BAND
            reusable[i] = not touched[y0 : min(h, y0 + BAND) + 1].any()
    parts = [b"\x78\xda"]
    adler = 1
    i = 0
    while i < n:
        y0 = i * BAND
        if reusable[i] and background is not None:  # reusable implies a background
            seg, a2, ln = background.band(y0, min(h, y0 + BAND))
            i += 1
        elif bands is not None:
            seg, a2, ln = _drawn_band(pixels, y0, min(h, y0 + BAND), level, bands)
            i += 1
        else:
            j = i
            while j < n and not reusable[j]:
                j += 1
            y1 = min(h, j * BAND)
            raw = _rows(pixels, y0, y1)
            seg = _deflate(raw, level, _rows(pixels, y0 - 1, y0) if y0 else b"")
            a2, ln = zlib.adler32(raw), len(raw)
            i = j
        parts.append(seg)
        adler = _adler_combine(adler, a2, ln)
    parts.append(_END + struct.pack(">I", adler))
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return _SIG + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", b"".join(parts)) + _chunk(b"IEND", b"")
