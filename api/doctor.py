"""``pointcharge doctor``: is this configuration ready to take real money?

Reads the configuration the way ``serve`` does (environment, ``.env``), checks it for production —
secrets, PortOne keys, the public webhook URL, CORS, the database and its migrations, the sandbox and
the developer tools — and prints every problem with how to fix it. Exit 0 when clean, 1 otherwise.
Warnings (worth a look, not wrong) do not change the exit code.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TextIO
from urllib.parse import urlsplit

from pydantic import SecretStr, ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from api.migrate import current_revision, head_revision
from services.settings import PLACEHOLDER_SECRETS, Settings

Severity = Literal["problem", "warning"]


@dataclass(frozen=True)
class Finding:
    check: str  # the variable (or area) concerned, e.g. POINTCHARGE_JWT_SECRET
    message: str
    fix: str
    severity: Severity = "problem"


@dataclass(frozen=True)
class DatabaseStatus:
    backend: str  # "postgresql", "sqlite", …
    reachable: bool
    revision: str | None = None  # what the database is at (None: never migrated)
    head: str | None = None  # what the code expects
    error: str | None = None


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)

    def problem(self, check: str, message: str, fix: str) -> None:
        self.findings.append(Finding(check, message, fix))

    def warning(self, check: str, message: str, fix: str) -> None:
        self.findings.append(Finding(check, message, fix, "warning"))

    @property
    def problems(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "problem"]


DatabaseCheck = Callable[[str], Awaitable[DatabaseStatus]]


async def database_status(url: str, *, timeout_s: float = 10.0) -> DatabaseStatus:
    """Connects to the database and reads its Alembic revision (a real query)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    head = head_revision(url)
    if backend == "sqlite" and parsed.database and not Path(parsed.database).exists():
        # Connecting would create an empty file.
        return DatabaseStatus(backend, False, head=head, error=f"{parsed.database} does not exist")
    connect_args = {"timeout": 5} if backend == "postgresql" else {}
    engine = create_async_engine(url, connect_args=connect_args)
    try:
        revision = await asyncio.wait_for(current_revision(engine), timeout=timeout_s)
    except Exception as exc:  # noqa: BLE001 - reported, with its type and message
        return DatabaseStatus(backend, False, head=head, error=f"{type(exc).__name__}: {exc}"[:300])
    finally:
        await engine.dispose()
    return DatabaseStatus(backend, True, revision=revision, head=head)


def _secret(value: SecretStr | None) -> str:
    return value.get_secret_value() if value is not None else ""


def _public_host_problem(url: str) -> str | None:
    """Why PortOne (on the internet) could not reach this URL over HTTPS, or None."""
    parts = urlsplit(url)
    if parts.scheme != "https":
        return f"{url} is not https"
    host = (parts.hostname or "").lower()
    if not host:
        return f"{url} has no host"
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal", ".lan")):
        return f"{url} is a local name"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if not address.is_global:
        return f"{url} is a private, loopback or reserved address"
    return None


_SECRET_FIX = 'set it to 32+ random characters: python -c "import secrets; print(secrets.token_urlsafe(48))"'


