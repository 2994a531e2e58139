"""What resolvers may call: the services, built by the composition root."""

from __future__ import annotations

from dataclasses import dataclass

from services.auth import AuthService
from services.billing.attempt_reconcile import AttemptReconciler
from services.billing.card_charge import CardChargeService
from services.billing.cards import CardService
from services.billing.runner import BillingRunner
from services.billing.subscriptions import SubscriptionService
from services.cancellation import CancelService
from services.charging import ChargeService
from services.files import FileService
from services.history import HistoryService
from services.items import ItemService
from services.questions import QuestionService
from services.ratelimit import RateLimiter
from services.settings import Settings
from services.webhooks import WebhookService


@dataclass(frozen=True)
class PortOneClientConfig:
    """What a browser needs for IMP.init / request_pay (never secrets)."""

    merchant_code: str
    pg: str
    test_mode: bool
    store_id: str | None = None  # V2, None when V2 is not enabled
    channel_key: str | None = None


@dataclass(frozen=True)
class Services:
    settings: Settings
    auth: AuthService
    charging: ChargeService
    history: HistoryService
    cancels: CancelService
    webhooks: WebhookService
    portone_client: PortOneClientConfig
    # Bootpay's web application id, what the browser SDK's requestPayment needs; None: Bootpay is off.
    bootpay_application_id: str | None = None
    ratelimit: RateLimiter | None = None  # None: no rate limits (tools, tests of other things)
    items: ItemService | None = None  # the catalogue and buying (issue 16); built by api.app
    questions: QuestionService | None = None  # items' Q&A (issue 26); built by api.app
    files: FileService | None = None  # uploads (issue 26); built by api.app
    cards: CardService | None = None  # saved cards (issue 25, PortOne V1); built by api.app
    card_charges: CardChargeService | None = None  # one-click charges with them
    subscriptions: SubscriptionService | None = None  # monthly point subscriptions (정기 충전)
    billing: BillingRunner | None = None  # runs due subscription cycles (and other billing jobs)
    billing_attempts: AttemptReconciler | None = None  # reconcile's check of subscription attempts

    def reconcile_checks(self) -> list:  # type: ignore[type-arg]
        """The Reconciler's extra checks (services.reconcile.ExtraCheck) of what these services hold."""
        return [self.billing_attempts.check] if self.billing_attempts is not None else []
