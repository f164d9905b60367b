"""`ogapi admin sweep-images`: the image store's retention sweep by hand (docs/caching.md); the
server also runs it once a day (resolvers/images/store_tier.py `run_sweeper`)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime

from web.settings import Settings


def cmd_sweep_images(args: argparse.Namespace, settings: Settings) -> int:
    from web.app import open_store_tier  # not at import: every `ogapi` command loads this module

    tier = open_store_tier(settings)
    if tier is None:
        print("error: IMAGE_STORE=none: there is no image store to sweep", file=sys.stderr)
        return 2
    days = args.days or settings.image_store_retention_days

    async def main():
        try:
            return await tier.sweep(datetime.now(UTC).timestamp(), days, dry_run=args.dry_run)
        finally:
            await tier.close()

    r = asyncio.run(main())
    verb = "would remove" if args.dry_run else "removed"
    print(
        f"{verb} {r.removed} images ({r.removed_bytes / 1e6:.1f} MB) not requested for {days} "
        f"days; kept {r.kept} images ({r.kept_bytes / 1e6:.1f} MB)"
    )
    return 0


def _days(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError("must be a whole number of days, at least 1")
    return int(value)


def add_commands(admin) -> None:
    sweep = admin.add_parser(
        "sweep-images",
        help="remove the stored images not requested for IMAGE_STORE_RETENTION_DAYS days",
    )
    sweep.add_argument("--days", type=_days, help="another retention, in days, for this run")
    sweep.add_argument("--dry-run", action="store_true", help="count, remove nothing")
    sweep.set_defaults(func=cmd_sweep_images)
