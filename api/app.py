"""The composition root: settings, database, HTTP client and services are built in the lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from datetime import timedelta
from pathlib import Path

import httpx
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import PlainTextResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from api.demo_page import demo_routes
from api.files import serve_file
from api.graphql_view import GraphQLView
from api.health import Readiness, healthz, metrics_endpoint, portone_token_check, readyz
from api.logs import configure_logging, wants_json
from api.origins import cors_origin_regex
from api.middleware import BodySizeLimit, RequestId
from api.redirect import payment_complete
from api.webhooks import bootpay_webhook, portone_v1_webhook, portone_v2_webhook
from api.migrate import NotMigrated, current_revision, head_revision, upgrade_head
from schema import build_schema
from schema.app_services import PortOneClientConfig, Services
from services import metrics
from services.auth import AuthConfig, AuthService
from services.cancellation import CancelService
from services.charging import ChargeConfig, ChargeService
from services.db import Database
from services.files import FileConfig, FileService
from services.storage import Storage
from services.history import HistoryService
from services.items import ItemService
from services.questions import QuestionService
from services.ratelimit import RateLimitConfig, RateLimiter
from services.gateways.base import Gateway
from api.bootpay_config import bootpay_sandbox_key_problems, resolve_bootpay
from services.gateways.bootpay import BootpayClient
from services.gateways.portone.v1 import PortOneV1Client
from services.gateways.portone.v1_billing import PortOneV1Billing
from services.billing.attempt_reconcile import AttemptReconciler
from services.billing.card_charge import CardChargeService
from services.billing.cards import CardService
from services.billing.cycles import CycleCharger
from services.billing.runner import BillingRunner, SubscriptionJob
from services.billing.subscriptions import SubscriptionService
from services.gateways.portone.v2 import PortOneV2Client
from services.settings import PLACEHOLDER_SECRETS, Settings
from services.webhooks import WebhookService

log = logging.getLogger("pointcharge")
STATIC_DIR = Path(__file__).with_name("static")


class ConfigurationError(RuntimeError):
    pass


def sandbox_key_problems(settings: Settings) -> list[str]:
    """The sandbox's built-in PortOne keys are public (in this repository): in production they can
    only mean a copied sandbox configuration."""
    if not settings.is_production:
        return []
    try:
        from sandbox.portone.config import SandboxConfig
    except ImportError:  # an install without the emulator has no such defaults to copy
        return []
    defaults = SandboxConfig()
    problems: list[str] = []
    for name, value, default in (
        ("POINTCHARGE_PORTONE_IMP_KEY", settings.portone_imp_key, defaults.imp_key),
        ("POINTCHARGE_PORTONE_IMP_SECRET", settings.portone_imp_secret, defaults.imp_secret),
        ("POINTCHARGE_PORTONE_V2_SECRET", settings.portone_v2_secret, defaults.v2_api_secret),
        ("POINTCHARGE_PORTONE_WEBHOOK_SECRET", settings.portone_webhook_secret, defaults.v2_webhook_secret),
    ):
        if value is not None and default and value.get_secret_value() == default:
            problems.append(f"{name} is the PortOne sandbox's default key, not one from the PortOne console")
    return problems


def check_settings(settings: Settings) -> None:
    problems = settings.production_problems() + sandbox_key_problems(settings) + bootpay_sandbox_key_problems(settings)
    if problems:
        raise ConfigurationError(
            "production 모드 설정 오류 / refusing to start in production mode:\n- " + "\n- ".join(problems)
        )


async def ensure_migrated(settings: Settings, db: Database) -> None:
    head = head_revision(settings.database_url)
    current = await current_revision(db.engine)
    if current == head:
        return
    if settings.is_sqlite and not settings.is_production:
        # The embedded database migrates itself so that one command runs everything.
        await asyncio.to_thread(upgrade_head, settings.database_url)
        return
    raise NotMigrated(
        f"database is at revision {current or 'none'}, code expects {head}: "
        "run `pointcharge migrate` before starting the service"
    )


def build_ratelimiter(settings: Settings) -> RateLimiter:
    return RateLimiter(
        RateLimitConfig(
            storage=settings.rate_limit_storage,
            login_per_account=settings.rate_limit_login_account,
            login_per_ip=settings.rate_limit_login_ip,
            charge_per_user=settings.rate_limit_charge,
            prepare_per_user=settings.rate_limit_prepare,
            signup_per_ip=settings.rate_limit_signup,
            cancel_per_user=settings.rate_limit_cancel,
            item_per_user=settings.rate_limit_item,
            upload_per_user=settings.rate_limit_upload,
            password_reset_per_user=settings.rate_limit_password_reset,
            webhook_per_ip=settings.rate_limit_webhook,
            ipv6_prefix=settings.rate_limit_ipv6_prefix,
        )
    )


def build_services(settings: Settings, db: Database, http: httpx.AsyncClient) -> Services:
    ratelimiter = build_ratelimiter(settings)
    auth = AuthService(
        db,
        AuthConfig(
            jwt_secret=settings.jwt_secret.get_secret_value(),
            access_ttl_s=settings.access_token_ttl_s,
            refresh_ttl_s=settings.refresh_token_ttl_s,
            argon2_time_cost=settings.argon2_time_cost,
            argon2_memory_kib=settings.argon2_memory_kib,
            argon2_parallelism=settings.argon2_parallelism,
        ),
        ratelimiter=ratelimiter,
    )
    portone = resolve_portone(settings)
    portone_v1 = PortOneV1Client(
        http,
        base_url=portone.v1_base_url,
        imp_key=portone.imp_key,
        imp_secret=portone.imp_secret,
        timeout_s=settings.portone_timeout_s,
    )
    providers: list[Gateway] = [portone_v1]
    if portone.v2_secret:
        providers.append(
            PortOneV2Client(
                http,
                base_url=portone.v2_base_url,
                secret=portone.v2_secret,
                store_id=portone.store_id,
                timeout_s=settings.portone_timeout_s,
            )
        )
    bootpay = resolve_bootpay(settings, public_url(settings))
    if bootpay is not None:
        providers.append(
            BootpayClient(
                http,
                base_url=bootpay.base_url,
                application_id=bootpay.application_id,
                private_key=bootpay.private_key,
                client_key=bootpay.client_key,
                secret_key=bootpay.secret_key,
                timeout_s=settings.bootpay_timeout_s,
            )
        )
    packages = settings.charge_packages
    charging = ChargeService(
        db,
        providers,
        ChargeConfig(
            packages=None if packages == "any" else tuple(packages),  # type: ignore[arg-type]
            min_amount=settings.charge_min,
            max_amount=settings.charge_max,
            require_prepared_order=settings.require_prepared_order,
            balance_max=settings.balance_max,
        ),
    )
    billing_v1 = PortOneV1Billing(portone_v1)
    cards = CardService(db, {billing_v1.name: billing_v1}, pg=settings.portone_billing_pg)
    charge_lease_s = max(settings.billing_charge_lease_s, 3 * settings.portone_timeout_s)
    card_charges = CardChargeService(db, charging, cards, lease_s=charge_lease_s)
    # A subscription's claim outlasts its charge, a wait on the order's own claim included.
    run_lease_s = max(settings.billing_run_lease_s or 2 * charge_lease_s, charge_lease_s)
    cycles = CycleCharger(db, card_charges)
    subscriptions = SubscriptionService(db, charging, cards, cycles, lease_s=run_lease_s)
    cards.before_delete.append(subscriptions.cancel_for_card)
    billing = BillingRunner([
        ("subscriptions", SubscriptionJob(db, cycles, concurrency=settings.billing_concurrency, lease_s=run_lease_s)),
    ])
    return Services(
        cards=cards,
        card_charges=card_charges,
        subscriptions=subscriptions,
        billing=billing,
        billing_attempts=AttemptReconciler(db, charging, cards),
        settings=settings,
        auth=auth,
        charging=charging,
        history=HistoryService(db),
        cancels=CancelService(db, charging),
        webhooks=WebhookService(
            db,
            charging,
            allowed_ips=settings.webhook_allowed_ips,
            bootpay_allowed_ips=settings.bootpay_webhook_allowed_ips or (),
            v2_webhook_secrets=portone.webhook_secrets,
            ratelimiter=ratelimiter,
            dedup_s=settings.webhook_dedup_s,
            retry_max_attempts=settings.webhook_retry_max_attempts,
            retry_max_age=timedelta(hours=settings.webhook_retry_max_age_hours),
        ),
        portone_client=PortOneClientConfig(
            merchant_code=portone.merchant_code,
            pg=portone.pg,
            test_mode=portone.test_mode,
            store_id=portone.store_id if portone.v2_secret else None,
            channel_key=portone.channel_key if portone.v2_secret else None,
        ),
        bootpay_application_id=bootpay.web_application_id if bootpay is not None else None,
        ratelimit=ratelimiter,
        items=ItemService(db, price_max=settings.item_price_max, balance_max=settings.balance_max),
        questions=QuestionService(db),
        files=FileService(
            db,
            Storage(settings.storage_url, endpoint=settings.storage_endpoint),
            FileConfig(public_base=storage_public_base(settings), max_bytes=settings.upload_max_bytes),
        ),
    )


def storage_public_base(settings: Settings) -> str:
    """Where browsers fetch ``url``s: the configured base, else pointcharge's own ``/files/``."""
    base = settings.storage_public_base or f"{public_url(settings)}/files/"
    return base if base.endswith("/") else base + "/"


