"""The `ogapi` command line: serve, migrate and the operator's admin commands."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from models.db import is_sqlite, migrate
from resolvers.accounts import accounts
from resolvers.errors import AppError
from resolvers.plans import parse_plan
from web.cli.commands import Command, fail, non_negative, with_db
from web.settings import ConfigError, Settings


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """gunicorn with aiohttp's worker (web/cli/serve.py, web/cli/gunicorn_conf.py): workers replaced
    when they die, graceful SIGTERM/SIGINT."""
    host, port, workers = args.host or settings.host, args.port or settings.port, args.workers
    if workers < 1:
        return fail("--workers must be at least 1", 2)
    if problem := settings.workers_problem(workers):
        return fail(problem, 2)
    # Workers build their Settings from the environment: hand them the flags, so that
    # BASE_URL (when unset) and signed URLs follow --host/--port.
    os.environ["HOST"], os.environ["PORT"] = host, str(port)
    from web.cli.gunicorn_conf import check_port
    from web.cli.serve import serve

    check_port((host, port))  # a busy port: one line naming it, exit 1
    if is_sqlite(settings.database_url):
        asyncio.run(migrate(settings.database_url))

    return serve(host, port, workers)


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    asyncio.run(migrate(settings.database_url))
    print("migrations applied")
    return 0


def cmd_export_schema(args: argparse.Namespace, settings: Settings) -> int:
    from schema import schema

    print(schema.as_str())
    return 0


@with_db
async def cmd_create_user(args: argparse.Namespace, settings: Settings) -> int:
    from resolvers.accounts.keys import active_key, reveal
    from resolvers.crypto import SecretBox

    box = SecretBox(settings.secret_key)
    password = args.password or os.environ.get("OGAPI_PASSWORD")
    generated = password is None
    if generated:
        from resolvers.crypto import random_token

        password = random_token(20)
    account = await accounts.create_account(args.email, password, box, plan=args.plan)
    key = await active_key(account)
    print(f"email: {account.email}")
    if generated:
        print(f"password: {password}")
    print(f"plan: {account.plan.value}")
    print(f"api_key: {reveal(key, box) if key else '-'}")
    return 0


@with_db
async def cmd_set_plan(args: argparse.Namespace, settings: Settings) -> int:
    account = await accounts.set_plan(args.email, args.plan, args.quota)
    quota = f", custom quota {account.custom_quota}" if account.custom_quota is not None else ""
    print(f"{account.email}: plan {account.plan.value}{quota}")
    return 0


def cmd_stripe_sync(args: argparse.Namespace, settings: Settings) -> int:
    """Create or verify the Stripe product and monthly price of each paid plan."""
    key = settings.stripe_secret_key
    if not key:
        return fail("STRIPE_SECRET_KEY is not set: there is no Stripe account to sync", 2)
    from resolvers.billing.stripe_api import StripeGateway
    from resolvers.billing.stripe_sync import sync

    async def main() -> int:
        gateway = StripeGateway(key, settings.stripe_api_base)
        try:
            steps = await sync(gateway)
        except AppError as exc:
            return fail(exc.message)
        finally:
            await gateway.close()
        for step in steps:
            print(step)
        changed = sum(step.action != "ok" for step in steps)
        print(f"{changed} change(s), {len(steps) - changed} already in place")
        return 0

    return asyncio.run(main())


def _status_command(status_name: str) -> Command:
    async def run(args: argparse.Namespace, settings: Settings) -> int:
        from models import AccountStatus

        account = await accounts.set_status(args.email, AccountStatus(status_name))
        print(f"{account.email}: {account.status.value}")
        return 0

    return run


def _plan_arg(value: str):
    try:
        return parse_plan(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def version() -> str:
    """The installed package's version (pyproject.toml's, when run from a checkout)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("ogapi")
    except PackageNotFoundError:  # `python -m web.cli.main` from a checkout that was not installed
        import tomllib
        from pathlib import Path

        pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
        return tomllib.loads(pyproject.read_text())["project"]["version"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ogapi", description="OG Image API service and tools.")
    parser.add_argument("--version", action="version", version=f"ogapi {version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the HTTP server")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(func=cmd_serve)

    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    sub.add_parser("export-schema", help="print the GraphQL SDL (schema.graphql)").set_defaults(
        func=cmd_export_schema
    )

    stripe = sub.add_parser("stripe", help="Stripe billing setup").add_subparsers(
        dest="stripe_command", required=True
    )
    stripe.add_parser(
        "sync", help="create or verify the products and prices of the paid plans (idempotent)"
    ).set_defaults(func=cmd_stripe_sync)

    admin = sub.add_parser("admin", help="operator commands").add_subparsers(
        dest="admin_command", required=True
    )
    create = admin.add_parser("create-user", help="create an account (prints its API key)")
    create.add_argument("email")
    create.add_argument("--password", help="default: generated and printed")
    create.add_argument("--plan", type=_plan_arg, default="free")
    create.set_defaults(func=cmd_create_user)

    set_plan = admin.add_parser("set-plan", help="change an account's plan or custom quota")
    set_plan.add_argument("email")
    set_plan.add_argument("plan", type=_plan_arg)
    set_plan.add_argument("--quota", type=non_negative, help="custom monthly quota (enterprise)")
    set_plan.set_defaults(func=cmd_set_plan)

    for name, status in (("suspend", "suspended"), ("unsuspend", "active")):
        p = admin.add_parser(name, help=f"mark an account {status}")
        p.add_argument("email")
        p.set_defaults(func=with_db(_status_command(status)))

    from web.cli.metering import add_commands  # credits, usage and demo commands

    add_commands(sub, admin)
    from web.cli import store as cli_store  # the image store's sweep

    cli_store.add_commands(admin)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        return fail(str(exc), 2)
    return args.func(args, settings)


if __name__ == "__main__":
    sys.exit(main())
