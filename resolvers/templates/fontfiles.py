"""Uploaded fonts on the render host's disk: a render process opens a font file (FreeType
reads it as it needs), so each host writes the fonts its renders use, once, from the database,
as files named by owner, id and hash (`a{owner}/{id}-{sha256}.sfnt`), written atomically. A
new version of a font is a new id, so a file never changes; every worker of every host reads
the same bytes, checked against their hash.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from models import Font

ROOT = Path(tempfile.gettempdir()) / f"ogapi-fonts-{os.getuid()}"


def font_refs(design: Any) -> set[str]:
    """The `font_…` ids a design's layers name (stacks included)."""
    found: set[str] = set()
    stack = [design]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            font = item.get("font")
            if isinstance(font, str) and font.startswith("font_"):
                found.add(font)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def path_of(account_id: int, font_id: str, sha256: str) -> Path:
    return ROOT / f"a{account_id}" / f"{font_id}-{sha256}.sfnt"


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


async def for_render(account_id: int, ids: Iterable[str]) -> tuple[tuple[str, str, str], ...]:
    """(font id, file, family) of the account's fonts among `ids`, each on this host's disk
    (read from the database only when its file is not there yet). Unknown ids are left out:
    the design draws them in the default family."""
    wanted = sorted(set(ids))
    if not wanted:
        return ()
    rows = await Font.filter(account_id=account_id, id__in=wanted).values("id", "family", "sha256")
    out = []
    for row in rows:
        path = path_of(account_id, row["id"], row["sha256"])
        if not path.is_file():
            data = await Font.filter(id=row["id"]).values_list("data", flat=True)
            blob = bytes(data[0]) if data else b""
            if hashlib.sha256(blob).hexdigest() != row["sha256"]:
                continue  # deleted meanwhile, or not what was checked: never drawn
            await asyncio.to_thread(_write, path, blob)
        out.append((row["id"], str(path), row["family"]))
    return tuple(sorted(out))