@dataclass(frozen=True)
class ResolvedPortOne:
    v1_base_url: str
    imp_key: str
    imp_secret: str
    merchant_code: str
    pg: str
    test_mode: bool
    v2_base_url: str
    v2_secret: str | None
    store_id: str | None
    channel_key: str | None
    webhook_secrets: tuple[str, ...]


def public_url(settings: Settings) -> str:
    return (settings.public_url or "http://127.0.0.1:8000").rstrip("/")


def resolve_portone(settings: Settings) -> ResolvedPortOne:
    """Explicit settings win; in sandbox mode the gaps are filled with the mounted sandbox."""

    def secret(value: object) -> str | None:
        return value.get_secret_value() if value is not None else None  # type: ignore[attr-defined]

    base = settings.portone_v1_base_url
    key, sec = secret(settings.portone_imp_key), secret(settings.portone_imp_secret)
    merchant, pg = settings.portone_merchant_code, settings.portone_pg
    v2_base, v2_secret = settings.portone_v2_base_url, secret(settings.portone_v2_secret)
    store_id, channel_key = settings.portone_store_id, settings.portone_channel_key
    hook_secrets = [secret(settings.portone_webhook_secret), secret(settings.portone_webhook_secret_previous)]
    if not settings.is_production:
        from sandbox.portone.config import SandboxConfig

        defaults = SandboxConfig()
        base = base or f"{public_url(settings)}/sandbox/portone/v1"
        key, sec = key or defaults.imp_key, sec or defaults.imp_secret
        merchant, pg = merchant or defaults.merchant_code, pg or defaults.pg
        v2_base = v2_base or f"{public_url(settings)}/sandbox/portone/v2"
        v2_secret = v2_secret or defaults.v2_api_secret
        store_id, channel_key = store_id or defaults.store_id, channel_key or defaults.channel_key
        hook_secrets[0] = hook_secrets[0] or defaults.v2_webhook_secret
    return ResolvedPortOne(
        v1_base_url=base or "https://api.iamport.kr",
        imp_key=key or "",
        imp_secret=sec or "",
        merchant_code=merchant or "",
        pg=pg or "html5_inicis",
        test_mode=not settings.is_production or "/sandbox/" in (base or ""),
        v2_base_url=v2_base or "https://api.portone.io",
        v2_secret=v2_secret,
        store_id=store_id,
        channel_key=channel_key,
        webhook_secrets=tuple(h for h in hook_secrets if h),
    )


