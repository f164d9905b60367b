"""Render-side memos bounded by bytes, not by entry count (docs/rendering.md, Memory).

An entry count says nothing about memory when one entry is a 2400x2400 background (17 MB) and
another a 1200x630 one (2 MB). `ByteLru` keeps the least recently used entries out once a byte
budget is passed; `bytes_cached` memoises a function with one; `Admission` keeps large values
out until their key has been asked for twice (a one-off size or colour is not worth 17 MB).
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

from PIL import Image

V = TypeVar("V")


def image_bytes(im: Image.Image) -> int:
    """Approximate memory of a PIL image (pixels only)."""
    return im.width * im.height * len(im.getbands())


class ByteLru(Generic[V]):
    """Values by key, least recently used out first once `max_bytes` is passed. A value larger
    than the whole budget is not kept."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._items: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: Hashable) -> V | None:
        hit = self._items.get(key)
        if hit is None:
            return None
        self._items.move_to_end(key)
        return hit[0]

    def put(self, key: Hashable, value: V, cost: int) -> None:
        old = self._items.pop(key, None)
        if old is not None:
            self.size -= old[1]
        if cost > self.max_bytes:
            return
        self._items[key] = (value, cost)
        self.size += cost
        while self.size > self.max_bytes:
            _, (_, freed) = self._items.popitem(last=False)
            self.size -= freed

    def clear(self) -> None:
        self._items.clear()
        self.size = 0


class Admission:
    """Which keys were asked for recently (a bounded set): a large value is cached only when its
    key comes again, so one-off renders never push the reusable entries out."""

    def __init__(self, max_keys: int = 512) -> None:
        self.max_keys = max_keys
        self._seen: OrderedDict[Hashable, None] = OrderedDict()

    def again(self, key: Hashable) -> bool:
        """True when `key` was asked for before (and remembers it either way)."""
        if key in self._seen:
            self._seen.move_to_end(key)
            return True
        self._seen[key] = None
        if len(self._seen) > self.max_keys:
            self._seen.popitem(last=False)
        return False


def bytes_cached(max_bytes: int, cost: Callable[[Any], int]):
    """Like functools.lru_cache, bounded by the bytes `cost(result)` says each result holds."""

    def wrap(fn):
        memo: ByteLru = ByteLru(max_bytes)

        @functools.wraps(fn)
        def cached(*args):
            hit = memo.get(args)
            if hit is None:
                hit = fn(*args)
                memo.put(args, hit, cost(hit))
            return hit

        cached.memo = memo  # type: ignore[attr-defined]  # for tests and the bench
        return cached

    return wrap
