"""The one gateway to Stripe (docs/billing.md): the only module that imports `stripe`.

- `StripeClient` on `stripe.AIOHTTPClient` and its `*_async` calls: the default HTTP client
  blocks the event loop. One gateway per app, closed in the app's cleanup_ctx (`close`).
- `STRIPE_API_BASE` points it at a Stripe-compatible server (tests/stripe_fake.py); a live key
  (`sk_live_`, `rk_live_`) is refused anywhere but Stripe's own address.
- Every call is logged with Stripe's request id and how long it took, never with the key.
- Answers come back as plain dicts; failures as the service layer's errors: Stripe unreachable,
  5xx, rate-limited or refusing our key → BILLING_UNAVAILABLE; a missing object → NOT_FOUND;
  a request the object's state does not allow (400, e.g. expiring a completed session) →
  `StripeRefused`, a BILLING_UNAVAILABLE the caller may catch.
- Every POST carries an `Idempotency-Key` (the caller's, so a retry is the same request).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import stripe

from resolvers.errors import BillingUnavailable, NotFound

log = logging.getLogger("ogapi.stripe")
DEFAULT_API_BASE = stripe.DEFAULT_API_BASE
WEBHOOK_TOLERANCE = 300  # seconds a webhook signature stays valid
LIVE_PREFIXES = ("sk_live_", "rk_live_")


class StripeConfigError(ValueError):
    """A Stripe setting that must not be used (web.settings turns it into a startup error)."""


class InvalidSignature(Exception):
    """A webhook body whose Stripe-Signature matches none of the secrets (or is too old)."""


class StripeRefused(BillingUnavailable):
    """Stripe answered 400: the request does not fit the object's state (or our parameters)."""


def check_config(secret_key: str, api_base: str | None) -> None:
    """Refuse a live key against any address but Stripe's: it would send real card data and
    a secret that moves real money to a test server."""
    base = (api_base or DEFAULT_API_BASE).rstrip("/")
    if secret_key.startswith(LIVE_PREFIXES) and base != DEFAULT_API_BASE:
        raise StripeConfigError(
            f"STRIPE_SECRET_KEY is a live key: STRIPE_API_BASE must be unset or "
            f"{DEFAULT_API_BASE}, not {base}"
        )


def verify_webhook(payload: bytes, header: str | None, secrets: Sequence[str]) -> None:
    """Check `Stripe-Signature` against each secret (rotation); 300 s tolerance."""
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidSignature("the body is not UTF-8") from None
    for secret in secrets:
        try:
            stripe.WebhookSignature.verify_header(text, header, secret, WEBHOOK_TOLERANCE)
            return
        except stripe.SignatureVerificationError:
            continue
    raise InvalidSignature("no secret matches the signature, or it is older than 300 s")


def _failure(op: str, exc: stripe.StripeError) -> Exception:
    if isinstance(exc, stripe.InvalidRequestError) and exc.http_status == 404:
        return NotFound(f"Stripe has no such object ({op}).")
    if isinstance(exc, stripe.InvalidRequestError) and exc.http_status == 400:
        return StripeRefused("Stripe refused the request; try again soon.")
    if isinstance(exc, (stripe.AuthenticationError, stripe.PermissionError)):
        return BillingUnavailable("Stripe refused this server's API key; tell the operator.")
    if isinstance(exc, stripe.APIConnectionError):
        return BillingUnavailable("Stripe cannot be reached right now; nothing was charged.")
    return BillingUnavailable("Stripe is not answering correctly right now; try again soon.")


def _plain(obj: Any) -> dict[str, Any]:
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


