"""Bootpay's configuration, resolved once for the composition root (api/app.py): which keys and
URL the REST client uses, what the browser is told, and what production refuses."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from pydantic import SecretStr

from services.settings import BOOTPAY_BASE_URL, Settings

log = logging.getLogger("pointcharge")


@dataclass(frozen=True)
class ResolvedBootpay:
    base_url: str
    application_id: str | None
    private_key: str | None
    client_key: str | None
    secret_key: str | None
    web_application_id: str | None  # what the browser SDK needs


def resolve_bootpay(settings: Settings, public_url: str) -> ResolvedBootpay | None:
    """None when Bootpay is off. Explicit settings win; in sandbox mode the gaps are filled with
    the emulator mounted under ``public_url`` (its base URL, its client/secret key pair and its
    application id)."""
    if not settings.bootpay_enabled:
        return None

    def secret(value: SecretStr | None) -> str | None:
        return value.get_secret_value() or None if value is not None else None

    base = settings.bootpay_base_url
    client_key, secret_key = settings.bootpay_client_key or None, secret(settings.bootpay_secret_key)
    application_id, private_key = settings.bootpay_application_id or None, secret(settings.bootpay_private_key)
    web_id = settings.bootpay_web_application_id or None
    if not settings.is_production:
        try:
            from sandbox.bootpay.config import BootpayConfig
        except ImportError:  # an install without the emulator: only explicit settings
            BootpayConfig = None  # type: ignore[assignment,misc]  # noqa: N806
        if BootpayConfig is not None:
            defaults = BootpayConfig()
            base = base or f"{public_url}/sandbox/bootpay/v2"
            if not ((client_key and secret_key) or (application_id and private_key)):
                client_key, secret_key = defaults.client_key, defaults.secret_key
            web_id = web_id or defaults.application_id
    if not ((client_key and secret_key) or (application_id and private_key)):
        if settings.is_production:
            return None  # production_problems() has said why
        log.warning("Bootpay is on but has no REST keys and no sandbox to default to: left off")
        return None
    return ResolvedBootpay(
        base_url=base or BOOTPAY_BASE_URL,
        application_id=application_id,
        private_key=private_key,
        client_key=client_key,
        secret_key=secret_key,
        web_application_id=web_id,
    )


def bootpay_sandbox_key_problems(settings: Settings) -> list[str]:
    """The Bootpay emulator's keys are public too (sandbox/bootpay/config.py)."""
    if not settings.is_production:
        return []
    try:
        from sandbox.bootpay.config import BootpayConfig
    except ImportError:
        return []
    defaults = BootpayConfig()

    def plain(value: object) -> str | None:
        return value.get_secret_value() if isinstance(value, SecretStr) else value  # type: ignore[return-value]

    problems: list[str] = []
    for name, value, default in (
        ("POINTCHARGE_BOOTPAY_CLIENT_KEY", settings.bootpay_client_key, defaults.client_key),
        ("POINTCHARGE_BOOTPAY_SECRET_KEY", plain(settings.bootpay_secret_key), defaults.secret_key),
        ("POINTCHARGE_BOOTPAY_APPLICATION_ID", settings.bootpay_application_id, defaults.application_id),
        ("POINTCHARGE_BOOTPAY_PRIVATE_KEY", plain(settings.bootpay_private_key), defaults.private_key),
        ("POINTCHARGE_BOOTPAY_WEB_APPLICATION_ID", settings.bootpay_web_application_id, defaults.application_id),
    ):
        if value and value == default:
            problems.append(f"{name} is the Bootpay sandbox's default key, not one from the Bootpay admin")
    return problems
