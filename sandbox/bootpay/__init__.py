"""The Bootpay (부트페이) emulator: REST API v2, webhooks and a control API, offline.

    create_app(BootpayConfig(...))                        # standalone, or
    Mount("/sandbox/bootpay", app=create_app(cfg))        # inside the API in sandbox mode

Modules: config (keys, URLs), store (receipts, tokens, faults; durable through sandbox/persist.py),
rest (/v2/… as Bootpay answers it), webhooks (deliveries and their log), control (/_control/…,
the buyer's and the network's side), app (routing and the index page). Like the PortOne emulator
it shares no code with services/: an emulator built from the client's code would agree with its bugs.
"""

from .app import create_app
from .config import BootpayConfig

__all__ = ["BootpayConfig", "create_app"]
