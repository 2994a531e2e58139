"""Payment gateways behind one interface (``base.Gateway``), one package each
(portone/: V1 and V2), so that sync, cancel and reconciliation do not care where a payment came from."""

from services.gateways.base import Gateway, GatewayPayment, VirtualAccount

__all__ = ["Gateway", "GatewayPayment", "VirtualAccount"]
