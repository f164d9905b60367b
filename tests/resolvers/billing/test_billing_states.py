"""A Hypothesis state machine over credit checkouts, payments, webhook deliveries (in any order),
replays, the return route, refunds and spending, against the fake Stripe: after every step the
balance equals Σ ledger and the model's, is never negative, and every paid session that was
applied is credited exactly once (unpaid ones never). BILLING_STATE_EXAMPLES=200 runs longer."""

from __future__ import annotations

import asyncio
import itertools
import os
from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from models import Account, LedgerEntry, TransactionType
from models.db import database
from resolvers.billing import checkout_flow as billing
from resolvers.billing import webhooks
from resolvers.billing.purchases import CREDIT_AMOUNTS
from resolvers.billing.stripe_api import StripeGateway
from resolvers.ledger import entries as ledger
from resolvers.limits.per_window import MemoryWindowLimiter
from tests.stripe_fake import running

# A minute passes between any two requests: the per-account Stripe budget never runs out here.
WINDOW = MemoryWindowLimiter(clock=itertools.count(0, 60).__next__)

NOW = datetime(2026, 6, 1, tzinfo=UTC)
_emails = itertools.count()
PROFILE = hypothesis_settings(
    max_examples=int(os.environ.get("BILLING_STATE_EXAMPLES", "30")),
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def test_billing_state_machine(settings):
    loop = asyncio.new_event_loop()
    run = loop.run_until_complete
    db = database(settings.database_url)
    run(db.__aenter__())
    server = running()
    fake = run(server.__aenter__())
    gateway = StripeGateway(fake.key, fake.url, max_network_retries=0)

    class Billing(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.account = run(
                Account.create(email=f"b{next(_emails)}@example.com", password_hash="x")
            )
            self.expected = Decimal(0)
            self.sessions: dict[str, int] = {}  # session id -> credits
            self.applied: set[str] = set()  # sessions applied while paid
            self.taken: dict[str, int] = {}  # payment intent -> cents taken back so far
            self.pending: list[dict] = []  # events Stripe has yet to deliver
            self.delivered: list[dict] = []

        def _session(self, sid: str) -> dict:
            return fake.get("checkout_session", sid)

        def _credit(self, sid: str) -> None:
            if self._session(sid)["payment_status"] == "paid" and sid not in self.applied:
                self.applied.add(sid)
                self.expected += self.sessions[sid]

        def _take_back(self, charge: dict) -> None:
            pi = charge["payment_intent"]
            sid = next(s for s in self.sessions if self._session(s)["payment_intent"] == pi)
            self._credit(sid)
            target = min(charge["amount_refunded"], self.sessions[sid] * 100)
            delta = target - self.taken.get(pi, 0)
            if delta > 0:
                self.taken[pi] = target
                self.expected -= min(Decimal(delta) / 100, self.expected)

        @rule(credits=st.sampled_from(CREDIT_AMOUNTS), asynchronous=st.booleans())
        def checkout(self, credits, asynchronous):
            link = run(billing.start_checkout(self.account, gateway, base_url="http://t",
                                              now=NOW, window=WINDOW, credits=credits))  # fmt: skip
            sid = link.url.rsplit("/", 1)[1]
            self.sessions[sid] = credits
            self.pending += fake.complete_checkout(sid, paid=not asynchronous)

        @precondition(lambda self: any(
            self._session(s)["payment_status"] == "unpaid" for s in self.sessions))  # fmt: skip
        @rule(data=st.data())
        def settle(self, data):
            unpaid = [s for s in self.sessions if self._session(s)["payment_status"] == "unpaid"]
            self.pending += fake.settle_payment(data.draw(st.sampled_from(unpaid)))

        @precondition(lambda self: self.pending)
        @rule(data=st.data())
        def deliver(self, data):
            event = self.pending.pop(data.draw(st.integers(0, len(self.pending) - 1)))
            outcome = run(webhooks.handle_event(event, gateway, NOW))
            obj = event["data"]["object"]
            if event["type"] in webhooks.CHECKOUT:
                assert outcome == "processed"
                if obj["payment_status"] == "paid" and obj["id"] not in self.applied:
                    self.applied.add(obj["id"])
                    self.expected += self.sessions[obj["id"]]
            elif event["type"] == webhooks.REFUND:
                self._take_back(obj)
            self.delivered.append(event)

        @precondition(lambda self: self.delivered)
        @rule(data=st.data())
        def replay(self, data):
            event = data.draw(st.sampled_from(self.delivered))
            assert run(webhooks.handle_event(event, gateway, NOW)) in ("duplicate", "ignored")

        @precondition(lambda self: self.sessions)
        @rule(data=st.data())
        def return_route(self, data):
            sid = data.draw(st.sampled_from(sorted(self.sessions)))
            run(billing.complete_return(sid, self.account.id, gateway, NOW, WINDOW))
            self._credit(sid)

        @precondition(lambda self: any(self._refundable(s) for s in self.sessions))
        @rule(data=st.data(), part=st.integers(1, 100))
        def refund(self, data, part):
            sid = data.draw(st.sampled_from([s for s in self.sessions if self._refundable(s)]))
            pi = self._session(sid)["payment_intent"]
            charge = next(c for c in fake.all("charge") if c["payment_intent"] == pi)
            left = charge["amount"] - charge["amount_refunded"]
            self.pending += fake.refund(pi, max(1, left * part // 100))

        def _refundable(self, sid: str) -> bool:
            pi = self._session(sid)["payment_intent"]
            return any(c["payment_intent"] == pi and c["amount_refunded"] < c["amount"]
                       for c in fake.all("charge"))  # fmt: skip

        @rule(amount=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("60"), places=2))
        def spend(self, amount):
            try:
                run(ledger.charge(self.account.id, amount, "ai_images", NOW))
            except ledger.InsufficientCredits:
                assert amount > self.expected
            else:
                self.expected -= amount

        @invariant()
        def balance_is_the_ledger_and_the_model(self):
            entries = run(LedgerEntry.filter(account_id=self.account.id))
            total = sum(
                (e.amount if e.type != TransactionType.USAGE else -e.amount for e in entries),
                Decimal(0),
            )
            balance = run(ledger.balance_of(self.account.id))
            assert balance == total == self.expected and balance >= 0
            purchases = [e.external_ref for e in entries if e.type == TransactionType.PURCHASE]
            assert len(purchases) == len(set(purchases))
            for sid in self.sessions:
                pi = self._session(sid)["payment_intent"]
                assert purchases.count(pi) == (1 if sid in self.applied else 0), sid

    try:
        run_state_machine_as_test(Billing, settings=PROFILE)
    finally:
        run(gateway.close())
        run(server.__aexit__(None, None, None))
        run(db.__aexit__(None, None, None))
        loop.close()