def portone_transport(limits: httpx.Limits) -> httpx.AsyncBaseTransport:
    """PortOne's HTTP transport: aiohttp's connection pool under the httpx API when httpx-aiohttp
    is installed. httpx's own pool costs more CPU per request and collapses under concurrency
    (docs/PERFORMANCE.md); the PortOne clients see the same httpx API and exceptions either way."""
    try:
        from httpx_aiohttp import AiohttpTransport
    except ImportError:  # pragma: no cover - a dependency; the fallback keeps odd installs working
        return httpx.AsyncHTTPTransport(limits=limits)
    return AiohttpTransport(limits=limits)


def open_database(settings: Settings) -> Database:
    return Database.from_url(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        busy_timeout_ms=settings.sqlite_busy_timeout_ms,
    )


class _NoCookies(httpx.Cookies):
    def extract_cookies(self, response: httpx.Response) -> None:
        pass


class CookielessClient(httpx.AsyncClient):
    """An ``httpx.AsyncClient`` that neither stores nor sends cookies. PortOne's API authenticates
    with a token; a cookie in one of its answers (a load balancer's affinity cookie, say) must not
    ride along on every later call of a client that all users' requests share. It also saves
    httpx's per-response cookie parsing (e-mail header parsing through ``http.cookiejar``, about
    3 % of a charge's CPU; docs/PERFORMANCE.md)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cookies = None  # httpx's __init__ sets its jar without the setter below

    @property  # type: ignore[override]
    def cookies(self) -> httpx.Cookies:
        return self._no_cookies

    @cookies.setter
    def cookies(self, _value: object) -> None:
        self._no_cookies = _NoCookies()


def portone_http(settings: Settings) -> httpx.AsyncClient:
    """The one HTTP client every PortOne call of a process shares (API, CLI, reconciler). Latency
    by endpoint comes from event hooks; failures (no response, so no hook) from the transport."""
    return CookielessClient(
        timeout=httpx.Timeout(settings.portone_timeout_s, connect=5.0),
        transport=metrics.MeasuredTransport(
            portone_transport(
                # Idle connections are dropped before the server's keep-alive (uvicorn's 5 s, the
                # sandbox's) would close them: reusing one as it closes fails the request, and
                # cancels/prepares are not retried.
                httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=4.0)
            )
        ),
        event_hooks=metrics.portone_event_hooks(),
    )


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings()
    configure_logging(json=wants_json(settings), level=settings.log_level)
    check_settings(settings)
    graphql = _LazyGraphQL()
    sandbox = None if settings.is_production else build_sandbox(settings)
    bootpay_sandbox = None if settings.is_production else build_bootpay_sandbox(settings)
    settings = with_install_jwt_secret(settings, sandbox)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        db = open_database(settings)
        http = portone_http(settings)
        metrics.track_pool(db.engine)
        try:
            await ensure_migrated(settings, db)
            services = build_services(settings, db, http)
            graphql.view = GraphQLView(
                build_schema(settings),
                services=services,
                graphql_ide="graphiql" if settings.graphiql else None,
                allow_queries_via_get=False,
                multipart_uploads_enabled=True,  # only for uploads: GraphQLView.parse_multipart
                max_form_field_bytes=settings.max_body_bytes,
            )
            app.state.db = db
            app.state.services = services
            app.state.readiness = Readiness(
                db,
                portone_token_check(services.charging) if settings.is_production else None,
                cache_s=settings.readiness_cache_s,
            )
            tasks: list[asyncio.Task[None]] = []
            if settings.storage_cleanup_every and services.files is not None:
                from api.periodic import clean_files_forever

                tasks.append(asyncio.create_task(clean_files_forever(
                    services.files, settings.storage_cleanup_every,
                    timedelta(hours=settings.storage_cleanup_after_hours),
                )))
            if settings.billing_every and services.billing is not None:
                from services.billing.runner import run_forever

                tasks.append(asyncio.create_task(run_forever(services.billing, settings.billing_every)))
            if settings.reconcile_every:
                from api.periodic import reconcile_forever

                tasks.append(asyncio.create_task(
                    reconcile_forever(
                        services, db, settings.reconcile_every, timedelta(days=settings.reconcile_window_days)
                    )
                ))
            try:
                yield
            finally:
                for task in tasks:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
                if services.ratelimit is not None:
                    await services.ratelimit.close()
        finally:
            if sandbox is not None:
                # Mounted apps get no lifespan of their own: stop its webhooks, close its state file.
                await sandbox.state.sandbox.aclose()
            if bootpay_sandbox is not None:
                await bootpay_sandbox.state.bootpay.aclose()
            await http.aclose()
            metrics.untrack_pool(db.engine)
            await db.dispose()
            metrics.process_exiting()

    routes: list[BaseRoute] = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        Route("/webhooks/portone", portone_v1_webhook, methods=["POST"]),
        Route("/webhooks/portone/v2", portone_v2_webhook, methods=["POST"]),
        Route("/webhooks/bootpay", bootpay_webhook, methods=["POST"]),
        Route("/payments/complete", payment_complete, methods=["GET"]),
        Route("/files/{bucket}/{key:path}", serve_file, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
    ]
    if STATIC_DIR.is_dir():
        routes.append(Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"))
    if sandbox is not None:
        routes.append(Mount("/sandbox/portone", app=sandbox, name="sandbox"))
    if bootpay_sandbox is not None:
        routes.append(Mount("/sandbox/bootpay", app=bootpay_sandbox, name="sandbox-bootpay"))
    if settings.demo_page:  # POINTCHARGE_DEMO_PAGE; on in sandbox, off in production
        routes.extend(demo_routes(settings))

    middleware = [
        Middleware(RequestId),  # outermost: every response (413s and CORS preflights too) gets an id
        Middleware(
            BodySizeLimit,
            max_bytes=settings.max_body_bytes,
            # An upload: the file, plus operations and map (each within the ordinary limit).
            upload_max_bytes=settings.upload_max_bytes + 2 * settings.max_body_bytes,
        ),
        Middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            # Sandbox: any localhost/127.0.0.1 port (Vite dev 5173, preview 4173, …); production: None.
            allow_origin_regex=cors_origin_regex(settings),
            allow_credentials=True,
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "Apollo-Require-Preflight", "X-Request-ID"],
            expose_headers=["X-Request-ID"],  # so that a frontend can quote it in a bug report
            max_age=600,
        ),
    ]
    return Starlette(routes=routes, middleware=middleware, lifespan=lifespan)


def build_sandbox(settings: Settings) -> Starlette | None:
    try:
        from sandbox.portone.app import create_app as create_sandbox
        from sandbox.portone.config import SandboxConfig
    except ImportError:  # the emulator is optional in an install
        return None
    base = public_url(settings)
    config = SandboxConfig(
        webhook_url=f"{base}/webhooks/portone",
        v2_webhook_url=f"{base}/webhooks/portone/v2",
        state_path=settings.sandbox_state_path,
    )
    return create_sandbox(config)


def build_bootpay_sandbox(settings: Settings) -> Starlette | None:
    """The Bootpay emulator, with its own state file beside the PortOne one. Its webhooks go to
    POINTCHARGE_SANDBOX_BOOTPAY_WEBHOOK_URL, by default this API's /webhooks/bootpay."""
    try:
        from sandbox.bootpay import BootpayConfig, create_app as create_bootpay
        from sandbox.bootpay.config import state_path_next_to, webhook_url_from_env
    except ImportError:  # the emulator is optional in an install
        return None
    config = BootpayConfig(
        webhook_url=webhook_url_from_env(f"{public_url(settings)}/webhooks/bootpay"),
        state_path=state_path_next_to(settings.sandbox_state_path),
    )
    return create_bootpay(config)


