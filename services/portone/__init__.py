"""PortOne clients behind one interface (``PaymentProvider``), so that sync, cancel and
reconciliation do not care which API version a payment came from."""

from services.portone.base import PaymentProvider, ProviderPayment, VirtualAccount

__all__ = ["PaymentProvider", "ProviderPayment", "VirtualAccount"]