def diagnose(settings: Settings, db: DatabaseStatus | None) -> Report:
    report = Report()
    p, ok = report.problem, report.passed.append

    # Mode and the developer conveniences that production must not expose.
    if settings.is_production:
        ok("POINTCHARGE_MODE is production (the PortOne sandbox is not mounted)")
    else:
        p(
            "POINTCHARGE_MODE",
            f"mode is {settings.mode.value!r}: the PortOne sandbox is mounted and sandbox defaults apply",
            "set POINTCHARGE_MODE=production",
        )
    for name, on, what in (
        ("POINTCHARGE_GRAPHIQL", settings.graphiql, "GraphiQL is served at /graphql"),
        ("POINTCHARGE_INTROSPECTION", settings.introspection, "schema introspection is allowed"),
        ("POINTCHARGE_DEMO_PAGE", settings.demo_page, "the checkout demo page is served at /"),
    ):
        if on:
            p(name, what, f"unset {name} (off in production) or set {name}=false")
        else:
            ok(f"{name} is off")
    if not settings.cookie_secure:
        p(
            "POINTCHARGE_COOKIE_SECURE",
            "the refresh-token cookie is sent over plain HTTP",
            "unset POINTCHARGE_COOKIE_SECURE (on in production) or set it to true",
        )

    # Secrets.
    jwt = settings.jwt_secret.get_secret_value()
    if jwt.lower() in PLACEHOLDER_SECRETS:
        p("POINTCHARGE_JWT_SECRET", "the JWT secret is empty or a placeholder", _SECRET_FIX)
    elif len(jwt) < 32:
        p("POINTCHARGE_JWT_SECRET", f"the JWT secret is {len(jwt)} characters long (32 at least)", _SECRET_FIX)
    elif len(set(jwt)) < 10:
        p("POINTCHARGE_JWT_SECRET", "the JWT secret repeats a few characters: it is not random", _SECRET_FIX)
    else:
        ok("POINTCHARGE_JWT_SECRET is set and strong")

    # PortOne V1 (always on).
    base = settings.portone_v1_base_url or ""
    if not base:
        p(
            "POINTCHARGE_PORTONE_V1_BASE_URL",
            "PortOne's V1 API URL is not set",
            "set POINTCHARGE_PORTONE_V1_BASE_URL=https://api.iamport.kr",
        )
    elif "/sandbox/" in base or not base.startswith("https://") or _public_host_problem(base):
        p(
            "POINTCHARGE_PORTONE_V1_BASE_URL",
            f"{base} is not PortOne (a sandbox, a local address or not https)",
            "set POINTCHARGE_PORTONE_V1_BASE_URL=https://api.iamport.kr",
        )
    else:
        ok(f"PortOne V1 at {base}")
    for name, value in (
        ("POINTCHARGE_PORTONE_IMP_KEY", _secret(settings.portone_imp_key)),
        ("POINTCHARGE_PORTONE_IMP_SECRET", _secret(settings.portone_imp_secret)),
        ("POINTCHARGE_PORTONE_MERCHANT_CODE", settings.portone_merchant_code or ""),
    ):
        if value:
            ok(f"{name} is set")
        else:
            p(name, "not set", f"copy it from the PortOne console (결제연동 → 식별코드 · API Keys) into {name}")

    # PortOne V2 (optional; once its API secret is set, the rest of it is needed too).
    v2_base = settings.portone_v2_base_url
    if v2_base and ("/sandbox/" in v2_base or _public_host_problem(v2_base)):
        p(
            "POINTCHARGE_PORTONE_V2_BASE_URL",
            f"{v2_base} is not PortOne (a sandbox, a local address or not https)",
            "unset POINTCHARGE_PORTONE_V2_BASE_URL (https://api.portone.io is the default)",
        )
    if _secret(settings.portone_v2_secret):
        for name, value, fix in (
            ("POINTCHARGE_PORTONE_STORE_ID", settings.portone_store_id, "the store id (store-…) from the console"),
            ("POINTCHARGE_PORTONE_CHANNEL_KEY", settings.portone_channel_key, "the channel key (channel-key-…)"),
            (
                "POINTCHARGE_PORTONE_WEBHOOK_SECRET",
                _secret(settings.portone_webhook_secret),
                "the V2 webhook secret (whsec_…); without it every V2 webhook is rejected",
            ),
        ):
            if value:
                ok(f"{name} is set")
            else:
                p(name, "not set while PortOne V2 is enabled (POINTCHARGE_PORTONE_V2_SECRET)", f"set {name}: {fix}")

    _bootpay(report, settings)

    # Where PortOne and browsers reach us.
    public = settings.public_url or ""
    if not public:
        p(
            "POINTCHARGE_PUBLIC_URL",
            "not set: the webhook URL to give PortOne is unknown",
            "set POINTCHARGE_PUBLIC_URL to the public https origin of this API, e.g. https://api.example.com",
        )
    elif reason := _public_host_problem(public):
        p(
            "POINTCHARGE_PUBLIC_URL",
            f"{reason}: PortOne cannot deliver webhooks to it",
            "set POINTCHARGE_PUBLIC_URL to the public https origin of this API (TLS ends at your proxy)",
        )
    else:
        root = public.rstrip("/")
        ok(f"webhook URLs for the PortOne console: {root}/webhooks/portone (V1), {root}/webhooks/portone/v2 (V2)")

    origins = settings.cors_origins
    if "*" in origins:
        p(
            "POINTCHARGE_CORS_ORIGINS",
            '"*" allows every site to call the API with its users\' cookies',
            "list your frontends' origins explicitly, e.g. https://app.example.com,https://www.example.com",
        )
    if any(o.strip().lower() == "null" for o in origins):
        p(
            "POINTCHARGE_CORS_ORIGINS",
            '"null" is the origin of sandboxed iframes and file:// pages, which any site can make: it allows '
            "every site to call the API with its users' cookies",
            "remove null; list your frontends' https origins",
        )
    bad = [
        o for o in origins
        if o != "*" and o.strip().lower() != "null" and (_public_host_problem(o) or urlsplit(o).path not in ("", "/"))
    ]
    if bad:
        p(
            "POINTCHARGE_CORS_ORIGINS",
            f"not public https origins: {', '.join(bad)}",
            "list only https origins (scheme://host[:port], no path) of your production frontends",
        )
    if not origins:
        report.warning(
            "POINTCHARGE_CORS_ORIGINS",
            "empty: no browser on another origin can call the API",
            "fine when the frontend is served from the API's origin; otherwise list its https origins",
        )
    elif "*" not in origins and not bad:
        ok(f"CORS origins: {', '.join(origins)}")

    frontend = settings.frontend_url
    if frontend and (reason := _public_host_problem(frontend)):
        p(
            "POINTCHARGE_FRONTEND_URL",
            f"{reason}: the mobile payment redirect would send customers there",
            "set POINTCHARGE_FRONTEND_URL to your frontend's public https URL",
        )

    # What `serve` refuses in production (issue 18), said the same way here.
    if settings.cookie_samesite.strip().lower() == "none" and not settings.cookie_secure:
        p(
            "POINTCHARGE_COOKIE_SAMESITE",
            "SameSite=None without Secure: the refresh cookie would go over plain HTTP (browsers drop it)",
            "set POINTCHARGE_COOKIE_SECURE=true (the default in production) or POINTCHARGE_COOKIE_SAMESITE=lax",
        )
    from api.app import sandbox_key_problems

    for problem in sandbox_key_problems(settings) if settings.is_production else []:
        name = problem.split(" ", 1)[0]
        p(name, "is the PortOne sandbox's built-in default (public, in this repository)",
          f"copy the real value from the PortOne console into {name}")
    if settings.metrics_token is None or not settings.metrics_token.get_secret_value():
        report.warning(
            "POINTCHARGE_METRICS_TOKEN",
            "not set: /metrics answers only loopback clients (403 to everyone else)",
            "set it to scrape from another host with 'Authorization: Bearer <token>'",
        )
    else:
        ok("/metrics needs the bearer token (POINTCHARGE_METRICS_TOKEN) except from loopback")
    if not settings.webhook_allowed_ips:
        report.warning(
            "POINTCHARGE_WEBHOOK_ALLOWED_IPS",
            "not set: anyone can post V1 webhooks (unsigned by PortOne's design); each costs a PortOne "
            f"lookup, limited to {settings.rate_limit_webhook} per address and one per payment every "
            f"{settings.webhook_dedup_s:g} s",
            "list PortOne's published webhook source addresses (see PortOne's docs; they change rarely)",
        )

    _storage(report, settings)

    # The database.
    if settings.is_sqlite and settings.allow_sqlite_in_production:
        report.warning(
            "POINTCHARGE_DATABASE_URL",
            "SQLite in production (POINTCHARGE_ALLOW_SQLITE_IN_PRODUCTION=true): one instance, one writer",
            "use PostgreSQL for more than one instance",
        )
    elif settings.is_sqlite:
        p(
            "POINTCHARGE_DATABASE_URL",
            "SQLite is the embedded development database (one machine, one writer at a time)",
            "use PostgreSQL: POINTCHARGE_DATABASE_URL=postgresql+asyncpg://user:password@host:5432/pointcharge",
        )
    shown = make_url(settings.database_url).render_as_string(hide_password=True)
    if db is not None:
        if not db.reachable:
            p(
                "POINTCHARGE_DATABASE_URL",
                f"cannot connect to {shown}: {db.error}",
                "check the host, the credentials and that the database exists",
            )
        elif db.revision != db.head:
            p(
                "POINTCHARGE_DATABASE_URL",
                f"{shown} is at migration {db.revision or 'none'}, the code expects {db.head}",
                "run `pointcharge migrate` (with this configuration) before starting the new version",
            )
        elif not settings.is_sqlite:
            ok(f"database {shown} is reachable and migrated ({db.head})")
    return report


