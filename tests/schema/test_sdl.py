"""schema.graphql is committed and must match the code (`ogapi export-schema` prints it)."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

from schema import build_schema, schema
from web.cli import main as cli

SDL = Path(__file__).resolve().parents[2] / "schema.graphql"


def test_committed_sdl_matches_code():
    assert SDL.read_text() == schema.as_str() + "\n", (
        "schema.graphql is stale: run `ogapi export-schema > schema.graphql`"
    )


def test_export_schema_command_prints_the_sdl(monkeypatch, tmp_path):
    monkeypatch.setenv("OGAPI_DATA_DIR", str(tmp_path))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli.main(["export-schema"]) == 0
    assert out.getvalue() == SDL.read_text()


def test_production_schema_has_the_same_types():
    assert build_schema(production=True).as_str() == schema.as_str()


def test_spec_root_fields_are_present():
    sdl = schema.as_str()
    for line in (
        "me: Account!",
        "notifications(first: Int = 20): [Notification!]!",
        "usage: Usage!",
        "balance: Balance!",
        "transactions(first: Int = 100, after: String = null, type: TransactionType = null, "
        "service: String = null): TransactionConnection!",
        "invoices(first: Int = 12, after: String = null): InvoiceConnection!",
        "plans: [Plan!]!",
        "templates: [Template!]!",
        "regenerateApiKey: Account!",
        "createCheckoutSession(plan: PlanId = null, credits: Int = null): CheckoutSession!",
        "createBillingPortalSession: PortalSession!",
        "updateAccount(domain: String, overageEnabled: Boolean, overageCap: Decimal): Account!",
        "overageCap: Decimal\n",
        "daily(days: Int = 30): [DayUsage!]!",
        "monthly(months: Int = 12): [MonthUsage!]!",
    ):
        assert line in sdl, line
