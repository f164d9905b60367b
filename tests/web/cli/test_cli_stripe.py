"""`ogapi stripe sync`: a real subprocess against the fake Stripe (served from its own thread)."""

from __future__ import annotations

import os
import subprocess
import sys

from resolvers.plans import PLANS
from tests.stripe_fake import running_in_thread


def sync(fake, tmp_path, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "web.cli.main", "stripe", "sync"],
        env={
            **os.environ,
            "OGAPI_DATA_DIR": str(tmp_path),
            "STRIPE_SECRET_KEY": fake.key,
            "STRIPE_API_BASE": fake.url,
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_sync_creates_then_verifies_then_repairs(tmp_path):
    with running_in_thread() as fake:
        first = sync(fake, tmp_path)
        assert first.returncode == 0, first.stderr
        assert "8 change(s), 0 already in place" in first.stdout
        assert "created price ogapi_pro_monthly" in first.stdout.replace("  ", " ")
        prices = {p["lookup_key"]: p for p in fake.all("price")}
        for plan in PLANS.values():
            if plan.stripe_lookup_key:
                price = prices[plan.stripe_lookup_key]
                assert price["unit_amount"] == int(plan.price_monthly * 100)
                assert price["recurring"]["interval"] == "month" and price["currency"] == "usd"
                assert price["product"] == f"ogapi_{plan.id.value}"
        posts = fake.posts()
        assert len(posts) == 8 and all(p["idempotency_key"] for p in posts)

        second = sync(fake, tmp_path)
        assert second.returncode == 0 and "0 change(s), 8 already in place" in second.stdout
        assert len(fake.posts()) == 8  # verifying posts nothing

        # Someone changed the pro price by hand: sync moves the lookup key to a correct price.
        old = prices["ogapi_pro_monthly"]
        old["unit_amount"] = 2500
        third = sync(fake, tmp_path)
        assert "1 change(s), 7 already in place" in third.stdout
        assert f"replaces {old['id']}" in third.stdout
        current = [p for p in fake.all("price") if p["lookup_key"] == "ogapi_pro_monthly"]
        assert len(current) == 1 and current[0]["unit_amount"] == 1900
        assert old["lookup_key"] is None


def test_sync_needs_a_key_and_says_when_stripe_is_down(tmp_path):
    with running_in_thread() as fake:
        out = sync(fake, tmp_path, STRIPE_SECRET_KEY="")
        assert out.returncode == 2 and "STRIPE_SECRET_KEY is not set" in out.stderr
        fake.fail_next(10, status=503)
        out = sync(fake, tmp_path)
        assert out.returncode == 1 and "Stripe is not answering" in out.stderr
        assert fake.all("product") == []


def test_help_lists_stripe_sync():
    out = subprocess.run(
        [sys.executable, "-m", "web.cli.main", "stripe", "--help"], capture_output=True, text=True
    )
    assert "sync" in out.stdout and "idempotent" in out.stdout
    top = subprocess.run(
        [sys.executable, "-m", "web.cli.main", "--help"], capture_output=True, text=True
    )
    assert "stripe" in top.stdout
