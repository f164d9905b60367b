"""A ZIP archive written straight into an aiohttp `StreamResponse`, one member at a time.

`zipfile` writes to any object with `write`; given one that cannot `tell`, it writes each
member's sizes after its data (a data descriptor) and never seeks back, so a member can go out
on the wire as soon as it is added. Only the member being added (and the small central
directory at the end) is in memory: a 100-image batch is never held whole (docs/rest-api.md).
"""

from __future__ import annotations

import zipfile
from datetime import datetime

from aiohttp import web


class _Chunks:
    """What zipfile writes, kept until `take`: references to its buffers, not copies."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def take(self) -> list[bytes]:
        parts, self.parts = self.parts, []
        return parts


class ZipStream:
    def __init__(self, response: web.StreamResponse, when: datetime) -> None:
        self.response = response
        self._chunks = _Chunks()
        self._zip = zipfile.ZipFile(self._chunks, "w")
        self._date_time = (when.year, when.month, when.day, when.hour, when.minute, when.second)

    async def add(self, name: str, data: bytes, *, compress: bool = False) -> None:
        info = zipfile.ZipInfo(name, self._date_time)
        info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        info.external_attr = 0o644 << 16
        self._zip.writestr(info, data)
        await self._send()

    async def close(self) -> None:
        self._zip.close()
        await self._send()
        await self.response.write_eof()

    async def _send(self) -> None:
        for part in self._chunks.take():
            await self.response.write(part)
