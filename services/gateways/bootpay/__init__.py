"""Bootpay (부트페이), REST API v2: ``client`` (the gateway behind services/gateways/base.py),
``receipt`` (Bootpay's receipt and status numbers → the normalised payment), ``errors`` (its error
answers → the neutral errors) and ``webhook`` (its webhook body, a hint of which receipt to re-fetch)."""

from services.gateways.bootpay.client import BootpayClient
from services.gateways.bootpay.errors import BootpayRejected, BootpayUnavailable
from services.gateways.bootpay.receipt import NAME, parse_receipt

__all__ = ["NAME", "BootpayClient", "BootpayRejected", "BootpayUnavailable", "parse_receipt"]
