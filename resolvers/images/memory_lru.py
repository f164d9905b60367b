"""The per-worker memory tier of the image cache: images by key, bounded by bytes
(`IMAGE_CACHE_MB`), least recently used out first (aiocache's SimpleMemoryCache has neither a
bound nor an eviction order: docs/caching.md). The policy is resolvers/memo.py's `LruMap`;
this module prices an image."""

from __future__ import annotations

from typing import TYPE_CHECKING

from resolvers.memo import LruMap

if TYPE_CHECKING:
    from resolvers.images.cache import CachedImage


def _cost(key: str, image: CachedImage) -> int:
    """An entry's bytes: the image, its key and ~200 bytes of bookkeeping."""
    return len(image.body) + len(key) + 200


class MemoryLru(LruMap[str, "CachedImage"]):
    """Images by key within `max_bytes`; an entry put with a `ttl` is gone `ttl` seconds later."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(max_bytes=max_bytes, cost=_cost)
