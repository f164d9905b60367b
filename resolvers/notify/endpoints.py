"""An account's webhook endpoints (docs/webhooks.md): add (the secret shown once), list,
remove; at most 5 per account. A URL follows the remote-image SSRF rules
(resolvers/fetch/policy.py through the fetcher: https only in production, every address its
host resolves to public unless OGAPI_ALLOW_PRIVATE_FETCH) → 400 INVALID_PARAMETER naming `url`;
each delivery checks its addresses again (resolvers/notify/delivery.py)."""

from __future__ import annotations

import string
from datetime import datetime
from typing import Any

from tortoise.transactions import in_transaction
from yarl import URL

from models import Account, WebhookDelivery, WebhookEndpoint
from resolvers.crypto import SecretBox, random_token
from resolvers.errors import AppError, InvalidParameter, NotFound
from resolvers.fetch.fetcher import RemoteImageFetcher, validate_image_url
from resolvers.fetch.limits import Blocked, Rejected
from resolvers.notify.events import SUBSCRIBABLE
from resolvers.notify.signature import new_secret
from resolvers.timefmt import iso_utc

MAX_ENDPOINTS = 5


class WebhookLimit(AppError, code="WEBHOOK_LIMIT", status=409): ...


def new_id() -> str:
    return "we_" + random_token(16, string.ascii_lowercase + string.digits)


def check_events(events: object) -> list[str]:
    if not isinstance(events, list) or not events:
        raise InvalidParameter(f"events must be a non-empty list of {', '.join(SUBSCRIBABLE)}")
    unknown = [e for e in events if e not in SUBSCRIBABLE]
    if unknown:
        raise InvalidParameter(
            f"events has an unknown event type {str(unknown[0])[:40]!r} "
            f"(one of {', '.join(SUBSCRIBABLE)})"
        )
    return [e for e in SUBSCRIBABLE if e in events]  # one order, no repeats


async def check_url(url: object, fetcher: RemoteImageFetcher) -> str:
    """`url` normalised, if the fetcher may post to it now (the rules of remote images)."""
    if not isinstance(url, str):
        raise InvalidParameter("url must be an https URL")
    checked = validate_image_url("url", url, allow_http=fetcher.allow_http)
    try:
        await fetcher.vet(URL(checked, encoded=True))
    except Blocked:
        raise InvalidParameter(
            "url must point to a public address (its host resolves to a private, loopback "
            "or reserved one)"
        ) from None
    except (Rejected, OSError) as exc:  # no address, or the lookup failed
        raise InvalidParameter(f"url names a host that cannot be resolved ({exc})") from None
    return checked


async def create(
    account_id: int, body: dict, fetcher: RemoteImageFetcher, box: SecretBox, now: datetime
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its secret (`whsec_…`, shown to the caller this once)."""
    unknown = sorted(set(body) - {"url", "events"})
    if unknown:
        raise InvalidParameter(f"Unknown member: {unknown[0][:40]}")
    events = check_events(body.get("events"))
    url = await check_url(body.get("url"), fetcher)
    secret = new_secret()
    async with in_transaction():
        await Account.select_for_update().get(id=account_id)  # one count at a time
        if await WebhookEndpoint.filter(account_id=account_id).count() >= MAX_ENDPOINTS:
            raise WebhookLimit(f"An account has at most {MAX_ENDPOINTS} webhook endpoints.")
        endpoint = await WebhookEndpoint.create(
            id=new_id(),
            account_id=account_id,
            url=url,
            events=events,
            sealed_secret=box.seal(secret),
            created_at=now,
        )
    return endpoint, secret


async def list_own(account_id: int) -> list[WebhookEndpoint]:
    return await WebhookEndpoint.filter(account_id=account_id).order_by("created_at", "id")


async def get_own(account_id: int, endpoint_id: str) -> WebhookEndpoint:
    found = await WebhookEndpoint.get_or_none(id=endpoint_id, account_id=account_id)
    if found is None:
        raise NotFound(f"No webhook endpoint {endpoint_id[:40]!r} on this account.")
    return found


async def delete(account_id: int, endpoint_id: str) -> None:
    """Remove it with its delivery log (pending deliveries are dropped)."""
    if not await WebhookEndpoint.filter(id=endpoint_id, account_id=account_id).delete():
        raise NotFound(f"No webhook endpoint {endpoint_id[:40]!r} on this account.")


def view(e: WebhookEndpoint, secret: str | None = None) -> dict[str, Any]:
    """The REST shape; `secret` only in the answer that created it."""
    out: dict[str, Any] = {
        "id": e.id,
        "url": e.url,
        "events": list(e.events),
        "enabled": e.disabled_at is None,
        "created_at": iso_utc(e.created_at),
    }
    if e.disabled_at is not None:
        out["disabled_at"] = iso_utc(e.disabled_at)
    if secret is not None:
        out["secret"] = secret
    return out


async def recent_deliveries(endpoint_id: str, first: int) -> list[dict[str, Any]]:
    """The endpoint's latest deliveries, newest first, each with its event's type."""
    return (
        await WebhookDelivery.filter(endpoint_id=endpoint_id)
        .order_by("-created_at", "-id")
        .limit(max(0, min(first, 50)))
        .values(*DELIVERY_FIELDS, type="event__type")
    )


DELIVERY_FIELDS = (
    "id",
    "event_id",
    "created_at",
    "status",
    "attempts",
    "last_attempt_at",
    "last_status",
    "last_error",
    "next_attempt_at",
    "delivered_at",
)
