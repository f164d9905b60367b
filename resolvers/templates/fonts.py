"""An account's uploaded fonts (docs/templates.md, Fonts): checked in a render process, kept
in the database, 20 per account, private to it. Designs name them by id; a render reads the
ones its design names (resolvers/templates/fontfiles.py puts each on the render host's disk).
"""

from __future__ import annotations

import hashlib
import secrets
import string
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from tortoise.transactions import in_transaction

from models import Account, Font
from render import fonts as bundled
from resolvers.errors import AppError, TooManyRequests
from resolvers.timefmt import iso_utc

MAX_FONTS = 20
MAX_FONT_BYTES = 5 << 20
MAX_FAMILY = 64
CHECK_RETRY = 5  # seconds (Retry-After) when the account's previous upload is still checked
ID_PREFIX = "font_"
_ALPHABET = string.ascii_lowercase + string.digits
# what a render process answers for a font: ("ok", sfnt, info) or ("bad", why, None)
Checker = Callable[[bytes], Awaitable[tuple[str, Any, Any]]]
_checking: set[int] = set()  # accounts with an upload being checked (in this process)
_LISTED = ("id", "family", "weight", "style", "glyphs", "scripts", "format", "size", "created_at")


class InvalidFont(AppError, code="INVALID_FONT", status=400): ...


class FontNotFound(AppError, code="FONT_NOT_FOUND", status=404): ...


class FontLimit(AppError, code="FONT_LIMIT", status=409): ...


def looks_like_id(value: str) -> bool:
    rest = value.removeprefix(ID_PREFIX)
    return value.startswith(ID_PREFIX) and len(rest) == 16 and all(c in _ALPHABET for c in rest)


def _family(value: str | None) -> str | None:
    if value is None:
        return None
    value = " ".join(value.split())
    if not value or len(value) > MAX_FAMILY or not value.isprintable():
        raise InvalidFont(f"family must be 1 to {MAX_FAMILY} printable characters")
    return value


def view(row: dict[str, Any]) -> dict[str, Any]:
    """A font on the wire."""
    return {
        **{k: row[k] for k in _LISTED if k != "created_at"},
        "custom": True,
        "created_at": iso_utc(row["created_at"]),
    }


async def _full(account_id: int) -> None:
    if await Font.filter(account_id=account_id).count() >= MAX_FONTS:
        raise FontLimit(f"At most {MAX_FONTS} fonts per account: delete one first.")


async def create(
    account_id: int, data: bytes, family: str | None, check: Checker, now: datetime
) -> dict[str, Any]:
    """Check `data` in a render process and keep it: 201's body. INVALID_FONT, FONT_LIMIT;
    RATE_LIMITED while another upload of the account is being checked."""
    family = _family(family)
    await _full(account_id)  # before the check: a full account costs no parsing
    if account_id in _checking:
        raise TooManyRequests(
            "Another font of this account is being checked: upload one at a time.", CHECK_RETRY
        )
    _checking.add(account_id)
    try:
        status, sfnt, info = await check(data)
    except Exception as exc:  # the check killed or hung its process: hostile, or broken
        raise InvalidFont("The font could not be checked (its parser failed on it).") from exc
    finally:
        _checking.discard(account_id)
    if status != "ok":
        raise InvalidFont(f"Not a usable font: {sfnt}.")
    row = {**info, "family": family or info["family"], "size": len(data), "created_at": now}
    async with in_transaction():
        # Counted under the account's row lock: two uploads cannot both take the 20th place.
        await Account.select_for_update().filter(id=account_id).first()
        await _full(account_id)
        font = await Font.create(
            id=ID_PREFIX + "".join(secrets.choice(_ALPHABET) for _ in range(16)),
            account_id=account_id,
            sha256=hashlib.sha256(sfnt).hexdigest(),
            data=sfnt,
            **row,
        )
    return view({"id": font.id, **row})


async def list_own(account_id: int) -> list[dict[str, Any]]:
    rows = await Font.filter(account_id=account_id).order_by("created_at", "id").values(*_LISTED)
    return [view(r) for r in rows]


async def own_ids(account_id: int) -> list[str]:
    """The ids a design of this account may name."""
    return [str(i) for i in await Font.filter(account_id=account_id).values_list("id", flat=True)]


async def delete(account_id: int, font_id: str) -> None:
    deleted = 0
    if looks_like_id(font_id):
        deleted = await Font.filter(id=font_id, account_id=account_id).delete()
    if not deleted:
        raise FontNotFound(f"No font {font_id[:40]!r} in this account.")


def bundled_list() -> list[dict[str, Any]]:
    """The families every design may name (the bundled fonts; the rest are fallbacks)."""
    return [
        {"family": name, "custom": False, "weights": bundled.weights(face)}
        for name, face in bundled.FAMILIES.items()
    ]
