"""The durable image store (docs/caching.md#the-image-store): every complete render, kept by
the account and exactly what was drawn, so an image a customer paid for is served again, on
any worker or host and after any restart, without being counted again.

`IMAGE_STORE` names it:
    file:///abs/dir  file://relative/dir   a directory (the default: <OGAPI_DATA_DIR>/images)
    s3://bucket/prefix                     any S3-compatible service (resolvers/images/s3store.py)
    none                                   no store (then only the caches serve hits)

An object's name is `<prefix>a<account id>/<h[:2]>/<h>`, `h` the request's content key (a
sha256 over the render version and the fully normalised spec: resolvers/images/params.py
`ImageRequest.cache_key`). Nothing a client sends reaches a path except through that hash, and
the owner is part of both the name and the header each object carries (checked on every read),
so one account's request can never read another's image. An object's modification time is its
last access, refreshed at most once a day (`TOUCH_AFTER`); the sweep removes objects older than
`IMAGE_STORE_RETENTION_DAYS`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from resolvers.images.cache import CachedImage

TOUCH_AFTER = 86400.0  # seconds: an access refreshes an object's time at most once a day
MAGIC = b"OGAPI-IMAGE 1\n"
_KEY = re.compile(r"a([0-9]{1,18}):([0-9a-f]{64})")


class StoreUrlError(ValueError):
    """IMAGE_STORE is not `none`, `file://…` or `s3://bucket[/prefix]`."""


@dataclass(frozen=True)
class StoreUrl:
    kind: str  # "file" | "s3" | "none"
    location: str = ""  # the directory, or the bucket
    prefix: str = ""  # s3: the key prefix, "" or ending in "/"


def parse_store_url(url: str) -> StoreUrl:
    url = url.strip()
    if url.lower() == "none":
        return StoreUrl("none")
    if url.startswith("file://"):
        path = url.removeprefix("file://")
        if not path:
            raise StoreUrlError("IMAGE_STORE=file://… needs a directory, e.g. file://data/images")
        return StoreUrl("file", path)
    if url.startswith("s3://"):
        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        if not re.fullmatch(r"[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]", bucket):
            raise StoreUrlError(f"IMAGE_STORE: {bucket!r} is not an S3 bucket name")
        prefix = prefix.strip("/")
        return StoreUrl("s3", bucket, prefix + "/" if prefix else "")
    raise StoreUrlError(f"IMAGE_STORE must be none, file://DIR or s3://BUCKET/PREFIX, got {url!r}")


def object_name(key: str) -> str:
    """`a12/3f/3f…` for the image key `a12:3f…` (resolvers/images/cache.py `image_key`). Any other
    key (a preview, the fallback card) is refused: only an account's renders are stored."""
    m = _KEY.fullmatch(key)
    if m is None:
        raise ValueError(f"not an account's image key: {key[:80]!r}")
    account, digest = m.groups()
    return f"a{account}/{digest[:2]}/{digest}"


def pack(key: str, image: CachedImage) -> bytes:
    head = {"key": key, "type": image.content_type, "etag": image.etag, "ms": image.render_ms}
    if image.warnings:  # the render report's warnings travel with the bytes
        head["warnings"] = image.warnings
    return MAGIC + json.dumps(head, separators=(",", ":")).encode() + b"\n" + image.body


def unpack(key: str, blob: bytes) -> CachedImage:
    """The image of a stored object; ValueError when it is not the image of `key` (a torn or
    foreign object is never served)."""
    if not blob.startswith(MAGIC):
        raise ValueError("not a stored image")
    head_raw, sep, body = blob[len(MAGIC) :].partition(b"\n")
    head = json.loads(head_raw)
    if not sep or head.get("key") != key:
        raise ValueError("stored image belongs to another key")
    return CachedImage(
        body,
        head["type"],
        head["etag"],
        float(head.get("ms", 0.0)),
        warnings=str(head.get("warnings", "")),
    )


@dataclass(frozen=True)
class Stored:
    blob: bytes
    accessed: float  # Unix time of the last recorded access (the object's modification time)


@dataclass
class SweepResult:
    removed: int = 0
    removed_bytes: int = 0
    kept: int = 0
    kept_bytes: int = 0


