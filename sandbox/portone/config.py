"""Settings of the PortOne emulator.

Every default is a fixed, documented value so that a developer machine, CI and the
pointcharge API processes can all agree on credentials without any setup.
"""

from __future__ import annotations

import base64
from dataclasses import asdict, dataclass, field
from typing import Literal

# Standard Webhooks secrets are "whsec_" + base64(raw key bytes); the SDK's verify()
# strips the prefix and base64-decodes the rest, so the raw key must be stable bytes.
_WEBHOOK_KEY_BYTES = b"pointcharge-sandbox-webhook-key!"  # 32 bytes
DEFAULT_V2_WEBHOOK_SECRET = "whsec_" + base64.b64encode(_WEBHOOK_KEY_BYTES).decode()


@dataclass
class SandboxConfig:
    # V1 (I'mport) credentials: IMP.init(merchant_code) and POST /users/getToken.
    merchant_code: str = "imp00000000"
    imp_key: str = "sandbox_imp_key"
    imp_secret: str = "sandbox_imp_secret"
    # V2 credentials: "Authorization: PortOne <v2_api_secret>".
    v2_api_secret: str = "sandbox_v2_api_secret"
    v2_webhook_secret: str = DEFAULT_V2_WEBHOOK_SECRET
    store_id: str = "store-00000000-0000-4000-8000-000000000000"
    channel_key: str = "channel-key-00000000-0000-4000-8000-000000000000"
    pg: str = "html5_inicis"
    # Where webhooks go when a payment has no notice_url of its own (the console setting).
    webhook_url: str | None = None
    v2_webhook_url: str | None = None
    # V1 console lets the merchant choose the webhook Content-Type; V2 (2024-04-25) is JSON only.
    webhook_format: Literal["json", "form"] = "json"
    # Retries after the first attempt, and the base of the exponential backoff between them.
    # PortOne waits minutes; the sandbox keeps the shape but shrinks the clock so tests stay fast.
    webhook_retries: int = 3
    webhook_backoff_s: float = 0.2
    webhook_timeout_s: float = 30.0
    token_ttl_s: int = 1800
    # Days until a virtual account's deposit deadline (vbank_date).
    vbank_due_days: int = 3
    # Where payments, orders, tokens and the webhook log are kept across restarts (a SQLite file,
    # sandbox/persist.py); ":memory:" keeps nothing. `pointcharge sandbox` and the API's mounted
    # sandbox default to a file; a bare SandboxConfig() (tests) to memory.
    state_path: str = ":memory:"
    extra: dict = field(default_factory=dict)

    def public_view(self) -> dict:
        """What GET /_control/config shows (everything: it is a sandbox, not a vault)."""
        data = asdict(self)
        data.pop("extra", None)
        return data