def with_install_jwt_secret(settings: Settings, sandbox: Starlette | None) -> Settings:
    """Sandbox mode without POINTCHARGE_JWT_SECRET signs with a random key made once per install
    and kept in the sandbox's state file, so logins survive a restart and no key is a constant in
    the code (production refuses to start without a real one: check_settings)."""
    if settings.is_production or settings.jwt_secret.get_secret_value().lower() not in PLACEHOLDER_SECRETS:
        return settings
    if sandbox is not None:
        key = sandbox.state.sandbox.install_secret("pointcharge-jwt")
    else:
        key = secrets.token_urlsafe(48)  # no sandbox to keep it in: this process only
    return settings.model_copy(update={"jwt_secret": SecretStr(key)})


class _LazyGraphQL:
    """The Strawberry view needs the services, which exist only once the lifespan has run."""

    def __init__(self) -> None:
        self.view: GraphQLView | None = None

    async def __call__(self, scope, receive, send):  # type: ignore[no-untyped-def]
        if self.view is None:
            response = PlainTextResponse("starting", status_code=503)
            await response(scope, receive, send)
            return
        await self.view(scope, receive, send)


def app_factory() -> Starlette:
    """For ``uvicorn --factory api.app:app_factory`` (and ``pointcharge serve --workers N``)."""
    return create_app()
