"""``python -m bench`` (or ``pointcharge bench``): see bench/__init__.py and docs/PERFORMANCE.md."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def _ints(value: str) -> list[int]:
    return [int(v) for v in value.split(",") if v.strip()]


def _strs(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    sub = parser.add_subparsers(dest="bench_command", required=True)

    run = sub.add_parser("run", help="charge throughput/latency: pointcharge vs the floor")
    run.add_argument("--db", type=_strs, default=["sqlite", "postgres"], help="sqlite,postgres")
    run.add_argument("--workers", type=_ints, default=[1, 2], help="worker counts, e.g. 1,2")
    run.add_argument("--concurrency", type=_ints, default=[1, 4, 16, 32, 64], help="swept with 1 worker")
    run.add_argument("--n-concurrency", type=_ints, default=[32], help="swept with N>1 workers")
    run.add_argument("--seconds", type=float, default=6.0, help="max measured seconds per point")
    run.add_argument("--count", type=int, default=3000, help="max charges per point (c=1: a third)")
    run.add_argument("--warmup", type=int, default=60)
    run.add_argument("--users", type=int, default=32)
    run.add_argument("--loadgen-procs", type=int, default=1, help="load-generator processes")
    run.add_argument("--target", type=_strs, default=["floor", "stack", "pointcharge"])
    run.add_argument("--latency-ms", type=int, default=150,
                     help="the realistic-latency scenario: PortOne (sandbox) latency in ms; 0 leaves it out")
    run.add_argument("--latency-clients", type=int, default=32, help="clients in the latency scenario")
    run.add_argument("--latency-only", action="store_true", help="run only the latency scenario")
    run.add_argument("--gateway", type=_strs, default=["portone", "bootpay"],
                     help="portone (the sweep, the latency scenario), bootpay (Bootpay receipts, 1 worker)")
    run.add_argument("--bootpay-concurrency", type=_ints, default=[16, 32], help="clients of the Bootpay points")
    run.add_argument("--out", type=Path, default=RESULTS / "charge-latest.json")

    hist = sub.add_parser("history", help="history latency at 1k / 100k / 1M ledger entries")
    hist.add_argument("--db", type=_strs, default=["sqlite", "postgres"])
    hist.add_argument("--sizes", type=_ints, default=[1_000, 100_000, 1_000_000])
    hist.add_argument("--requests", type=int, default=200, help="requests per query and size")
    hist.add_argument("--out", type=Path, default=RESULTS / "history-latest.json")

    prof = sub.add_parser("profile", help="where a charge's time goes (phase timers, py-spy)")
    prof.add_argument("--db", type=_strs, default=["sqlite"])
    prof.add_argument("--charges", type=int, default=400)
    prof.add_argument("--concurrency", type=int, default=32)
    prof.add_argument("--py-spy", action="store_true", help="also sample the API under load with py-spy")
    prof.add_argument("--out", type=Path, default=RESULTS / "profile-latest.json")

    bill = sub.add_parser("billing", help="pointcharge billing run: N due subscriptions vs C / PortOne latency")
    bill.add_argument("--db", type=_strs, default=["sqlite", "postgres"], help="sqlite,postgres")
    bill.add_argument("--n", type=int, default=10_000, help="due subscriptions (one V1 card each)")
    bill.add_argument("--concurrency", type=_ints, default=[32, 8, 64],
                      help="POINTCHARGE_BILLING_CONCURRENCY values, one run each")
    bill.add_argument("--latency-ms", type=int, default=150, help="sandbox latency on every PortOne request")
    bill.add_argument("--amount", type=int, default=10_000, help="KRW per subscription")
    bill.add_argument("--pg-database", default="bench_billing", help="dropped and created for each PostgreSQL run")
    bill.add_argument("--cprofile", action="store_true", help="run under cProfile (<work dir>/billing-*.prof)")
    bill.add_argument("--out", type=Path, default=RESULTS / "billing-latest.json")

    rep = sub.add_parser("report", help="table + plot from results/*.json into docs/PERFORMANCE.md")
    rep.add_argument("--charge", type=Path, default=RESULTS / "charge-latest.json")
    rep.add_argument("--history", type=Path, default=RESULTS / "history-latest.json")
    rep.add_argument("--profile", type=Path, default=RESULTS / "profile-latest.json")
    rep.add_argument("--no-docs", action="store_true", help="print only")

    sub.add_parser("counts", help="the statement-count table (tests/services/test_statement_counts.py) into docs/PERFORMANCE.md")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = add_arguments(argparse.ArgumentParser(prog="python -m bench"))
    args = parser.parse_args(argv)
    return dispatch(args)


def dispatch(args: argparse.Namespace) -> int:
    from bench import report

    if args.bench_command == "run":
        from bench import charge, procs

        backends = list(args.db)
        if "postgres" in backends and not procs.pg_available():
            print(f"PostgreSQL unreachable at {procs.PG_ADMIN_DSN}: skipping it", file=sys.stderr)
            backends.remove("postgres")
        cfg = charge.Config(
            backends=backends, workers=args.workers, concurrency=args.concurrency,
            n_workers_concurrency=args.n_concurrency, seconds=args.seconds, count=args.count,
            warmup=args.warmup, loadgen_procs=args.loadgen_procs, users=args.users, targets=tuple(args.target),
            latency_ms=args.latency_ms, latency_clients=args.latency_clients, latency_only=args.latency_only,
            gateways=tuple(args.gateway), bootpay_concurrency=args.bootpay_concurrency,
        )
        result = charge.run(cfg, out=args.out)
        print()
        if any(not p.get("latency_ms") for p in report.portone_points(result)):
            print(report.charge_table(result))
            print(report.charge_targets(result))
            print()
        print(report.latency_section(result))
        print()
        print(report.bootpay_section(result))
        print(f"\nJSON: {args.out}")
        return 0
    if args.bench_command == "history":
        from bench import history, procs

        backends = list(args.db)
        if "postgres" in backends and not procs.pg_available():
            print(f"PostgreSQL unreachable at {procs.PG_ADMIN_DSN}: skipping it", file=sys.stderr)
            backends.remove("postgres")
        result = history.run(backends, args.sizes, args.requests, out=args.out)
        print()
        print(report.history_table(result))
        print(f"\nJSON: {args.out}")
        return 0
    if args.bench_command == "billing":
        from bench import billing, procs

        backends = list(args.db)
        if "postgres" in backends and not procs.pg_available():
            print(f"PostgreSQL unreachable at {procs.PG_ADMIN_DSN}: skipping it", file=sys.stderr)
            backends.remove("postgres")
        result = billing.run(
            billing.Config(backends=backends, n=args.n, concurrency=args.concurrency, latency_ms=args.latency_ms,
                           amount=args.amount, pg_database=args.pg_database, cprofile=args.cprofile),
            out=args.out,
        )
        print()
        print(billing.table(result))
        print(f"\nJSON: {args.out}")
        return 0 if all(p["checks"]["ok"] for p in result["points"]) else 1
    if args.bench_command == "profile":
        from bench import profile

        result = profile.run(args.db, args.charges, args.concurrency, py_spy=args.py_spy, out=args.out)
        print()
        print(report.profile_table(result))
        print(f"\nJSON: {args.out}")
        return 0
    if args.bench_command == "counts":
        print(report.write_counts())
        return 0
    if args.bench_command == "report":
        text = report.build(args.charge, args.history, args.profile, write_docs=not args.no_docs)
        print(text)
        return 0
    parser_error = f"unknown command {args.bench_command}"
    print(parser_error, file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
