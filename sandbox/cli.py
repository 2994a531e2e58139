"""`pointcharge sandbox` / `python -m sandbox`: serve the PortOne emulator (at the root) and the
Bootpay one (under /bootpay) with uvicorn.

api/cli.py calls add_arguments(subparser) and run(args); both also work on their own.
"""

from __future__ import annotations

import argparse
import contextlib
import os
from dataclasses import fields

from starlette.applications import Starlette
from starlette.routing import Mount

from .bootpay import config as bootpay_config
from .portone.config import SandboxConfig
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
    parser.add_argument(
        "--bootpay-webhook-url",
        default=os.environ.get(bootpay_config.WEBHOOK_URL_ENV),
        help="where the Bootpay emulator (/bootpay) sends webhooks "
        f"(default: ${bootpay_config.WEBHOOK_URL_ENV}, else none)",
    )
    parser.add_argument("--reset", action="store_true",
                        help="forget everything in --state (and its -bootpay twin) before serving")
    parser.add_argument("--log-level", default="info", help="uvicorn log level (default: %(default)s)")
    return parser


# The file `make run`'s mounted sandbox uses too (next to ./pointcharge.db): one process at a time.
DEFAULT_STATE = "./pointcharge-sandbox.db"


def config_from_args(args: argparse.Namespace) -> SandboxConfig:
    values = {name: getattr(args, name) for name in _OPTIONS if hasattr(args, name)}
    return SandboxConfig(**values, state_path=getattr(args, "state", DEFAULT_STATE))


def bootpay_config_from_args(args: argparse.Namespace, portone_state: str) -> bootpay_config.BootpayConfig:
    return bootpay_config.BootpayConfig(
        webhook_url=getattr(args, "bootpay_webhook_url", None) or None,
        state_path=bootpay_config.state_path_next_to(portone_state),
    )


def standalone_app(config: SandboxConfig, bootpay: bootpay_config.BootpayConfig) -> Starlette:
    """PortOne at the root (as it always was), Bootpay under /bootpay, one lifespan closing both."""
    from .portone.app import create_app
    from .bootpay import create_app as create_bootpay

    portone_app, bootpay_app = create_app(config), create_bootpay(bootpay)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        yield
        await bootpay_app.state.bootpay.aclose()
        await portone_app.state.sandbox.aclose()

    app = Starlette(routes=[Mount("/bootpay", app=bootpay_app), Mount("", app=portone_app)], lifespan=lifespan)
    app.state.sandbox, app.state.bootpay = portone_app.state.sandbox, bootpay_app.state.bootpay
    return app


def run(args: argparse.Namespace) -> None:
    import uvicorn

    config = config_from_args(args)
    bootpay = bootpay_config_from_args(args, config.state_path)
    if getattr(args, "reset", False):
        clear_file(config.state_path)
        clear_file(bootpay.state_path)
    app = standalone_app(config, bootpay)
    print(
        f"PortOne sandbox on http://{args.host}:{args.port}  "
        f"(V1 base /v1, V2 base /v2, control /_control; merchant_code={config.merchant_code}; "
        f"state {config.state_path}{', reset' if getattr(args, 'reset', False) else ''}); "
        f"Bootpay sandbox under /bootpay (REST /bootpay/v2, control /bootpay/_control; state {bootpay.state_path})",
        flush=True,
    )
    # One process on purpose: the working copy of the ledger lives in its memory (the state file
    # only mirrors it), so workers would each see their own.
    uvicorn.run(app, host=args.host, port=args.port, log_level=getattr(args, "log_level", "info"))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description="PortOne (V1 + V2) and Bootpay emulator")
    add_arguments(parser)
    run(parser.parse_args(argv))
