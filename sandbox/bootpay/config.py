"""Settings of the Bootpay emulator: fixed, documented defaults so that a developer machine, CI and
the API agree on keys without setup (GET /_control/config shows them: a sandbox, not a vault)."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

# Where the mounted and the standalone emulator send webhooks when set (the Bootpay admin's
# "웹훅 설정"); unset: the API's /webhooks/bootpay, or nowhere for a bare standalone.
WEBHOOK_URL_ENV = "POINTCHARGE_SANDBOX_BOOTPAY_WEBHOOK_URL"


@dataclass
class BootpayConfig:
    # Legacy auth: POST /v2/request/token {application_id, private_key} → Bearer token.
    application_id: str = "sandbox_bootpay_application_id"
    private_key: str = "sandbox_bootpay_private_key"
    # Current auth: "Authorization: Basic base64(client_key:secret_key)" on every call.
    client_key: str = "sandbox_bootpay_client_key"
    secret_key: str = "sandbox_bootpay_secret_key"
    pg: str = "나이스페이"
    company_name: str = "pointcharge sandbox"
    webhook_url: str | None = None
    # Bootpay retries a webhook until it gets 200 + {"success": true}, 10 times by default. Its
    # spacing is not published: exponential here, on a clock shrunk so that tests stay fast.
    webhook_retries: int = 10
    webhook_backoff_s: float = 0.5
    webhook_backoff_max_s: float = 60.0
    webhook_timeout_s: float = 10.0
    # A token lives 30 minutes; asking again within 25 minutes returns the same one.
    token_ttl_s: int = 1800
    token_reuse_s: int = 1500
    vbank_due_days: int = 3
    # The SQLite file that keeps receipts, tokens and the webhook log (sandbox/persist.py);
    # ":memory:" keeps nothing.
    state_path: str = ":memory:"

    def public_view(self) -> dict:
        return asdict(self)


def state_path_next_to(portone_state_path: str) -> str:
    """The Bootpay emulator's own file beside the PortOne one (``x.db`` → ``x-bootpay.db``): one
    owner per file, so that either reset can clear its file without touching the other's."""
    if not portone_state_path or portone_state_path == ":memory:":
        return ":memory:"
    path = Path(portone_state_path)
    return str(path.with_name(f"{path.stem}-bootpay{path.suffix}"))


def webhook_url_from_env(default: str | None) -> str | None:
    return os.environ.get(WEBHOOK_URL_ENV) or default
