"""`pointcharge sandbox` / `python -m sandbox`: serve the PortOne emulator with uvicorn.

api/cli.py calls add_arguments(subparser) and run(args); both also work on their own.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import fields

from .config import SandboxConfig
from .persist import clear_file

# SandboxConfig fields exposed as --options (the rest are internal knobs).
_OPTIONS: dict[str, str] = {
    "merchant_code": "V1 merchant code for IMP.init()",
    "imp_key": "V1 REST API key (POST /v1/users/getToken imp_key)",
    "imp_secret": "V1 REST API secret (imp_secret)",
    "v2_api_secret": "V2 API secret ('Authorization: PortOne <secret>')",
    "v2_webhook_secret": "V2 webhook secret, Standard Webhooks 'whsec_<base64>'",
    "store_id": "V2 store id",
    "channel_key": "V2 channel key",
    "pg": "PG provider code reported for payments (pg_provider)",
    "webhook_url": "V1 webhook URL used when a payment has no notice_url",
    "v2_webhook_url": "V2 webhook URL used when a payment has no notice URL",
    "webhook_format": "V1 webhook Content-Type: json or form",
    "webhook_retries": "webhook retries after the first attempt",
    "webhook_backoff_s": "base of the exponential backoff between webhook attempts (seconds)",
    "token_ttl_s": "V1 access_token lifetime in seconds",
}


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    defaults = SandboxConfig()
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8099, help="port to bind (default: %(default)s)")
    known = {f.name for f in fields(SandboxConfig)}
    for name, help_text in _OPTIONS.items():
        default = getattr(defaults, name)
        option = "--" + name.replace("_", "-")
        kwargs: dict = {"dest": name, "default": default, "help": help_text + " (default: %(default)s)"}
        if name == "webhook_format":
            kwargs["choices"] = ["json", "form"]
        elif isinstance(default, int):
            kwargs["type"] = int
        elif isinstance(default, float):
            kwargs["type"] = float
        assert name in known, name  # keep _OPTIONS in step with SandboxConfig
        parser.add_argument(option, **kwargs)
    parser.add_argument(
        "--state",
        default=os.environ.get("POINTCHARGE_SANDBOX_STATE") or DEFAULT_STATE,
        help="SQLite file that keeps payments, orders, tokens and the webhook log across restarts; "
        "':memory:' keeps nothing (default: $POINTCHARGE_SANDBOX_STATE or %(default)s)",
    )
    parser.add_argument("--reset", action="store_true", help="forget everything in --state before serving")
    parser.add_argument("--log-level", default="info", help="uvicorn log level (default: %(default)s)")
    return parser


# The file `make run`'s mounted sandbox uses too (next to ./pointcharge.db): one process at a time.
DEFAULT_STATE = "./pointcharge-sandbox.db"


def config_from_args(args: argparse.Namespace) -> SandboxConfig:
    values = {name: getattr(args, name) for name in _OPTIONS if hasattr(args, name)}
    return SandboxConfig(**values, state_path=getattr(args, "state", DEFAULT_STATE))


def run(args: argparse.Namespace) -> None:
    import uvicorn

    from .app import create_app

    config = config_from_args(args)
    if getattr(args, "reset", False):
        clear_file(config.state_path)
    app = create_app(config)
    print(
        f"PortOne sandbox on http://{args.host}:{args.port}  "
        f"(V1 base /v1, V2 base /v2, control /_control; merchant_code={config.merchant_code}; "
        f"state {config.state_path}{', reset' if getattr(args, 'reset', False) else ''})",
        flush=True,
    )
    # One process on purpose: the working copy of the ledger lives in its memory (the state file
    # only mirrors it), so workers would each see their own.
    uvicorn.run(app, host=args.host, port=args.port, log_level=getattr(args, "log_level", "info"))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description="PortOne (V1 + V2) emulator")
    add_arguments(parser)
    run(parser.parse_args(argv))