def _bootpay(report: Report, settings: Settings) -> None:
    """Bootpay (optional): its keys, its URL, the browser's application id, its webhook sources."""
    if not settings.bootpay_enabled:
        report.passed.append("Bootpay is off (set its REST keys, POINTCHARGE_BOOTPAY_*, to turn it on)")
        return
    problems = settings.bootpay_problems()
    for problem in problems:
        name = problem.split(" ", 1)[0]
        report.problem(name, problem.split(" ", 1)[1], f"set {name} from the Bootpay admin (결제연동 → 연동 키)")
    if settings.is_production:
        from api.bootpay_config import bootpay_sandbox_key_problems

        for problem in bootpay_sandbox_key_problems(settings):
            name = problem.split(" ", 1)[0]
            report.problem(name, "is the Bootpay sandbox's built-in default (public, in this repository)",
                           f"copy the real value from the Bootpay admin into {name}")
    style = (
        "client_key + secret_key (Basic)" if settings.bootpay_client_key
        else "application_id + private_key (token)" if settings.bootpay_application_id
        else "the sandbox's built-in"
    )
    base = settings.bootpay_base_url or ("the mounted sandbox" if not settings.is_production else "https://api.bootpay.co.kr/v2")
    if not problems:
        report.passed.append(f"Bootpay is on: {style} credentials, REST API at {base}")
    public = settings.public_url or ""
    if public and not _public_host_problem(public):
        report.passed.append(f"webhook URL for the Bootpay admin (웹훅 설정): {public.rstrip('/')}/webhooks/bootpay")
    if settings.bootpay_web_application_id:
        report.passed.append("POINTCHARGE_BOOTPAY_WEB_APPLICATION_ID is set (the browser SDK's application id)")
    allowed = settings.bootpay_webhook_allowed_ips or []
    if allowed:
        report.passed.append(f"/webhooks/bootpay accepts only {', '.join(allowed)} (POINTCHARGE_BOOTPAY_WEBHOOK_ALLOWED_IPS)")
    elif settings.is_production:
        report.problem("POINTCHARGE_BOOTPAY_WEBHOOK_ALLOWED_IPS",
                       "empty: anyone can post Bootpay webhooks (Bootpay signs nothing)",
                       "unset it (Bootpay's 223.130.82.0/24 is the default in production)")


