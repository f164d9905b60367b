"""A small stateful Stripe-compatible HTTP server for tests (written here from Stripe's public
API reference; docs/billing.md "Testing locally").

It speaks the part of Stripe's API this service calls, in current API shapes: customers,
products, prices (list and search by lookup key), Checkout Sessions (and expiring them),
Customer Portal sessions, subscriptions (periods on the items; canceling with proration),
invoices (linked to a subscription through `parent.subscription_details`), charges, refunds
and disputes. Bodies are form-encoded the way
stripe-python sends them; errors have Stripe's shape (`{"error": {"type", "message", "code",
"param"}}`) and every response a `Request-Id`. A POST's `Idempotency-Key` replays the first
answer (`Idempotent-Replayed: true`), or 400 `idempotency_error` with other parameters.

Checkout and portal URLs point at pages this server serves on 127.0.0.1, so a browser test
stays on loopback: the checkout page's Pay button completes the session (subscription, invoice,
charge as Stripe would) and redirects to its success_url; Cancel goes to its cancel_url.

What the customer and Stripe do is driven from Python: `complete_checkout`, `settle_payment`,
`set_subscription`, `refund`, ... Each returns the webhook events Stripe would send, also kept
in `events`; with `webhook_url` set they are delivered there, signed with `webhook_secret`.

Start it from a test:
    async with running() as fake:          # in the test's event loop
        settings = replace(settings, stripe_api_base=fake.url, stripe_secret_key=fake.key)
    with running_in_thread() as fake:      # its own loop in a thread (sync or browser tests)
or by hand: `python -m tests.stripe_fake --port 12111`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import html
import itertools
import json
import re
import secrets
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl

import stripe
from aiohttp import ClientSession, web

API_VERSION = stripe.api_version
DEFAULT_KEY = "sk_test_fake_0123456789"
DEFAULT_WEBHOOK_SECRET = "whsec_fake_0123456789"
DAY = 86_400


class StripeFailure(Exception):
    def __init__(
        self, status: int, message: str, type_: str = "invalid_request_error", **extra: Any
    ) -> None:
        super().__init__(message)
        self.status, self.body = status, {"type": type_, "message": message, **extra}


def missing(kind: str, obj_id: str, param: str = "id") -> StripeFailure:
    return StripeFailure(404, f"No such {kind}: '{obj_id}'", code="resource_missing", param=param)


def decode_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """`a[b][0][c]=v` pairs (stripe-python's encoding) → nested dicts, lists for [0], [1], …"""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value

    def lists(node: Any) -> Any:
        if isinstance(node, dict):
            node = {k: lists(v) for k, v in node.items()}
            if node and all(k.isdigit() for k in node):
                return [node[k] for k in sorted(node, key=int)]
        return node

    return lists(root)


def _bool(value: Any) -> bool:
    return value in (True, "true", "1")


def _int(value: Any, param: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise StripeFailure(400, f"Invalid integer: {value}", param=param) from None


class FakeStripe:
    """The state and the HTTP app. `url` is known once started (`running`)."""

    def __init__(
        self,
        *,
        key: str = DEFAULT_KEY,
        webhook_url: str | None = None,
        webhook_secret: str = DEFAULT_WEBHOOK_SECRET,
        clock: Callable[[], int] | None = None,
    ) -> None:
        self.key = key
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        self.clock = clock or (lambda: int(time.time()))
        self.url = ""
        self.objects: dict[str, dict[str, dict]] = {}
        self.events: list[dict] = []
        self.requests: list[dict] = []  # every API request: method, path, params, idempotency key
        self.deliveries: list[tuple[str, int]] = []  # (event id, status) when webhook_url is set
        self._idempotent: dict[str, tuple[str, dict, int, dict]] = {}
        self._failures: list[tuple[int, str]] = []  # (status, path prefix) to fail next
        self._ids = itertools.count(1)
        self._lock = threading.RLock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task] = set()
        self.app = self._build_app()

    # ----- helpers for tests -----------------------------------------------------------------
    def new_id(self, prefix: str) -> str:
        return f"{prefix}_fake{next(self._ids):06d}{secrets.token_hex(4)}"

    def get(self, kind: str, obj_id: str) -> dict:
        with self._lock:
            obj = self.objects.get(kind, {}).get(obj_id)
            if obj is None:
                raise missing(kind.replace("_", " "), obj_id)
            return obj

    def all(self, kind: str) -> list[dict]:
        with self._lock:
            return list(self.objects.get(kind, {}).values())

    def fail_next(self, count: int = 1, status: int = 500, path: str = "/v1/") -> None:
        """Answer the next `count` API requests under `path` with Stripe's api_error."""
        with self._lock:
            self._failures.extend([(status, path)] * count)

    def posts(self, path_prefix: str = "/v1/") -> list[dict]:
        return [
            r for r in self.requests if r["method"] == "POST" and r["path"].startswith(path_prefix)
        ]

    def event(self, type_: str, obj: dict, previous: dict | None = None) -> dict:
        """Record (and deliver) the event Stripe would send for `obj` now."""
        event = {
            "id": self.new_id("evt"),
            "object": "event",
            "api_version": API_VERSION,
            "created": self.clock(),
            "type": type_,
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "data": {"object": json.loads(json.dumps(obj))}
            | ({"previous_attributes": previous} if previous else {}),
        }
        with self._lock:
            self.events.append(event)
        if self.webhook_url and self._loop is not None:
            self._loop.call_soon_threadsafe(self._deliver_soon, event)
        return event

    def sign(self, payload: str, *, secret: str | None = None, timestamp: int | None = None) -> str:
        return stripe.WebhookSignature.generate_signature_header(
            payload, secret or self.webhook_secret, timestamp
        )

    # ----- what a customer does on Stripe's pages ---------------------------------------------
    def complete_checkout(self, session_id: str, *, paid: bool = True) -> list[dict]:
        """The customer pays (or, with paid=False, starts an asynchronous payment, such as a
        bank debit, that settles later: `settle_payment`)."""
        with self._lock:
            s = self.get("checkout_session", session_id)
            if s["status"] != "open":
                raise StripeFailure(400, f"Checkout session {session_id} is {s['status']}")
            now = self.clock()
            events: list[dict] = []
            s["status"] = "complete"
            if s["mode"] == "subscription":
                price = self.get("price", s["line_items"][0]["price"])
                sub = self._new_subscription(s, price, now)
                s["subscription"], s["payment_status"] = sub["id"], "paid"
                invoice = self._new_invoice(s["customer"], price["unit_amount"], sub, now)
                sub["latest_invoice"] = invoice["id"]
                events.append(self.event("customer.subscription.created", sub))
                events.append(self.event("invoice.paid", invoice))
                events.append(self.event("checkout.session.completed", s))
                return events
            s["payment_intent"] = self.new_id("pi")
            if paid:
                events += self._settle(s, now)
            s["payment_status"] = "paid" if paid else "unpaid"
            events.insert(0, self.event("checkout.session.completed", s))
            return events

    def settle_payment(self, session_id: str) -> list[dict]:
        """An asynchronous payment of a completed, unpaid session succeeds."""
        with self._lock:
            s = self.get("checkout_session", session_id)
            events = self._settle(s, self.clock())
            s["payment_status"] = "paid"
            return [self.event("checkout.session.async_payment_succeeded", s), *events]

    def _settle(self, s: dict, now: int) -> list[dict]:
        amount = s["amount_total"]
        charge = self._store("charge", {
            "id": self.new_id("ch"), "object": "charge", "amount": amount,
            "amount_captured": amount, "amount_refunded": 0, "captured": True,
            "currency": s["currency"], "customer": s["customer"], "created": now,
            "paid": True, "refunded": False, "status": "succeeded",
            "payment_intent": s["payment_intent"], "metadata": {},
        })  # fmt: skip
        events = [self.event("charge.succeeded", charge)]
        if _bool((s.get("invoice_creation") or {}).get("enabled")):
            invoice = self._new_invoice(s["customer"], amount, None, now)
            s["invoice"] = invoice["id"]
            events.append(self.event("invoice.paid", invoice))
        return events

    def set_subscription(self, sub_id: str, **changes: Any) -> dict:
        """Change a subscription as Stripe would (status, cancel_at_period_end, price=…) and
        return its `customer.subscription.updated` event."""
        with self._lock:
            sub = self.get("subscription", sub_id)
            previous = {k: sub.get(k) for k in changes if k != "price"}
            if "price" in changes:
                price = self.get("price", changes.pop("price"))
                sub["items"]["data"][0]["price"] = price
                previous["items"] = "changed"
            sub.update(changes)
            if changes.get("cancel_at_period_end"):
                sub["cancel_at"] = sub["items"]["data"][0]["current_period_end"]
            return self.event("customer.subscription.updated", sub, previous)

    def end_subscription(self, sub_id: str) -> dict:
        """The subscription ends (at its period end, or cancelled now)."""
        with self._lock:
            sub = self.get("subscription", sub_id)
            now = self.clock()
            sub.update(status="canceled", canceled_at=now, ended_at=now)
            return self.event("customer.subscription.deleted", sub)

    def fail_renewal(self, sub_id: str) -> list[dict]:
        """A renewal invoice cannot be charged: the invoice stays open, the subscription goes
        past_due."""
        with self._lock:
            sub = self.get("subscription", sub_id)
            price = sub["items"]["data"][0]["price"]
            invoice = self._new_invoice(sub["customer"], price["unit_amount"], sub, self.clock())
            invoice.update(status="open", amount_paid=0, amount_remaining=invoice["amount_due"])
            failed = self.event("invoice.payment_failed", invoice)
            return [failed, self.set_subscription(sub_id, status="past_due")]

    def refund(self, payment_intent: str, amount: int | None = None) -> list[dict]:
        """Refund (part of) the charge of a PaymentIntent; returns `charge.refunded` et al."""
        with self._lock:
            refund = self._create_refund({"payment_intent": payment_intent, "amount": amount})
            charge = self.get("charge", refund["charge"])
            return [self.event("refund.created", refund), self.event("charge.refunded", charge)]

    def dispute(self, payment_intent: str, amount: int | None = None, *,
                inquiry: bool = False) -> list[dict]:  # fmt: skip
        """The cardholder disputes the charge of a PaymentIntent (all of it by default; an
        inquiry withdraws no funds); returns `charge.dispute.created` (and, for a dispute,
        `charge.dispute.funds_withdrawn`)."""
        with self._lock:
            charge = next(c for c in self.all("charge") if c["payment_intent"] == payment_intent)
            amount = charge["amount"] - charge["amount_refunded"] if amount is None else amount
            dispute = self._store("dispute", {
                "id": self.new_id("dp"), "object": "dispute", "amount": amount,
                "charge": charge["id"], "payment_intent": payment_intent,
                "currency": charge["currency"], "created": self.clock(), "reason": "fraudulent",
                "status": "warning_needs_response" if inquiry else "needs_response",
                "is_charge_refundable": inquiry, "livemode": False, "metadata": {},
            })  # fmt: skip
            charge["disputed"] = True
            events = [self.event("charge.dispute.created", dispute)]
            if not inquiry:
                events.append(self.event("charge.dispute.funds_withdrawn", dispute))
            return events

    def close_dispute(self, dispute_id: str, status: str) -> list[dict]:
        """The dispute closes (`won`, `lost`; an inquiry `warning_closed`): returns
        `charge.dispute.closed` (and `charge.dispute.funds_reinstated` when won)."""
        with self._lock:
            dispute = self.get("dispute", dispute_id)
            dispute["status"] = status
            events = [self.event("charge.dispute.closed", dispute)]
            if status == "won":
                events.append(self.event("charge.dispute.funds_reinstated", dispute))
            return events

    # ----- object construction ----------------------------------------------------------------
    def _store(self, kind: str, obj: dict) -> dict:
        self.objects.setdefault(kind, {})[obj["id"]] = obj
        return obj

    def _new_subscription(self, s: dict, price: dict, now: int) -> dict:
        return self._store("subscription", {
            "id": self.new_id("sub"), "object": "subscription", "customer": s["customer"],
            "status": "active", "created": now, "start_date": now,
            "cancel_at_period_end": False, "cancel_at": None, "canceled_at": None,
            "ended_at": None, "currency": price["currency"], "latest_invoice": None,
            "metadata": dict((s.get("subscription_data") or {}).get("metadata") or {}),
            "items": {"object": "list", "has_more": False, "data": [{
                "id": self.new_id("si"), "object": "subscription_item", "quantity": 1,
                "price": price, "current_period_start": now,
                "current_period_end": now + 30 * DAY,
            }]},
        })  # fmt: skip

    def _new_invoice(self, customer: str, amount: int, sub: dict | None, now: int) -> dict:
        inv_id = self.new_id("in")
        parent = None
        if sub is not None:
            parent = {
                "type": "subscription_details",
                "quote_details": None,
                "subscription_details": {"subscription": sub["id"], "metadata": sub["metadata"]},
            }
        count = len(self.objects.get("invoice", {})) + 1
        return self._store("invoice", {
            "id": inv_id, "object": "invoice", "customer": customer,
            "number": f"FAKE-{count:04d}", "created": now, "currency": "usd",
            "amount_due": amount, "amount_paid": amount, "amount_remaining": 0,
            "status": "paid", "parent": parent,
            "invoice_pdf": f"{self.url}/invoice/{inv_id}/pdf",
            "hosted_invoice_url": f"{self.url}/invoice/{inv_id}",
            "status_transitions": {"paid_at": now, "finalized_at": now},
        })  # fmt: skip

    def _create_refund(self, p: dict) -> dict:
        if p.get("charge"):
            charge = self.get("charge", p["charge"])
        else:
            pi = p.get("payment_intent") or ""
            charge = next((c for c in self.all("charge") if c["payment_intent"] == pi), None)
            if charge is None:
                raise missing("payment_intent", pi, "payment_intent")
        left = charge["amount"] - charge["amount_refunded"]
        amount = left if p.get("amount") in (None, "") else _int(p["amount"], "amount")
        if amount <= 0 or amount > left:
            raise StripeFailure(
                400,
                f"Refund amount (${amount / 100:.2f}) is greater than unrefunded amount on "
                f"charge (${left / 100:.2f})",
                param="amount",
            )
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        return self._store("refund", {
            "id": self.new_id("re"), "object": "refund", "amount": amount,
            "charge": charge["id"], "payment_intent": charge["payment_intent"],
            "currency": charge["currency"], "created": self.clock(), "status": "succeeded",
        })  # fmt: skip

    # ----- the HTTP API -----------------------------------------------------------------------
    def _build_app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/v1/{path:.*}", self._api)
        app.router.add_get("/checkout/{id}", self._checkout_page)
        app.router.add_post("/checkout/{id}/pay", self._checkout_pay)
        app.router.add_get("/portal/{id}", self._portal_page)
        app.router.add_post("/portal/{id}/cancel", self._portal_cancel)
        app.router.add_get("/invoice/{id}{pdf:(/pdf)?}", self._invoice_page)
        return app

    async def _api(self, request: web.Request) -> web.Response:
        body = await request.text()
        request_id = f"req_{secrets.token_hex(7)}"
        headers = {"Request-Id": request_id, "Stripe-Version": API_VERSION}
        params = decode_form(parse_qsl(body if request.method == "POST" else request.query_string,
                                       keep_blank_values=True))  # fmt: skip
        key = request.headers.get("Idempotency-Key")
        path = request.path
        with self._lock:
            self.requests.append({"method": request.method, "path": path, "params": params,
                                  "idempotency_key": key})  # fmt: skip
            failure = next((f for f in self._failures if path.startswith(f[1])), None)
            if failure is not None:
                self._failures.remove(failure)
                status = failure[0]
                err = {"type": "api_error", "message": "An unknown error occurred (fake)."}
                return web.json_response({"error": err}, status=status, headers=headers)
            auth = request.headers.get("Authorization", "")
            if auth != f"Bearer {self.key}":
                err = {"type": "invalid_request_error", "message": "Invalid API Key provided."}
                return web.json_response({"error": err}, status=401, headers=headers)
            if key and request.method == "POST":
                seen = self._idempotent.get(key)
                if seen is not None:
                    if (seen[0], seen[1]) != (path, params):
                        err = {"type": "idempotency_error", "message": (
                            "Keys for idempotent requests can only be used with the same "
                            "parameters they were first used with.")}  # fmt: skip
                        return web.json_response({"error": err}, status=400, headers=headers)
                    replayed = headers | {"Idempotent-Replayed": "true"}
                    return web.json_response(seen[3], status=seen[2], headers=replayed)
            try:
                status, answer = 200, self._route(request.method, path, params)
            except StripeFailure as exc:
                status, answer = exc.status, {"error": exc.body}
            if key and request.method == "POST" and status < 500:
                self._idempotent[key] = (path, params, status, answer)
            return web.json_response(answer, status=status, headers=headers)

    ROUTES = (
        ("POST", "customers", "_post_customers"),
        ("GET", "customers/{id}", "_get_customer"),
        ("POST", "products", "_post_products"),
        ("GET", "products/{id}", "_get_product"),
        ("POST", "products/{id}", "_post_product"),
        ("GET", "prices", "_get_prices"),
        ("GET", "prices/search", "_get_prices_search"),
        ("POST", "prices", "_post_prices"),
        ("POST", "prices/{id}", "_post_price"),
        ("POST", "checkout/sessions", "_post_checkout_sessions"),
        ("GET", "checkout/sessions", "_get_checkout_sessions"),
        ("GET", "checkout/sessions/{id}", "_get_checkout_session"),
        ("POST", "checkout/sessions/{id}/expire", "_post_checkout_session_expire"),
        ("POST", "billing_portal/sessions", "_post_billing_portal_sessions"),
        ("GET", "subscriptions/{id}", "_get_subscription"),
        ("POST", "subscriptions/{id}", "_post_subscription"),
        ("DELETE", "subscriptions/{id}", "_delete_subscription"),
        ("GET", "invoices", "_get_invoices"),
        ("GET", "invoices/{id}", "_get_invoice"),
        ("GET", "charges/{id}", "_get_charge"),
        ("POST", "refunds", "_post_refunds"),
        ("GET", "refunds/{id}", "_get_refund"),
        ("GET", "disputes/{id}", "_get_dispute"),
    )

    def _route(self, method: str, path: str, p: dict) -> dict:
        for verb, pattern, name in self.ROUTES:
            regex = "/v1/" + pattern.replace("{id}", "(?P<id>[^/]+)")
            if verb == method and (m := re.fullmatch(regex, path)):
                handler = getattr(self, name)
                answer = handler(m["id"], p) if "id" in m.groupdict() else handler(p)
                return self._expand(answer, p.get("expand") or [])
        raise StripeFailure(404, f"Unrecognized request URL ({method}: {path}).")

    def _expand(self, obj: dict, paths: list[str]) -> dict:
        kinds = {"product": "product", "subscription": "subscription", "customer": "customer",
                 "invoice": "invoice", "latest_invoice": "invoice"}  # fmt: skip
        out = json.loads(json.dumps(obj))
        for path in paths:
            targets, field = ([out], path)
            if path.startswith("data."):
                targets, field = out.get("data", []), path[5:]
            for t in targets:
                value, kind = t.get(field), kinds.get(field)
                if isinstance(value, str) and kind and value in self.objects.get(kind, {}):
                    t[field] = self.objects[kind][value]
        return out

    @staticmethod
    def _list(url: str, items: list[dict], p: dict) -> dict:
        limit = _int(p.get("limit", 10), "limit")
        return {"object": "list", "url": url, "has_more": len(items) > limit, "data": items[:limit]}

    # customers
    def _post_customers(self, p: dict) -> dict:
        return self._store("customer", {
            "id": self.new_id("cus"), "object": "customer", "email": p.get("email"),
            "name": p.get("name"), "metadata": p.get("metadata") or {}, "created": self.clock(),
            "balance": 0, "livemode": False,
        })  # fmt: skip

    def _get_customer(self, obj_id: str, p: dict) -> dict:
        return self.get("customer", obj_id)

    # products
    def _post_products(self, p: dict) -> dict:
        obj_id = p.get("id") or self.new_id("prod")
        if obj_id in self.objects.get("product", {}):
            raise StripeFailure(400, "Product already exists.", code="resource_already_exists")
        return self._store("product", {
            "id": obj_id, "object": "product", "name": p.get("name"),
            "active": _bool(p.get("active", "true")), "metadata": p.get("metadata") or {},
            "created": self.clock(), "livemode": False,
        })  # fmt: skip

    def _get_product(self, obj_id: str, p: dict) -> dict:
        return self.get("product", obj_id)

    def _post_product(self, obj_id: str, p: dict) -> dict:
        product = self.get("product", obj_id)
        for field in ("name",):
            if field in p:
                product[field] = p[field]
        if "active" in p:
            product["active"] = _bool(p["active"])
        product["metadata"] = product["metadata"] | (p.get("metadata") or {})
        return product

    # prices
    def _post_prices(self, p: dict) -> dict:
        product = p.get("product") or ""
        self.get("product", product) if product else None
        if not product:
            raise StripeFailure(400, "Missing required param: product.", param="product")
        lookup = p.get("lookup_key")
        holder = next((x for x in self.all("price") if lookup and x["lookup_key"] == lookup), None)
        if holder is not None:
            if not _bool(p.get("transfer_lookup_key")):
                message = f"A price (`{holder['id']}`) already uses that lookup key."
                raise StripeFailure(400, message, param="lookup_key")
            holder["lookup_key"] = None
        recurring = p.get("recurring")
        return self._store("price", {
            "id": self.new_id("price"), "object": "price", "product": product,
            "unit_amount": _int(p.get("unit_amount"), "unit_amount"),
            "currency": p.get("currency", "usd"), "lookup_key": lookup, "active": True,
            "type": "recurring" if recurring else "one_time", "nickname": p.get("nickname"),
            "recurring": {"interval": recurring["interval"], "interval_count": 1}
            if recurring else None,
            "metadata": p.get("metadata") or {}, "created": self.clock(), "livemode": False,
        })  # fmt: skip

    def _post_price(self, obj_id: str, p: dict) -> dict:
        price = self.get("price", obj_id)
        if "active" in p:
            price["active"] = _bool(p["active"])
        return price

    def _get_prices(self, p: dict) -> dict:
        items = self.all("price")
        if p.get("lookup_keys"):
            items = [x for x in items if x["lookup_key"] in p["lookup_keys"]]
        if "active" in p:
            items = [x for x in items if x["active"] == _bool(p["active"])]
        if p.get("product"):
            items = [x for x in items if x["product"] == p["product"]]
        return self._list("/v1/prices", items, p)

    def _get_prices_search(self, p: dict) -> dict:
        """Stripe's search language, the clauses this service needs: `lookup_key:'k'` and
        `active:'true'`, joined with AND."""
        items = self.all("price")
        for field, value in re.findall(r"(\w+):['\"]([^'\"]*)['\"]", p.get("query", "")):
            if field == "active":
                items = [x for x in items if x["active"] == _bool(value)]
            else:
                items = [x for x in items if str(x.get(field)) == value]
        page = self._list("/v1/prices/search", items, p)
        return page | {"object": "search_result", "next_page": None}

    # checkout
    def _post_checkout_sessions(self, p: dict) -> dict:
        mode = p.get("mode")
        if mode not in ("payment", "subscription"):
            raise StripeFailure(400, "Invalid mode.", param="mode")
        for param in ("success_url", "line_items"):
            if not p.get(param):
                raise StripeFailure(400, f"Missing required param: {param}.", param=param)
        if p.get("customer"):
            self.get("customer", p["customer"])
        items = p["line_items"]
        if mode == "subscription":
            price = self.get("price", items[0].get("price", ""))
            total, currency = price["unit_amount"], price["currency"]
        else:
            data = items[0].get("price_data") or {}
            total = _int(data.get("unit_amount"), "line_items[0][price_data][unit_amount]")
            total *= _int(items[0].get("quantity", 1), "quantity")
            currency = data.get("currency", "usd")
        sid = self.new_id("cs_test")
        return self._store("checkout_session", {
            "id": sid, "object": "checkout.session", "mode": mode, "status": "open",
            "payment_status": "unpaid", "customer": p.get("customer"),
            "client_reference_id": p.get("client_reference_id"),
            "metadata": p.get("metadata") or {}, "success_url": p["success_url"],
            "cancel_url": p.get("cancel_url"), "amount_subtotal": total, "amount_total": total,
            "currency": currency, "subscription": None, "payment_intent": None,
            "invoice": None, "invoice_creation": p.get("invoice_creation"),
            "subscription_data": p.get("subscription_data"), "line_items": items,
            "url": f"{self.url}/checkout/{sid}", "created": self.clock(),
            "expires_at": self.clock() + DAY, "livemode": False,
        })  # fmt: skip

    def _get_checkout_session(self, obj_id: str, p: dict) -> dict:
        return self.get("checkout_session", obj_id)

    def _post_checkout_session_expire(self, obj_id: str, p: dict) -> dict:
        s = self.get("checkout_session", obj_id)
        if s["status"] != "open":
            raise StripeFailure(400, (
                'Only Checkout Sessions with a status in ["open"] can be expired. This Checkout '
                f"Session has a status of `{s['status']}`."))  # fmt: skip
        s["status"] = "expired"
        self.event("checkout.session.expired", s)
        return s

    def _get_checkout_sessions(self, p: dict) -> dict:
        items = self.all("checkout_session")
        for field in ("payment_intent", "customer", "subscription"):
            if p.get(field):
                items = [x for x in items if x[field] == p[field]]
        return self._list("/v1/checkout/sessions", items, p)

    # the customer portal
    def _post_billing_portal_sessions(self, p: dict) -> dict:
        customer = p.get("customer") or ""
        if customer not in self.objects.get("customer", {}):
            raise missing("customer", customer, "customer")
        bps = self.new_id("bps")
        return self._store("portal_session", {
            "id": bps, "object": "billing_portal.session", "customer": customer,
            "return_url": p.get("return_url"), "url": f"{self.url}/portal/{bps}",
            "created": self.clock(), "livemode": False,
        })  # fmt: skip

    # subscriptions, invoices, charges, refunds
    def _get_subscription(self, obj_id: str, p: dict) -> dict:
        return self.get("subscription", obj_id)

    def _post_subscription(self, obj_id: str, p: dict) -> dict:
        changes: dict[str, Any] = {}
        if "cancel_at_period_end" in p:
            changes["cancel_at_period_end"] = _bool(p["cancel_at_period_end"])
        if p.get("items"):
            changes["price"] = p["items"][0]["price"]
        self.set_subscription(obj_id, **changes)
        return self.get("subscription", obj_id)

    def _delete_subscription(self, obj_id: str, p: dict) -> dict:
        """Cancel now. `prorate` credits the unused part of the period as a proration invoice
        item; `invoice_now` puts it on a final invoice, whose negative total goes to the
        customer's credit balance. A canceled subscription is "missing", as Stripe says."""
        sub = self.get("subscription", obj_id)
        if sub["status"] == "canceled":
            raise missing("subscription", obj_id)
        if _bool(p.get("prorate")):
            self._prorate(sub, invoice_now=_bool(p.get("invoice_now")))
        self.end_subscription(obj_id)
        return self.get("subscription", obj_id)

    def _prorate(self, sub: dict, *, invoice_now: bool) -> None:
        item, now = sub["items"]["data"][0], self.clock()
        start, end = item["current_period_start"], item["current_period_end"]
        unused = max(0, min(end - now, end - start)) / (end - start)
        credit = -round(item["price"]["unit_amount"] * unused)
        self._store("invoiceitem", {
            "id": self.new_id("ii"), "object": "invoiceitem", "customer": sub["customer"],
            "amount": credit, "currency": sub["currency"], "proration": True,
            "subscription": sub["id"], "period": {"start": now, "end": end}, "date": now,
            "invoice": None,
        })  # fmt: skip
        if invoice_now:
            invoice = self._new_invoice(sub["customer"], 0, sub, now)  # nothing due
            invoice.update(subtotal=credit, total=credit, ending_balance=credit)
            customer = self.get("customer", sub["customer"])
            customer["balance"] = customer.get("balance", 0) + credit
            self.event("invoice.paid", invoice)

    def _get_invoice(self, obj_id: str, p: dict) -> dict:
        return self.get("invoice", obj_id)

    def _get_invoices(self, p: dict) -> dict:
        items = [
            x
            for x in self.all("invoice")
            if not p.get("customer") or x["customer"] == p["customer"]
        ]
        return self._list("/v1/invoices", items, p)

    def _get_charge(self, obj_id: str, p: dict) -> dict:
        return self.get("charge", obj_id)

    def _post_refunds(self, p: dict) -> dict:
        refund = self._create_refund(p)
        charge = self.get("charge", refund["charge"])
        self.event("refund.created", refund)
        self.event("charge.refunded", charge)
        return refund

    def _get_refund(self, obj_id: str, p: dict) -> dict:
        return self.get("refund", obj_id)

    def _get_dispute(self, obj_id: str, p: dict) -> dict:
        return self.get("dispute", obj_id)

    # ----- hosted pages (what the customer's browser sees) -------------------------------------
    @staticmethod
    def _page(title: str, body: str) -> web.Response:
        head = f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}'
        doc = f"{head}</title></head><body><main><h1>{title}</h1>{body}</main></body></html>"
        return web.Response(text=doc, content_type="text/html")

    async def _checkout_page(self, request: web.Request) -> web.Response:
        try:
            s = self.get("checkout_session", request.match_info["id"])
        except StripeFailure:
            raise web.HTTPNotFound() from None
        amount = f"${s['amount_total'] / 100:.2f}"
        what = "per month" if s["mode"] == "subscription" else "once"
        return self._page("Fake Stripe Checkout", (
            f"<p>Pay <strong>{amount}</strong> {what} (test mode).</p>"
            f'<form method="post" action="/checkout/{s["id"]}/pay">'
            '<button type="submit">Pay</button></form>'
            f'<p><a href="{html.escape(s["cancel_url"] or "/")}">Cancel</a></p>'
        ))  # fmt: skip

    async def _checkout_pay(self, request: web.Request) -> web.Response:
        sid = request.match_info["id"]
        try:
            self.complete_checkout(sid)
        except StripeFailure as exc:
            return self._page("Payment failed", f"<p>{html.escape(str(exc))}</p>")
        url = self.get("checkout_session", sid)["success_url"].replace("{CHECKOUT_SESSION_ID}", sid)
        raise web.HTTPSeeOther(url)

    async def _portal_page(self, request: web.Request) -> web.Response:
        try:
            bps = self.get("portal_session", request.match_info["id"])
        except StripeFailure:
            raise web.HTTPNotFound() from None
        subs = [x for x in self.all("subscription")
                if x["customer"] == bps["customer"] and x["status"] != "canceled"]  # fmt: skip
        cancel = "".join(
            f'<form method="post" action="/portal/{bps["id"]}/cancel">'
            f'<input type="hidden" name="subscription" value="{x["id"]}">'
            '<button type="submit">Cancel plan</button></form>'
            for x in subs
        )
        return self._page("Fake Stripe customer portal", (
            f"<p>Customer {html.escape(bps['customer'])}: {len(subs)} subscription(s).</p>"
            f'{cancel}<p><a href="{html.escape(bps["return_url"] or "/")}">Return</a></p>'
        ))  # fmt: skip

    async def _portal_cancel(self, request: web.Request) -> web.Response:
        bps = self.get("portal_session", request.match_info["id"])
        form = await request.post()
        self.set_subscription(str(form.get("subscription", "")), cancel_at_period_end=True)
        raise web.HTTPSeeOther(f"/portal/{bps['id']}")

    async def _invoice_page(self, request: web.Request) -> web.Response:
        inv = self.get("invoice", request.match_info["id"])
        return self._page(f"Invoice {inv['number']}", f"<p>${inv['amount_due'] / 100:.2f}</p>")

    # ----- webhook delivery -------------------------------------------------------------------
    def _deliver_soon(self, event: dict) -> None:
        task = asyncio.ensure_future(self._deliver(event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, event: dict) -> None:
        payload = json.dumps(event)
        headers = {"Content-Type": "application/json", "Stripe-Signature": self.sign(payload)}
        async with ClientSession() as session:
            for _ in range(5):  # Stripe retries for days; a test needs a few quick tries
                try:
                    async with session.post(self.webhook_url, data=payload, headers=headers) as r:
                        self.deliveries.append((event["id"], r.status))
                        if r.status < 300:
                            return
                except OSError:
                    self.deliveries.append((event["id"], 0))
                await asyncio.sleep(0.2)

    async def drain(self) -> None:
        """Wait for webhook deliveries in flight."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


@contextlib.asynccontextmanager
async def running(
    host: str = "127.0.0.1", port: int = 0, **options: Any
) -> AsyncIterator[FakeStripe]:
    """Serve a FakeStripe on 127.0.0.1 in the current event loop while open."""
    fake = FakeStripe(**options)
    runner = web.AppRunner(fake.app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0][1]
    fake.url, fake._loop = f"http://{host}:{bound}", asyncio.get_running_loop()
    try:
        yield fake
    finally:
        await fake.drain()
        await runner.cleanup()


@contextlib.contextmanager
def running_in_thread(**options: Any) -> Iterator[FakeStripe]:
    """Serve a FakeStripe from its own event loop in a daemon thread (for synchronous tests,
    or an app running in another loop or process). Its helpers are thread-safe."""
    ready: asyncio.Future | None = None
    started = threading.Event()
    holder: dict[str, Any] = {}

    def run() -> None:
        async def main() -> None:
            nonlocal ready
            async with running(**options) as fake:
                holder["fake"], holder["stop"] = fake, asyncio.Event()
                holder["loop"] = asyncio.get_running_loop()
                started.set()
                await holder["stop"].wait()

        asyncio.run(main())

    thread = threading.Thread(target=run, name="stripe-fake", daemon=True)
    thread.start()
    if not started.wait(10):
        raise RuntimeError("the fake Stripe server did not start")
    try:
        yield holder["fake"]
    finally:
        holder["loop"].call_soon_threadsafe(holder["stop"].set)
        thread.join(10)


def main() -> None:
    parser = argparse.ArgumentParser(description="A fake Stripe API for local testing.")
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--key", default=DEFAULT_KEY)
    parser.add_argument("--webhook-url", help="e.g. http://127.0.0.1:8080/api/stripe/webhook")
    parser.add_argument("--webhook-secret", default=DEFAULT_WEBHOOK_SECRET)
    args = parser.parse_args()

    async def serve() -> None:
        async with running(port=args.port, key=args.key, webhook_url=args.webhook_url,
                           webhook_secret=args.webhook_secret) as fake:  # fmt: skip
            print(f"fake Stripe on {fake.url} (STRIPE_SECRET_KEY={fake.key}, "
                  f"STRIPE_WEBHOOK_SECRET={fake.webhook_secret})", flush=True)  # fmt: skip
            await asyncio.Event().wait()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())


if __name__ == "__main__":
    main()