class StripeGateway:
    def __init__(
        self,
        secret_key: str,
        api_base: str | None = None,
        *,
        max_network_retries: int = 2,
        timeout: float = 30.0,
    ) -> None:
        check_config(secret_key, api_base)
        self._http = stripe.AIOHTTPClient(timeout=timeout)
        self._client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": (api_base or DEFAULT_API_BASE).rstrip("/")},
            http_client=self._http,
            max_network_retries=max_network_retries,
        )
        self._v1 = self._client.v1

    async def close(self) -> None:
        # Closing an AIOHTTPClient that never sent a request would first open a session.
        if getattr(self._http, "_cached_session", True) is not None:
            await self._http.close_async()

    async def _call(self, op: str, fn: Callable[..., Awaitable[Any]], *args, **kwargs) -> Any:
        start = time.perf_counter()
        try:
            obj = await fn(*args, **kwargs)
        except stripe.StripeError as exc:
            log.warning(
                "stripe %s failed: %s status=%s code=%s request_id=%s (%.0f ms)",
                op,
                type(exc).__name__,
                exc.http_status,
                exc.code,
                exc.request_id,
                (time.perf_counter() - start) * 1000,
            )
            raise _failure(op, exc) from None
        response = getattr(obj, "last_response", None)
        log.info(
            "stripe %s -> %s request_id=%s (%.0f ms)",
            op,
            getattr(obj, "id", None) or "list",
            response.request_id if response else None,
            (time.perf_counter() - start) * 1000,
        )
        return obj

    @staticmethod
    def _post(idempotency_key: str) -> dict[str, Any]:
        return {"idempotency_key": idempotency_key}

    # Customers
    async def create_customer(self, params: dict, *, idempotency_key: str) -> dict:
        fn = self._v1.customers.create_async
        return _plain(await self._call("customers.create", fn, params, self._post(idempotency_key)))

    # Products and prices (`ogapi stripe sync`, checkout)
    async def find_price(self, lookup_key: str) -> dict | None:
        """The active price with this lookup key (its product expanded), or None."""
        params = {"lookup_keys": [lookup_key], "active": True, "expand": ["data.product"]}
        page = await self._call("prices.list", self._v1.prices.list_async, params)
        return _plain(page.data[0]) if page.data else None

    async def retrieve_product(self, product_id: str) -> dict | None:
        try:
            fn = self._v1.products.retrieve_async
            return _plain(await self._call("products.retrieve", fn, product_id))
        except NotFound:
            return None

    async def create_product(self, params: dict, *, idempotency_key: str) -> dict:
        fn = self._v1.products.create_async
        return _plain(await self._call("products.create", fn, params, self._post(idempotency_key)))

    async def update_product(self, product_id: str, params: dict, *, idempotency_key: str) -> dict:
        fn = self._v1.products.update_async
        opts = self._post(idempotency_key)
        return _plain(await self._call("products.update", fn, product_id, params, opts))

    async def create_price(self, params: dict, *, idempotency_key: str) -> dict:
        fn = self._v1.prices.create_async
        return _plain(await self._call("prices.create", fn, params, self._post(idempotency_key)))

    # Checkout and the customer portal
    async def create_checkout_session(self, params: dict, *, idempotency_key: str) -> dict:
        fn = self._v1.checkout.sessions.create_async
        opts = self._post(idempotency_key)
        return _plain(await self._call("checkout.sessions.create", fn, params, opts))

    async def retrieve_checkout_session(self, session_id: str) -> dict:
        fn = self._v1.checkout.sessions.retrieve_async
        return _plain(await self._call("checkout.sessions.retrieve", fn, session_id))

    async def expire_checkout_session(self, session_id: str, *, idempotency_key: str) -> dict:
        """Expire an open session (StripeRefused when it is no longer open)."""
        fn = self._v1.checkout.sessions.expire_async
        opts = self._post(idempotency_key)
        return _plain(await self._call("checkout.sessions.expire", fn, session_id, {}, opts))

    async def checkout_sessions_for_payment(self, payment_intent: str) -> list[dict]:
        fn = self._v1.checkout.sessions.list_async
        page = await self._call("checkout.sessions.list", fn, {"payment_intent": payment_intent})
        return [_plain(s) for s in page.data]

    async def create_portal_session(self, params: dict, *, idempotency_key: str) -> dict:
        fn = self._v1.billing_portal.sessions.create_async
        opts = self._post(idempotency_key)
        return _plain(await self._call("billing_portal.sessions.create", fn, params, opts))

    # Subscriptions
    async def retrieve_subscription(self, subscription_id: str) -> dict:
        fn = self._v1.subscriptions.retrieve_async
        return _plain(await self._call("subscriptions.retrieve", fn, subscription_id))

    async def cancel_subscription(self, subscription_id: str, *, idempotency_key: str) -> dict:
        """Cancel now, crediting the unused part of the period (a proration on a final
        invoice). NOT_FOUND when Stripe has it canceled already."""
        fn = self._v1.subscriptions.cancel_async
        params = {"prorate": True, "invoice_now": True}
        opts = self._post(idempotency_key)
        return _plain(await self._call("subscriptions.cancel", fn, subscription_id, params, opts))
