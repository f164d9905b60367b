"""`ogapi` commands for credits and usage: admin grant-credits / refund / record-usage /
rebuild-totals, demo.

Registered by web.cli.main.build_parser; every command calls resolvers (the same code as the APIs).
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from resolvers.accounts import accounts
from resolvers.crypto import SecretBox
from resolvers.ledger import entries as ledger
from web.cli.commands import non_negative, with_db
from web.settings import Settings


def _now() -> datetime:
    return datetime.now(UTC)


async def cmd_grant_credits(args: argparse.Namespace, settings: Settings) -> int:
    account = await accounts.get_account_by_email(args.email)
    entry = await ledger.grant(account.id, args.amount, _now(), description=args.description or "")
    print(f"{account.email}: purchase +${entry.amount:f}, balance ${entry.balance_after:f}")
    return 0


async def cmd_refund(args: argparse.Namespace, settings: Settings) -> int:
    account = await accounts.get_account_by_email(args.email)
    entry = await ledger.refund(account.id, args.amount, _now(), description=args.description or "")
    print(f"{account.email}: refund +${entry.amount:f}, balance ${entry.balance_after:f}")
    return 0


async def cmd_record_usage(args: argparse.Namespace, settings: Settings) -> int:
    account = await accounts.get_account_by_email(args.email)
    entry = await ledger.record_usage(
        account.id,
        args.service,
        _now(),
        tokens=args.tokens,
        images=args.images,
        description=args.description or "",
    )
    print(
        f"{account.email}: usage {entry.service} -${entry.amount:f} "
        f"({entry.tokens} tokens, {entry.images} images), balance ${entry.balance_after:f}"
    )
    return 0


async def cmd_rebuild_totals(args: argparse.Namespace, settings: Settings) -> int:
    from resolvers.rollups import rebuild_totals

    ids = None
    if args.email:
        ids = [(await accounts.get_account_by_email(email)).id for email in args.email]
    n = await rebuild_totals(ids)
    print(f"ledger totals rebuilt for {n} account(s)")
    return 0


async def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from resolvers.accounts.keys import active_key, reveal
    from resolvers.reports.demo import create_demo

    box = SecretBox(settings.secret_key)
    demo = await create_demo(box, _now(), seed=args.seed)
    key = await active_key(demo.account)
    print(f"email: {demo.account.email}")
    print(f"password: {demo.password}")
    plain = reveal(key, box) if key else "-"
    print(f"api_key: {plain}")
    print(f"balance: ${demo.account.balance:f}")
    print(f"try it: curl -H 'X-API-Key: {plain}' {settings.base_url}/api/user/usage")
    return 0


def add_commands(sub, admin) -> None:
    """Add the commands to `ogapi` (sub) and `ogapi admin` (admin) subparsers."""
    rebuild = admin.add_parser(
        "rebuild-totals",
        help="recompute the ledger totals from the entries (after an upgrade to 0005 with a "
        "rolling restart, a rollback, or a bulk import): every account, or the given ones",
    )
    rebuild.add_argument("email", nargs="*")
    rebuild.set_defaults(func=with_db(cmd_rebuild_totals))

    demo = sub.add_parser("demo", help="create a demo account with ~90 days of history")
    demo.add_argument("--seed", type=int, help="random seed (same data every run)")
    demo.set_defaults(func=with_db(cmd_demo))

    for name, fn, what in (
        ("grant-credits", cmd_grant_credits, "add credits (a purchase entry)"),
        ("refund", cmd_refund, "return credits to an account (a refund entry)"),
    ):
        p = admin.add_parser(name, help=what)
        p.add_argument("email")
        p.add_argument("amount", help="dollars, up to 6 decimal places, e.g. 10.50")
        p.add_argument("--description")
        p.set_defaults(func=with_db(fn))

    usage = admin.add_parser("record-usage", help="charge usage of a metered service")
    usage.add_argument("email")
    usage.add_argument("--service", required=True, help="ai_images|ai_data|ai_data_cached|…")
    usage.add_argument("--tokens", type=non_negative, default=0)
    usage.add_argument("--images", type=non_negative, default=0)
    usage.add_argument("--description")
    usage.set_defaults(func=with_db(cmd_record_usage))
