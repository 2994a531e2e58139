"""``pointcharge reconcile``, ``pointcharge webhooks replay``, ``pointcharge files cleanup`` and
``pointcharge billing run``."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime, timedelta

from services.reconcile import Report


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    rec = sub.add_parser(
        "reconcile",
        help="compare PortOne with our records; --apply fixes what is safe",
        description="Exit code 0 when clean, 1 when differences remain.",
    )
    window = rec.add_mutually_exclusive_group()
    window.add_argument("--since", help="ISO 8601 start of the window (default: 2 days ago)")
    window.add_argument("--days", type=float, help="window of the last N days")
    rec.add_argument("--apply", action="store_true", help="fix what is safe (never cancels at PortOne)")
    rec.add_argument("--json", action="store_true", help="machine-readable output")
    rec.add_argument("--stale-minutes", type=float, default=30.0, help="pending charges/cancels older than this")
    rec.set_defaults(func=_reconcile)

    hooks = sub.add_parser("webhooks", help="stored webhook deliveries")
    hooks_sub = hooks.add_subparsers(dest="webhooks_command", required=True)
    replay = hooks_sub.add_parser("replay", help="reprocess stored deliveries (failed and unfinished by default)")
    replay.add_argument("--failed", action="store_true", help="only deliveries that failed")
    replay.add_argument("--id", help="one delivery by id (whatever its outcome)")
    replay.set_defaults(func=_replay)

    files = sub.add_parser("files", help="uploaded files")
    files_sub = files.add_subparsers(dest="files_command", required=True)
    cleanup = files_sub.add_parser("cleanup", help="delete unused uploads (no item or picture names them)")
    cleanup.add_argument("--older-than-hours", type=float, default=None,
                         help="only uploads older than this (default: $POINTCHARGE_STORAGE_CLEANUP_AFTER_HOURS, 24)")
    cleanup.set_defaults(func=_files_cleanup)

    billing = sub.add_parser("billing", help="saved-card billing: monthly subscriptions")
    billing_sub = billing.add_subparsers(dest="billing_command", required=True)
    run = billing_sub.add_parser(
        "run", help="charge every subscription cycle due, then exit (cron; safe to run in several places at once)",
        description="Exit code 0 when every job ran, 1 when a job failed (see the log).",
    )
    run.add_argument("--at", help="ISO 8601 time to run as of (default: now): what is due by then is charged")
    run.add_argument("--limit", type=int, default=None, help="charge at most N subscriptions (default: all due)")
    run.add_argument("--json", action="store_true", help="machine-readable counts")
    run.set_defaults(func=_billing_run)


def _files_cleanup(args: argparse.Namespace) -> int:
    from api.runtime import runtime
    from services.settings import Settings

    settings = Settings()
    hours = args.older_than_hours if args.older_than_hours is not None else settings.storage_cleanup_after_hours
    if hours < 0:
        print("--older-than-hours must not be negative", file=sys.stderr)
        return 2

    async def run() -> int:
        async with runtime(settings) as (services, _db):
            assert services.files is not None
            return await services.files.cleanup(timedelta(hours=hours))

    print(f"{asyncio.run(run())} unused uploads older than {hours:g} hours removed")
    return 0


def _since(args: argparse.Namespace) -> datetime:
    if args.since:
        parsed = datetime.fromisoformat(args.since)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return datetime.now(UTC) - timedelta(days=args.days if args.days is not None else 2)


def _reconcile(args: argparse.Namespace) -> int:
    from api.runtime import runtime
    from services.reconcile import Reconciler
    from services.settings import Settings

    try:
        since = _since(args)
    except ValueError:
        print(f"--since: not an ISO 8601 time: {args.since}", file=sys.stderr)
        return 2

    async def run() -> Report:
        async with runtime(Settings()) as (services, db):
            reconciler = Reconciler(
                db, services.charging, services.webhooks, stale_after=timedelta(minutes=args.stale_minutes),
                extra_checks=services.reconcile_checks(),
            )
            return await reconciler.run(since=since, apply=args.apply)

    report = asyncio.run(run())
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        print(format_report(report))
    return 0 if report.clean else 1


def format_report(report: Report) -> str:
    lines = [
        f"reconcile {report.since.isoformat(timespec='seconds')} .. {report.until.isoformat(timespec='seconds')}"
        f"  ({'apply' if report.applied else 'report only'}; {report.checked_remote} PortOne payments checked)"
    ]
    if report.abandoned:
        lines.append(f"{report.abandoned} failed webhook deliveries abandoned (retry budget spent; not differences)")
    if not report.differences:
        lines.append("clean: no differences")
        return "\n".join(lines)
    rows = [("KIND", "PROVIDER", "PAYMENT", "USER", "FIXED", "DETAIL")] + [
        (d.kind, d.provider or "-", d.payment_key or "-", d.user_id or "-", "yes" if d.fixed else "no", d.detail)
        for d in report.differences
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for r in rows:
        lines.append("  ".join(r[i].ljust(widths[i]) for i in range(5)) + "  " + r[5])
    lines.append(f"{len(report.differences)} differences, {len(report.remaining)} remaining")
    return "\n".join(lines)


def _replay(args: argparse.Namespace) -> int:
    from api.runtime import runtime
    from services.settings import Settings

    async def run() -> dict[str, int]:
        counts: dict[str, int] = {}
        async with runtime(Settings()) as (services, _db):
            ids = await services.webhooks.pending_ids(failed_only=args.failed, delivery_id=args.id)
            for delivery_id in ids:
                outcome = await services.webhooks.process(delivery_id, coalesce=False)
                counts[outcome] = counts.get(outcome, 0) + 1
                print(f"{delivery_id}  {outcome}")
        return counts

    counts = asyncio.run(run())
    print("replayed: " + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "nothing to replay"))
    return 1 if counts.get("failed") else 0


def _billing_run(args: argparse.Namespace) -> int:
    from api.runtime import runtime
    from services.settings import Settings

    try:
        at = datetime.fromisoformat(args.at) if args.at else datetime.now(UTC)
    except ValueError:
        print(f"--at: not an ISO 8601 time: {args.at}", file=sys.stderr)
        return 2
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    if args.limit is not None and args.limit < 1:
        print("--limit must be at least 1", file=sys.stderr)
        return 2

    async def run() -> dict[str, dict[str, int]]:
        async with runtime(Settings()) as (services, _db):
            assert services.billing is not None
            return await services.billing.run(at, args.limit)

    report = asyncio.run(run())
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    else:
        for name, counts in report.items():
            print(f"{name}: " + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "nothing due"))
    return 1 if any("error" in counts for counts in report.values()) else 0