def _storage(report: Report, settings: Settings) -> None:
    """Uploads in a local folder: fine for one instance, if the service may write there."""
    from services.storage import local_path

    path = local_path(settings.storage_url)
    if path is None:
        return
    existing = next((p for p in (path, *path.parents) if p.exists()), None)
    if existing is None or not os.access(existing, os.W_OK):
        report.warning(
            "POINTCHARGE_STORAGE_URL",
            f"the upload folder {path} cannot be created or written: uploadFile will fail",
            "point it at a writable folder (file:///var/lib/pointcharge/files with the systemd unit) or "
            "at object storage (s3://…, gs://…; docs/DEPLOY.md)",
        )
    else:
        report.warning(
            "POINTCHARGE_STORAGE_URL",
            f"uploads are kept in the local folder {path}: right for one instance only",
            "with several instances use object storage (s3://…, gs://…; docs/DEPLOY.md)",
        )


def render(report: Report, out: TextIO) -> None:
    print("pointcharge doctor: is this configuration ready for production?\n", file=out)
    for line in report.passed:
        print(f"  ok       {line}", file=out)
    if report.passed and report.findings:
        print(file=out)
    for finding in report.findings:
        label = "PROBLEM " if finding.severity == "problem" else "warning "
        print(f"  {label} {finding.check}: {finding.message}", file=out)
        print(f"           fix: {finding.fix}", file=out)
    problems = len(report.problems)
    warnings = len(report.findings) - problems
    print(file=out)
    if problems:
        print(f"{problems} problem(s), {warnings} warning(s): not ready for production.", file=out)
    else:
        print(f"No problems ({warnings} warning(s)): ready for production.", file=out)


def run(
    settings: Settings | None = None,
    *,
    out: TextIO | None = None,
    check_database: DatabaseCheck | None = None,
) -> int:
    out = out or sys.stdout
    if settings is None:
        try:
            settings = Settings()
        except ValidationError as exc:
            print(f"the configuration does not load:\n{exc}", file=out)
            return 1
    db = asyncio.run((check_database or database_status)(settings.database_url))
    report = diagnose(settings, db)
    render(report, out)
    return 1 if report.problems else 0
