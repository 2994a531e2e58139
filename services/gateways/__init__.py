"""Payment gateways behind one interface (``base.PaymentProvider``), one package each
(portone/: V1 and V2), so that sync, cancel and reconciliation do not care where a payment came from."""

from services.gateways.base import PaymentProvider, ProviderPayment, VirtualAccount

__all__ = ["PaymentProvider", "ProviderPayment", "VirtualAccount"]
