"""``pointcharge`` command line: serve, migrate, doctor, sandbox (and the ops commands)."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import ConfigurationError, check_settings
    from api.logs import configure_logging, wants_json
    from api.migrate import upgrade_head
    from services.settings import Settings

    # The mounted sandbox sends webhooks to this server: tell it (and the workers) where we are.
    os.environ.setdefault("POINTCHARGE_PUBLIC_URL", f"http://{_reachable(args.host)}:{args.port}")
    if args.log_level:
        os.environ["POINTCHARGE_LOG_LEVEL"] = args.log_level  # the workers' app factories read it too
    settings = Settings()
    configure_logging(json=wants_json(settings), level=settings.log_level)
    try:
        check_settings(settings)
    except ConfigurationError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.workers > 1 and not settings.is_production and _uses_a_mounted_sandbox(settings):
        # A mounted sandbox works on a copy of its state in process memory (the state file only
        # mirrors it for the next start): with N workers a payment made through one worker would
        # be unknown to the others.
        print(
            "--workers > 1 in sandbox mode needs one shared sandbox: run `pointcharge sandbox` and set "
            "POINTCHARGE_PORTONE_V1_BASE_URL=http://127.0.0.1:8099/v1 "
            "(and POINTCHARGE_PORTONE_V2_BASE_URL=http://127.0.0.1:8099/v2, "
            "POINTCHARGE_BOOTPAY_BASE_URL=http://127.0.0.1:8099/bootpay/v2, or POINTCHARGE_BOOTPAY_ENABLED=false)",
            file=sys.stderr,
        )
        return 2
    if settings.is_sqlite and not settings.is_production:
        # Once, here, before any worker starts: N workers must not race to migrate one file.
        upgrade_head(settings.database_url)
    metrics_dir = _multiprocess_metrics_dir(args.workers)
    try:
        uvicorn.run(
            "api.app:app_factory",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            proxy_headers=True,
            forwarded_allow_ips=args.forwarded_allow_ips,
            log_level=settings.log_level.lower(),
            log_config=None,  # our logging (api.logs), configured above and by each worker's app
            access_log=False,  # api.middleware.RequestId writes the access lines, with request ids
            server_header=False,
        )
    except SystemExit as exc:
        return int(exc.code or 0)
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)
    return 0


def _uses_a_mounted_sandbox(settings) -> bool:
    """Whether a gateway (PortOne, Bootpay) would talk to the emulator mounted in this process."""
    return not settings.portone_v1_base_url or bool(settings.bootpay_enabled and not settings.bootpay_base_url)


def _multiprocess_metrics_dir(workers: int) -> str | None:
    """Several workers share /metrics through prometheus-client's multiprocess mode: a directory of
    per-process files, named by PROMETHEUS_MULTIPROC_DIR before any worker imports the client.
    Returns the directory to remove on exit (ours), or None."""
    preset = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if preset:
        # The operator's directory: emptied of an earlier run's files (stale counters), kept.
        Path(preset).mkdir(parents=True, exist_ok=True)
        for stale in Path(preset).glob("*.db"):
            stale.unlink(missing_ok=True)
        return None
    if workers <= 1:
        return None
    path = tempfile.mkdtemp(prefix="pointcharge-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
    return path


def _reachable(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host


def _migrate(args: argparse.Namespace) -> int:
    from api.migrate import upgrade_head
    from services.settings import Settings

    url = Settings().database_url
    upgrade_head(url)
    print("database is at the latest revision")
    return 0


def _doctor(args: argparse.Namespace) -> int:
    from api import doctor

    return doctor.run()


def _sandbox(args: argparse.Namespace) -> int:
    from sandbox import cli as sandbox_cli

    return sandbox_cli.run(args) or 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pointcharge", description="PortOne payments → user points")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the API (GraphQL at /graphql)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("WEB_CONCURRENCY") or 1),
        help="worker processes (default: $WEB_CONCURRENCY or 1); about one per CPU core",
    )
    serve.add_argument("--log-level", default=None, help="debug, info, warning… (default: $POINTCHARGE_LOG_LEVEL or info)")
    serve.add_argument(
        "--forwarded-allow-ips",
        default=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
        help="proxies whose X-Forwarded-* headers are trusted",
    )
    serve.set_defaults(func=_serve)

    migrate = sub.add_parser("migrate", help="apply database migrations (alembic upgrade head)")
    migrate.set_defaults(func=_migrate)

    doctor = sub.add_parser(
        "doctor",
        help="check the configuration for production (exit 0 when clean, 1 otherwise)",
        description="Checks secrets, PortOne keys, the public webhook URL, CORS, the database and its "
        "migrations, and that the sandbox and developer tools are off; prints each problem with its fix.",
    )
    doctor.set_defaults(func=_doctor)

    from api import ops_cli

    ops_cli.add_commands(sub)

    try:
        from sandbox import cli as sandbox_cli
    except ImportError:
        sandbox_cli = None  # type: ignore[assignment]
    if sandbox_cli is not None and hasattr(sandbox_cli, "add_arguments"):
        sandbox = sub.add_parser("sandbox", help="run the standalone PortOne and Bootpay sandbox")
        sandbox_cli.add_arguments(sandbox)
        sandbox.set_defaults(func=_sandbox)

    bench_cli = _bench_module()
    if bench_cli is not None:  # a source checkout: `pointcharge bench …` = `python -m bench …`
        bench = sub.add_parser("bench", help="benchmarks: charge path vs the I/O floor, history (docs/PERFORMANCE.md)")
        bench_cli.add_arguments(bench)
        bench.set_defaults(func=bench_cli.dispatch)
    return parser


def _bench_module():  # type: ignore[no-untyped-def]
    """bench/ lives beside the packages in a checkout and is not installed."""
    root = Path(__file__).resolve().parent.parent
    if not (root / "bench" / "__main__.py").is_file():
        return None
    if str(root) not in sys.path:
        sys.path.append(str(root))
    try:
        from bench import __main__ as bench_cli
    except ImportError:
        return None
    return bench_cli


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command not in ("sandbox", "bench"):  # those two log (and print) their own way
        _configure_logging(quiet=args.command == "doctor")
    return args.func(args)


def _configure_logging(*, quiet: bool) -> None:
    """Structured logs for every command (``serve`` configures again once it knows its level)."""
    from api.logs import configure_logging, wants_json
    from services.settings import Settings

    try:
        settings = Settings()
    except Exception:  # noqa: BLE001 - a broken configuration is the command's to report
        configure_logging(json=False, level="warning" if quiet else "info")
        return
    # The doctor prints a report; library chatter (alembic's "Context impl…") would only blur it.
    configure_logging(json=wants_json(settings), level="warning" if quiet else settings.log_level)


if __name__ == "__main__":
    raise SystemExit(main())