class ImageStore(Protocol):
    kind: str

    async def open(self) -> None: ...

    async def read(self, name: str) -> Stored | None: ...

    async def write(self, name: str, blob: bytes) -> None: ...

    async def touch(self, name: str, now: float) -> None: ...

    async def sweep(self, cutoff: float, *, dry_run: bool = False) -> SweepResult: ...

    async def ping(self) -> bool: ...

    async def close(self) -> None: ...


class FileStore:
    """One file per image under `root`; written to a temporary name, then renamed (readers
    never see half a file). Reading, writing and the sweep run in a thread: a slow disk never
    stalls the loop. One exception, a read's `os.stat`: a miss (every uncached render) is
    answered on the loop, since a stat of a local disk's file is a few microseconds of metadata
    and a thread hop costs a wake-up of the loop (~0.3 ms on a busy core). The file store is for
    a local disk: on a network file system, where a stat can stall the loop, prefer `s3://`
    (docs/operations.md, the topology for several hosts)."""

    kind = "file"

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def _path(self, name: str) -> Path:
        return self.root / name

    async def open(self) -> None:
        await asyncio.to_thread(self.root.mkdir, parents=True, exist_ok=True)

    async def read(self, name: str) -> Stored | None:
        path = self._path(name)
        try:
            os.stat(path)  # on the loop: see the class's comment
        except FileNotFoundError:
            return None
        return await asyncio.to_thread(self._read, path)  # removed meanwhile: None there too

    @staticmethod
    def _read(path: Path) -> Stored | None:
        try:
            with open(path, "rb") as f:
                return Stored(f.read(), os.fstat(f.fileno()).st_mtime)
        except FileNotFoundError:
            return None

    async def write(self, name: str, blob: bytes) -> None:
        await asyncio.to_thread(self._write, self._path(name), blob)

    @staticmethod
    def _write(path: Path, blob: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            tmp.write_bytes(blob)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise

    async def touch(self, name: str, now: float) -> None:
        await asyncio.to_thread(self._touch, self._path(name), now)

    @staticmethod
    def _touch(path: Path, now: float) -> None:
        with contextlib.suppress(FileNotFoundError):
            if path.stat().st_mtime < now - TOUCH_AFTER:
                os.utime(path, (now, now))

    async def sweep(self, cutoff: float, *, dry_run: bool = False) -> SweepResult:
        return await asyncio.to_thread(self._sweep, cutoff, dry_run)

    def _sweep(self, cutoff: float, dry_run: bool) -> SweepResult:
        out = SweepResult()
        for entry in _files(self.root):
            try:
                st = entry.stat()
                if st.st_mtime < cutoff:
                    if not dry_run:
                        os.unlink(entry.path)
                    out.removed, out.removed_bytes = out.removed + 1, out.removed_bytes + st.st_size
                elif not entry.name.startswith("."):  # a temporary file is not an image
                    out.kept, out.kept_bytes = out.kept + 1, out.kept_bytes + st.st_size
            except FileNotFoundError:  # removed meanwhile (another sweep)
                continue
        return out

    async def ping(self) -> bool:
        return await asyncio.to_thread(self._ping)

    def _ping(self) -> bool:
        self.root.mkdir(parents=True, exist_ok=True)
        return os.access(self.root, os.R_OK | os.W_OK | os.X_OK)

    async def close(self) -> None:
        """Nothing to release."""


def _files(root: Path):
    """Every file under root/a*/xx/ (the store's own layout only)."""
    if not root.is_dir():
        return
    for account in os.scandir(root):
        if not (account.is_dir() and account.name.startswith("a")):
            continue
        for shard in os.scandir(account.path):
            if shard.is_dir():
                yield from (e for e in os.scandir(shard.path) if e.is_file())


def open_store(
    url: str,
    *,
    endpoint_url: str | None = None,
    region: str | None = None,
    access_key: str | None = None,
    secret_key: str | None = None,
) -> ImageStore | None:
    """The store `IMAGE_STORE` names, or None for `none`."""
    parsed = parse_store_url(url)
    if parsed.kind == "none":
        return None
    if parsed.kind == "file":
        return FileStore(parsed.location)
    from resolvers.images.s3store import S3Store

    return S3Store(
        parsed.location,
        parsed.prefix,
        endpoint_url=endpoint_url,
        region=region,
        access_key=access_key,
        secret_key=secret_key,
    )
