"""Configuration, read once by the composition root (api.app) from the environment.

Every variable is prefixed with ``POINTCHARGE_`` and may come from a ``.env`` file.
Secrets are ``SecretStr`` so that they never show up in a repr, a log line or a traceback.
"""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from pathlib import PurePath
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# Values a developer might paste from an example; production refuses to start with any of them.
PLACEHOLDER_SECRETS = frozenset(
    {"", "changeme", "change-me", "secret", "dev", "development", "sandbox-insecure-jwt-secret"}
)
DEFAULT_SQLITE_URL = "sqlite+aiosqlite:///./pointcharge.db"
BOOTPAY_BASE_URL = "https://api.bootpay.co.kr/v2"
# Where Bootpay sends webhooks from (its developer docs; the only authentication they have).
BOOTPAY_WEBHOOK_SOURCES = ["223.130.82.0/24"]
LOOPBACK = ["127.0.0.0/8", "::1"]


class Mode(StrEnum):
    SANDBOX = "sandbox"
    PRODUCTION = "production"


def points_at_a_sandbox(url: str) -> bool:
    """Whether a gateway's base URL (PortOne, Bootpay) can only be an emulator: the sandbox's path, or a host on this
    machine (``localhost``, a loopback or unspecified address, IPv6 and IPv4-mapped ones too)."""
    if "/sandbox/" in url:
        return True
    try:
        host = (urlsplit(url.strip()).hostname or "").lower().rstrip(".")
    except ValueError:
        return True  # not a URL at all: not PortOne either
    if not host or host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback or address.is_unspecified


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="POINTCHARGE_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    mode: Mode = Mode.SANDBOX
    database_url: str = DEFAULT_SQLITE_URL
    db_pool_size: int = 10
    db_max_overflow: int = 10
    # SQLite writers queue on the file lock; wait this long before "database is locked".
    sqlite_busy_timeout_ms: int = 15_000

    jwt_secret: SecretStr = SecretStr("sandbox-insecure-jwt-secret")
    access_token_ttl_s: int = 30 * 60
    refresh_token_ttl_s: int = 14 * 24 * 3600
    cookie_secure: bool | None = None  # None: secure in production, not in sandbox (plain http localhost)
    cookie_samesite: str = "lax"

    # Argon2id cost. The defaults are argon2-cffi's RFC 9106 low-memory profile; tests lower them.
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65_536
    argon2_parallelism: int = 4

    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Where the mobile redirect sends the browser back. None (unset): the API's own origin when the
    # demo page is on (it serves the result page), http://localhost:3000 otherwise.
    frontend_url: str | None = None
    # The mobile redirect sends the browser to frontend_url + this path + ?outcome=…&imp_uid=…
    redirect_result_path: str = "/payments/result"
    # Optional allow-list (IPs or CIDRs) for webhook sources; off by default: PortOne changes its IPs.
    webhook_allowed_ips: Annotated[list[str], NoDecode] = Field(default_factory=list)

    graphiql: bool | None = None  # None: on in sandbox, off in production
    demo_page: bool | None = None  # the checkout demo at / (api/demo); None: on in sandbox, off in production
    introspection: bool | None = None  # None: on in sandbox, off in production
    graphql_max_depth: int = 12
    graphql_max_aliases: int = 30
    graphql_max_tokens: int = 4_000
    graphql_cache_size: int = 512
    # A document's cost (schema/cost.py) must not exceed this, else QUERY_TOO_COMPLEX before it runs;
    # callers without a valid access token get the lower budget.
    graphql_max_cost: int = 5_000
    graphql_max_cost_anonymous: int = 1_000
    max_body_bytes: int = 256 * 1024

    # Rate limits (services/ratelimit.py): "memory://" (per instance) or "redis://host:6379/0" (shared
    # by every instance). Limits are `limits` strings ("5/minute;20/hour") or "off".
    rate_limit_storage: str = "memory://"
    rate_limit_login_account: str = "5/minute;20/hour"  # failed logins per account
    rate_limit_login_ip: str = "30/minute;300/hour"  # failed logins per client IP
    rate_limit_charge: str = "120/minute"  # createPointTransactionOfLoading per user
    rate_limit_prepare: str = "60/minute"  # preparePointCharge per user
    # Issue 18 (docs/RELIABILITY.md, "Rate limits"): sign-ups per client IP; cancels, password resets
    # and item writes per user; /webhooks/portone and /payments/complete per client IP (each its own
    # count; addresses in webhook_allowed_ips are exempt). All `limits` strings or "off".
    rate_limit_signup: str = "20/minute;200/hour"
    rate_limit_cancel: str = "10/minute;50/hour"
    rate_limit_password_reset: str = "5/minute;20/hour"
    rate_limit_item: str = "60/minute;1000/hour"
    rate_limit_upload: str = "30/minute;300/hour"  # uploadFile per user
    # PortOne sends from a few addresses: 1,200 a minute from each is ~60 webhooks a second from
    # three of them, many times a busy shop's peak (two webhooks per payment at most, usually one).
    rate_limit_webhook: str = "1200/minute"
    # Per-IP limits count an IPv6 client by this prefix (one host holds a whole /64); 1..128.
    rate_limit_ipv6_prefix: int = Field(default=64, ge=1, le=128)
    # One PortOne lookup per payment (V2: per signed event type) per this many seconds, however many
    # webhooks name it, and one more after it when another status was claimed; 0 = off. Only saves PortOne calls: every sync is idempotent.
    webhook_dedup_s: float = 5.0
    # Reconciliation retries a failed delivery this many times / for this long, then reports it
    # "abandoned" (a forged webhook for a payment that does not exist fails forever).
    webhook_retry_max_attempts: int = 5
    webhook_retry_max_age_hours: float = 72.0
    # resetUserPassword(password) has no old password: it needs a login younger than this (seconds).
    password_reset_max_age: int = 10 * 60
    # Production refuses SQLite unless this is set (one machine, one writer at a time).
    allow_sqlite_in_production: bool = False
    # /metrics: served to loopback, or to anyone presenting "Authorization: Bearer <token>".
    metrics_token: SecretStr | None = None

    # PortOne. In sandbox mode, the base URLs and keys default to the built-in sandbox.
    portone_v1_base_url: str | None = None
    portone_imp_key: SecretStr | None = None
    portone_imp_secret: SecretStr | None = None
    portone_merchant_code: str | None = None  # "imp12345678", what the browser passes to IMP.init
    portone_pg: str | None = None
    portone_timeout_s: float = 10.0
    # Saved cards (정기결제, issue 25): the PG (and MID) that issues billing keys in the browser's
    # IMP.request_pay({customer_uid, amount: 0}), and how long a one-click charge's claim on its
    # order lasts (longer than a PortOne call can take: a lapsed claim is taken over, after a look-up).
    portone_billing_pg: str = "html5_inicis.INIBillTst"
    billing_charge_lease_s: float = 30.0
    # Monthly subscriptions' runner (services/billing/runner.py): `serve` runs what is due every N
    # seconds (0 = off: run `pointcharge billing run` from cron instead); each process charges at
    # most N at a time; a runner's claim on a subscription lasts N seconds (None: twice the charge
    # lease above; never shorter than it).
    billing_every: float = Field(default=60.0, ge=0)
    billing_concurrency: int = Field(default=8, ge=1, le=256)
    billing_run_lease_s: float | None = Field(default=None, gt=0)
    # PortOne V2 (optional in production: set the secret to enable it next to V1).
    portone_v2_base_url: str | None = None
    portone_v2_secret: SecretStr | None = None
    portone_store_id: str | None = None
    portone_channel_key: str | None = None  # what the browser SDK's requestPayment needs
    portone_webhook_secret: SecretStr | None = None  # V2 webhooks, "whsec_…"
    # During a rotation PortOne may still sign with the old secret: both are accepted.
    portone_webhook_secret_previous: SecretStr | None = None

    # Bootpay (부트페이), REST API v2. Sandbox: on, pointed at the mounted emulator with its keys
    # (explicit settings win). Production: on once a REST credential pair is set. Either pair works;
    # client_key + secret_key (Basic auth, no token call) is used when both pairs are set.
    bootpay_enabled: bool | None = None  # None: on in sandbox; in production, on when keys are set
    bootpay_base_url: str | None = None  # None: https://api.bootpay.co.kr/v2 (the sandbox's in sandbox mode)
    bootpay_client_key: str | None = None
    bootpay_secret_key: SecretStr | None = None
    bootpay_application_id: str | None = None  # the REST application id (legacy token credentials)
    bootpay_private_key: SecretStr | None = None
    # What the browser SDK's requestPayment needs (Bootpay's "Web" application id, not the REST one).
    bootpay_web_application_id: str | None = None
    bootpay_timeout_s: float = 10.0
    # Sources allowed to post /webhooks/bootpay (IPs or CIDRs). Bootpay signs nothing: its address
    # range is the only proof of origin. None: Bootpay's range in production, loopback in sandbox.
    bootpay_webhook_allowed_ips: Annotated[list[str] | None, NoDecode] = None

    # Charge amounts offered to users. Card companies' merchant review rejects services whose
    # customers type the amount, so the default is a fixed list; "any" allows min..max.
    charge_packages: Annotated[list[int] | str, NoDecode] = Field(
        default_factory=lambda: [1_000, 5_000, 10_000, 30_000, 50_000, 100_000]
    )
    charge_min: int = 100
    charge_max: int = 2_000_000
    require_prepared_order: bool = False

    # Items for sale (services/items.py): the highest price a seller may set, in KRW.
    item_price_max: int = Field(default=100_000_000, ge=1)
    # The highest balance a user may hold (services/ledger.py); never above 2,147,483,647, GraphQL's
    # Int. A charge past it is refused (BALANCE_LIMIT_EXCEEDED) and refunded, a sale past it refused.
    balance_max: int = Field(default=2_147_483_647, ge=1, le=2_147_483_647)

    # Uploads (services/files.py). An uploaded image's url is "<bucket>/<yyyy>/<m>/<d>/<random>.<ext>",
    # its object key in the store the part after "<bucket>/"; browsers fetch storage_public_base + url.
    upload_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1)
    # file:///abs/dir (or a plain path), s3://bucket/prefix, gs://bucket/prefix; credentials come from
    # the environment as obstore reads them (AWS_*, GOOGLE_*). Default: ./pointcharge-files.
    storage_url: str = "./pointcharge-files"
    # S3-compatible servers (MinIO, R2, moto…): their endpoint; http:// is allowed for it.
    storage_endpoint: str | None = None
    # None: "<public_url>/files/" (pointcharge serves the store itself at /files/<url>).
    storage_public_base: str | None = None
    # Unused uploads older than storage_cleanup_after_hours are deleted this often (seconds; 0 = off).
    storage_cleanup_every: float = 3600
    storage_cleanup_after_hours: float = 24

    # Periodic reconciliation inside `serve` (seconds; 0 = off) over the last N days.
    reconcile_every: float = 0
    reconcile_window_days: float = 2

    # The mounted PortOne sandbox's state file (payments, orders, tokens, webhook log), so that a
    # restart forgets nothing; ":memory:" keeps nothing. None: next to the SQLite database
    # (./pointcharge.db -> ./pointcharge-sandbox.db), or ./pointcharge-sandbox.db for PostgreSQL.
    sandbox_state: str | None = None

    # Host/port the API serves on; the mounted sandbox uses them to reach our webhook.
    public_url: str | None = None

    # Logs: "json" or "console"; unset: JSON in production, console lines in sandbox.
    log_format: Literal["json", "console"] | None = None
    log_level: str = "info"
    # /readyz caches its PortOne check this long: load balancers poll it every few seconds.
    readiness_cache_s: float = 5.0

    @field_validator("cors_origins", "webhook_allowed_ips", "bootpay_webhook_allowed_ips", mode="before")
    @classmethod
    def _parse_origins(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("charge_packages", mode="before")
    @classmethod
    def _parse_packages(cls, value: object) -> object:
        if isinstance(value, str):
            if value.strip().lower() == "any":
                return "any"
            try:
                amounts = sorted({int(v) for v in _split_csv(value)})  # type: ignore[union-attr]
            except ValueError:
                raise ValueError("POINTCHARGE_CHARGE_PACKAGES: comma-separated KRW amounts or 'any'") from None
            if not amounts or amounts[0] <= 0:
                raise ValueError("POINTCHARGE_CHARGE_PACKAGES: amounts must be positive")
            return amounts
        return value

    @model_validator(mode="after")
    def _defaults_by_mode(self) -> "Settings":
        production = self.mode is Mode.PRODUCTION
        if self.graphiql is None:
            self.graphiql = not production
        if self.introspection is None:
            self.introspection = not production
        if self.cookie_secure is None:
            self.cookie_secure = production
        if self.demo_page is None:
            self.demo_page = not production
        if self.bootpay_webhook_allowed_ips is None:
            self.bootpay_webhook_allowed_ips = list(BOOTPAY_WEBHOOK_SOURCES if production else LOOPBACK)
        if self.bootpay_enabled is None:
            self.bootpay_enabled = not production or self.bootpay_has_keys
        if not self.frontend_url:
            self.frontend_url = None if self.demo_page else "http://localhost:3000"
        if not self.cors_origins and not production:
            self.cors_origins = [
                "http://localhost:3000",
                "http://127.0.0.1:3000",
                "http://localhost:5173",
                "http://127.0.0.1:5173",
            ]
        return self

    @property
    def is_production(self) -> bool:
        return self.mode is Mode.PRODUCTION

    @property
    def bootpay_has_keys(self) -> bool:
        """Whether a REST credential pair for Bootpay is configured (either one)."""
        secret = self.bootpay_secret_key.get_secret_value() if self.bootpay_secret_key else ""
        private = self.bootpay_private_key.get_secret_value() if self.bootpay_private_key else ""
        return bool((self.bootpay_client_key and secret) or (self.bootpay_application_id and private))

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def sandbox_state_path(self) -> str:
        if self.sandbox_state:
            return self.sandbox_state
        if not self.is_sqlite:
            return "./pointcharge-sandbox.db"
        # sqlite+aiosqlite:///<path>[?query]; no path (or :memory:) is an in-memory database.
        path = self.database_url.partition(":///")[2].partition("?")[0]
        if not path or path == ":memory:":
            return ":memory:"
        database = PurePath(path)
        return str(database.with_name(database.stem + "-sandbox.db"))

    def production_problems(self) -> list[str]:
        """What keeps this configuration from being safe to run with real money."""
        problems: list[str] = []
        if not self.is_production:
            return problems
        secret = self.jwt_secret.get_secret_value()
        if secret.lower() in PLACEHOLDER_SECRETS or len(secret) < 32:
            problems.append(
                "POINTCHARGE_JWT_SECRET is empty, a placeholder or shorter than 32 characters"
            )
        for name in ("portone_v1_base_url", "portone_imp_key", "portone_imp_secret"):
            value = getattr(self, name)
            if value is None or (isinstance(value, SecretStr) and not value.get_secret_value()):
                problems.append(f"POINTCHARGE_{name.upper()} is not set")
        base = self.portone_v1_base_url or ""
        if base and points_at_a_sandbox(base):
            problems.append("POINTCHARGE_PORTONE_V1_BASE_URL points at a sandbox, not PortOne")
        v2_base = self.portone_v2_base_url or ""
        if v2_base and points_at_a_sandbox(v2_base):
            problems.append("POINTCHARGE_PORTONE_V2_BASE_URL points at a sandbox, not PortOne")
        problems.extend(self.bootpay_problems())
        problems.extend(self.unsafe_production_settings())
        return problems

    def bootpay_problems(self) -> list[str]:
        """Production: no half credential pair, no emulator URL; with Bootpay on, REST keys and the
        id the browser needs."""
        if not self.is_production:
            return []
        problems: list[str] = []
        secret = self.bootpay_secret_key.get_secret_value() if self.bootpay_secret_key else ""
        private = self.bootpay_private_key.get_secret_value() if self.bootpay_private_key else ""
        for have, lack, a, b in (
            (self.bootpay_client_key, secret, "CLIENT_KEY", "SECRET_KEY"),
            (secret, self.bootpay_client_key, "SECRET_KEY", "CLIENT_KEY"),
            (self.bootpay_application_id, private, "APPLICATION_ID", "PRIVATE_KEY"),
            (private, self.bootpay_application_id, "PRIVATE_KEY", "APPLICATION_ID"),
        ):
            if have and not lack:
                problems.append(f"POINTCHARGE_BOOTPAY_{a} is set without POINTCHARGE_BOOTPAY_{b}")
        if self.bootpay_base_url and points_at_a_sandbox(self.bootpay_base_url):
            problems.append("POINTCHARGE_BOOTPAY_BASE_URL points at a sandbox, not Bootpay")
        if not self.bootpay_enabled:
            return problems
        if not self.bootpay_has_keys:
            problems.append(
                "POINTCHARGE_BOOTPAY_ENABLED is on without REST keys (POINTCHARGE_BOOTPAY_CLIENT_KEY + "
                "POINTCHARGE_BOOTPAY_SECRET_KEY, or POINTCHARGE_BOOTPAY_APPLICATION_ID + POINTCHARGE_BOOTPAY_PRIVATE_KEY)"
            )
        if not self.bootpay_web_application_id:
            problems.append(
                "POINTCHARGE_BOOTPAY_WEB_APPLICATION_ID is not set: browsers cannot open Bootpay's payment window"
            )
        return problems

    def unsafe_production_settings(self) -> list[str]:
        """Settings that are fine on a laptop and unsafe with real money (issue 18). The API always
        allows credentials (the refresh cookie), so a wildcard origin would hand every site the
        users' sessions; SameSite=None without Secure is dropped by browsers or sent over HTTP."""
        problems: list[str] = []
        if not self.is_production:
            return problems
        if "*" in self.cors_origins:
            problems.append(
                'POINTCHARGE_CORS_ORIGINS is "*" while credentials (the refresh cookie) are allowed: '
                "list your frontends' origins"
            )
        if any(origin.strip().lower() == "null" for origin in self.cors_origins):
            # Origin: null is what sandboxed iframes, file:// pages and some redirects send: any
            # site can produce it, so allowing it with credentials is allowing every site.
            problems.append(
                'POINTCHARGE_CORS_ORIGINS contains "null" (sent by sandboxed iframes and file:// pages, which '
                "any site can make) while credentials are allowed: list your frontends' origins"
            )
        if self.cookie_samesite.strip().lower() == "none" and not self.cookie_secure:
            problems.append(
                "POINTCHARGE_COOKIE_SAMESITE=none without POINTCHARGE_COOKIE_SECURE=true: the refresh cookie "
                "would be sent over plain HTTP (browsers refuse it)"
            )
        if self.is_sqlite and not self.allow_sqlite_in_production:
            problems.append(
                "POINTCHARGE_DATABASE_URL is SQLite (one machine, one writer): use PostgreSQL, or set "
                "POINTCHARGE_ALLOW_SQLITE_IN_PRODUCTION=true for a deliberate single-instance setup"
            )
        return problems

