"""Bootpay (부트페이), REST API v2: ``client`` (the gateway behind services/gateways/base.py) and
``receipt`` (Bootpay's receipt and status numbers → the normalised payment)."""

from services.gateways.bootpay.client import BootpayClient, BootpayRejected, BootpayUnavailable
from services.gateways.bootpay.receipt import NAME, parse_receipt

__all__ = ["NAME", "BootpayClient", "BootpayRejected", "BootpayUnavailable", "parse_receipt"]
