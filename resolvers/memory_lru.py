"""The per-worker memory tier of the image cache: images by key, bounded by bytes
(`IMAGE_CACHE_MB`), least recently used out first (aiocache's SimpleMemoryCache has neither a
bound nor an eviction order: docs/caching.md)."""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from resolvers.cache import CachedImage


class MemoryLru:
    """Images by key, least recently used first out once `max_bytes` is passed; an entry put
    with a `ttl` is gone `ttl` seconds later (time.monotonic)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._items: OrderedDict[str, CachedImage] = OrderedDict()
        self._expires: dict[str, float] = {}  # only the entries put with a ttl

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: str) -> CachedImage | None:
        image = self._items.get(key)
        if image is not None:
            if self._expires and self._expires.get(key, float("inf")) <= time.monotonic():
                self._pop(key)
                return None
            self._items.move_to_end(key)
        return image

    def put(self, key: str, image: CachedImage, ttl: float | None = None) -> None:
        cost = len(image.body) + len(key) + 200
        if cost > self.max_bytes:
            return
        self._pop(key)
        self._items[key] = image
        if ttl is not None:
            self._expires[key] = time.monotonic() + ttl
        self.size += cost
        while self.size > self.max_bytes:
            self._pop(next(iter(self._items)))

    def _pop(self, key: str) -> None:
        old = self._items.pop(key, None)
        if old is not None:
            self.size -= len(old.body) + len(key) + 200
            self._expires.pop(key, None)
