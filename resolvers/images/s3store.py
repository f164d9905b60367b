"""`IMAGE_STORE=s3://bucket/prefix`: the image store on any S3-compatible service (AWS S3, MinIO,
Cloudflare R2, Ceph), through aiobotocore (docs/caching.md says why). The only importer of
aiobotocore.

One client per worker, opened on first use (it needs the running loop) and closed at shutdown.
An object's `LastModified` is its last access: a touch older than a day copies the object onto
itself (S3's way to renew it), which also makes an S3 lifecycle rule ("expire N days after
creation") mean "N days after the last request" (docs/operations.md#the-image-store).
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from typing import Any

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session

from resolvers.images.store import TOUCH_AFTER, Stored, SweepResult

MISSING = frozenset({"404", "NoSuchKey", "NotFound"})
CONTENT_TYPE = "application/octet-stream"  # the store's own format (resolvers/images/store.py)


def _missing(exc: Exception) -> bool:
    """A botocore ClientError (`client.exceptions.ClientError`) saying the key is absent."""
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code")) in MISSING


class S3Store:
    kind = "s3"

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
    ) -> None:
        self.bucket, self.prefix = bucket, prefix
        self._options = {
            "region_name": region or "us-east-1",
            "endpoint_url": endpoint_url,
            "aws_access_key_id": access_key,
            "aws_secret_access_key": secret_key,
            "config": AioConfig(
                connect_timeout=2,
                read_timeout=5,
                retries={"max_attempts": 2, "mode": "standard"},
                # path-style URLs work on every S3-compatible service; checksums only where
                # the API requires them (older MinIO, R2 and Ceph refuse the newer defaults)
                s3={"addressing_style": "path" if endpoint_url else "auto"},
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
                max_pool_connections=32,
            ),
        }
        self._stack = contextlib.AsyncExitStack()
        self._client: Any = None
        self._opening = asyncio.Lock()  # one client, however many first requests race

    async def open(self) -> None:
        """Make the client now (botocore loads S3's service model: slow the first time), not
        on the first request or readiness probe."""
        await self._s3()

    async def _s3(self) -> Any:
        if self._client is None:
            async with self._opening:
                if self._client is None:
                    self._client = await self._stack.enter_async_context(
                        get_session().create_client("s3", **self._options)
                    )
        return self._client

    async def read(self, name: str) -> Stored | None:
        s3 = await self._s3()
        try:
            resp = await s3.get_object(Bucket=self.bucket, Key=self.prefix + name)
        except s3.exceptions.ClientError as exc:
            if _missing(exc):
                return None
            raise
        async with resp["Body"] as body:
            blob = await body.read()
        return Stored(blob, resp["LastModified"].timestamp())

    async def write(self, name: str, blob: bytes) -> None:
        s3 = await self._s3()
        await s3.put_object(
            Bucket=self.bucket, Key=self.prefix + name, Body=blob, ContentType=CONTENT_TYPE
        )

    async def touch(self, name: str, now: float) -> None:
        s3, key = await self._s3(), self.prefix + name
        try:
            head = await s3.head_object(Bucket=self.bucket, Key=key)
        except s3.exceptions.ClientError as exc:
            if _missing(exc):
                return
            raise
        if head["LastModified"].timestamp() >= now - TOUCH_AFTER:
            return
        accessed = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        await s3.copy_object(
            Bucket=self.bucket,
            Key=key,
            CopySource={"Bucket": self.bucket, "Key": key},
            MetadataDirective="REPLACE",
            ContentType=CONTENT_TYPE,
            Metadata={"accessed": accessed},
        )

    async def sweep(self, cutoff: float, *, dry_run: bool = False) -> SweepResult:
        s3, out = await self._s3(), SweepResult()
        doomed: list[dict[str, str]] = []
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix)
        async for page in pages:
            for obj in page.get("Contents", []):
                if obj["LastModified"].timestamp() < cutoff:
                    doomed.append({"Key": obj["Key"]})
                    out.removed, out.removed_bytes = (
                        out.removed + 1,
                        out.removed_bytes + obj["Size"],
                    )
                else:
                    out.kept, out.kept_bytes = out.kept + 1, out.kept_bytes + obj["Size"]
            while len(doomed) >= 1000 or (doomed and not page.get("IsTruncated")):
                batch, doomed = doomed[:1000], doomed[1000:]
                if not dry_run:
                    await s3.delete_objects(
                        Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}
                    )
        return out

    async def ping(self) -> bool:
        s3 = await self._s3()
        await s3.head_bucket(Bucket=self.bucket)
        return True

    async def close(self) -> None:
        await self._stack.aclose()
        self._client = None
