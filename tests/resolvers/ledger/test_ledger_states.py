"""A Hypothesis state machine over grant / charge / refund / purchase refund / replay:
after every step, balance == Σ ledger (purchases + refunds - usage) == the model's, and >= 0;
and the ledger totals (LedgerTotal) are the entries' counts and sums per type and service."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from models import Account, LedgerEntry, LedgerTotal, TransactionType
from models.db import database
from resolvers.ledger import entries as ledger

NOW = datetime(2026, 6, 1, tzinfo=UTC)
amounts = st.decimals(
    min_value=Decimal("0.000001"), max_value=Decimal("50"), places=6, allow_nan=False
)
_emails = itertools.count()
PROFILE = hypothesis_settings(
    max_examples=25,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def test_ledger_state_machine(settings):
    loop = asyncio.new_event_loop()
    ctx = database(settings.database_url)
    loop.run_until_complete(ctx.__aenter__())
    run = loop.run_until_complete

    class Ledger(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.account = run(
                Account.create(email=f"h{next(_emails)}@example.com", password_hash="x")
            )
            self.expected = Decimal(0)
            self.refs: dict[str, tuple[str, Decimal]] = {}

        def _remember(self, entry, kind: str, amount: Decimal) -> None:
            if entry is not None and entry.external_ref:
                self.refs[entry.external_ref] = (kind, amount)

        @rule(amount=amounts, with_ref=st.booleans())
        def grant(self, amount, with_ref):
            ref = f"g{len(self.refs)}-{self.account.id}" if with_ref else None
            entry = run(ledger.grant(self.account.id, amount, NOW, external_ref=ref))
            self.expected += amount
            self._remember(entry, "grant", amount)

        @rule(amount=amounts)
        def charge(self, amount):
            try:
                run(ledger.charge(self.account.id, amount, "ai_images", NOW))
            except ledger.InsufficientCredits:
                assert amount > self.expected
            else:
                assert amount <= self.expected
                self.expected -= amount

        @rule(amount=amounts)
        def refund(self, amount):
            run(ledger.refund(self.account.id, amount, NOW))
            self.expected += amount

        @rule(amount=amounts)
        def purchase_refund(self, amount):
            ref = f"ch{len(self.refs)}-{self.account.id}"
            entry = run(ledger.purchase_refund(self.account.id, amount, NOW, external_ref=ref))
            taken = min(amount, self.expected)
            assert (entry.amount if entry else Decimal(0)) == taken
            self.expected -= taken
            self._remember(entry, "purchase_refund", amount)

        @rule(data=st.data())
        def replay(self, data):
            if not self.refs:
                return
            ref = data.draw(st.sampled_from(sorted(self.refs)))
            kind, amount = self.refs[ref]
            if kind == "grant":
                run(ledger.grant(self.account.id, amount, NOW, external_ref=ref))
            else:
                run(ledger.purchase_refund(self.account.id, amount, NOW, external_ref=ref))

        @invariant()
        def balance_is_the_sum_of_the_ledger(self):
            account = run(Account.get(id=self.account.id))
            entries = run(LedgerEntry.filter(account_id=self.account.id).order_by("id"))
            total = sum(
                (-e.amount if e.type == TransactionType.USAGE else e.amount for e in entries),
                Decimal(0),
            )
            assert account.balance == total == self.expected >= 0
            if entries:
                assert entries[-1].balance_after == account.balance
            assert all(e.amount > 0 for e in entries)
            by_key: dict[tuple[str, str], list] = {}
            for e in entries:
                acc = by_key.setdefault((e.type.value, e.service), [0, Decimal(0), 0, 0])
                acc[0] += 1
                acc[1] += e.amount
                acc[2] += e.tokens
                acc[3] += e.images
            totals = run(LedgerTotal.filter(account_id=self.account.id))
            kept = {(t.type.value, t.service): [t.entries, t.amount, t.tokens, t.images]
                    for t in totals}  # fmt: skip
            assert kept == by_key

    try:
        run_state_machine_as_test(Ledger, settings=PROFILE)
    finally:
        loop.run_until_complete(ctx.__aexit__(None, None, None))
        loop.close()
