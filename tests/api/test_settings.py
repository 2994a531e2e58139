from __future__ import annotations

import pytest

from api.app import ConfigurationError, check_settings, create_app
from services.settings import Settings


def test_production_refuses_placeholder_secret() -> None:
    settings = Settings(_env_file=None, mode="production")  # type: ignore[call-arg]
    with pytest.raises(ConfigurationError) as exc:
        check_settings(settings)
    assert "POINTCHARGE_JWT_SECRET" in str(exc.value)
    with pytest.raises(ConfigurationError):
        create_app(settings)


def test_production_refuses_sandbox_portone() -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        mode="production",
        jwt_secret="s" * 40,
        portone_v1_base_url="http://127.0.0.1:8000/sandbox/portone/v1",
        portone_imp_key="k",
        portone_imp_secret="s",
    )
    with pytest.raises(ConfigurationError, match="sandbox"):
        check_settings(settings)


def test_secrets_do_not_leak_in_repr() -> None:
    settings = Settings(_env_file=None, jwt_secret="super-secret-value-1234567890")  # type: ignore[call-arg]
    assert "super-secret-value" not in repr(settings)


def test_cors_origins_from_csv(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POINTCHARGE_CORS_ORIGINS", "https://a.example, https://b.example")
    assert Settings(_env_file=None).cors_origins == ["https://a.example", "https://b.example"]  # type: ignore[call-arg]


def _production(**bootpay: object) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        mode="production",
        jwt_secret="s" * 40,
        portone_v1_base_url="https://api.iamport.kr",
        portone_imp_key="k",
        portone_imp_secret="s",
        database_url="postgresql+asyncpg://u:p@db.example/pointcharge",
        **bootpay,
    )


def test_bootpay_is_on_in_sandbox_with_the_emulators_keys() -> None:
    from api.bootpay_config import resolve_bootpay
    from sandbox.bootpay.config import BootpayConfig

    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    resolved = resolve_bootpay(settings, "http://127.0.0.1:8000")
    defaults = BootpayConfig()
    assert resolved is not None and resolved.base_url == "http://127.0.0.1:8000/sandbox/bootpay/v2"
    assert (resolved.client_key, resolved.secret_key) == (defaults.client_key, defaults.secret_key)
    assert resolved.web_application_id == defaults.application_id
    assert settings.bootpay_webhook_allowed_ips == ["127.0.0.0/8", "::1"]
    # explicit legacy keys are kept as given (no emulator pair added next to them)
    legacy = Settings(_env_file=None, bootpay_application_id="app", bootpay_private_key="pk")  # type: ignore[call-arg]
    resolved = resolve_bootpay(legacy, "http://127.0.0.1:8000")
    assert resolved is not None and (resolved.application_id, resolved.client_key) == ("app", None)
    # and it can be turned off
    off = Settings(_env_file=None, bootpay_enabled=False)  # type: ignore[call-arg]
    assert resolve_bootpay(off, "http://127.0.0.1:8000") is None


def test_bootpay_in_production_is_on_only_with_keys_and_refuses_the_sandbox() -> None:
    from api.bootpay_config import resolve_bootpay

    # without keys: off, and no problem
    plain = _production()
    assert not plain.bootpay_enabled and resolve_bootpay(plain, "https://api.example") is None
    check_settings(plain)
    assert plain.bootpay_webhook_allowed_ips == ["223.130.82.0/24"]
    # with real keys: on, against Bootpay itself
    real = _production(bootpay_client_key="ck_live", bootpay_secret_key="sk_live", bootpay_web_application_id="web")
    check_settings(real)
    resolved = resolve_bootpay(real, "https://api.example")
    assert resolved is not None and resolved.base_url == "https://api.bootpay.co.kr/v2"
    # the emulator's keys, a loopback URL, half a pair or no browser id: refused, each named
    for bootpay, named in (
        ({"bootpay_client_key": "sandbox_bootpay_client_key", "bootpay_secret_key": "sandbox_bootpay_secret_key",
          "bootpay_web_application_id": "web"}, "POINTCHARGE_BOOTPAY_SECRET_KEY"),
        ({"bootpay_client_key": "ck", "bootpay_secret_key": "sk", "bootpay_web_application_id": "web",
          "bootpay_base_url": "http://127.0.0.1:8000/sandbox/bootpay/v2"}, "POINTCHARGE_BOOTPAY_BASE_URL"),
        ({"bootpay_application_id": "app", "bootpay_web_application_id": "web"}, "POINTCHARGE_BOOTPAY_PRIVATE_KEY"),
        ({"bootpay_client_key": "ck", "bootpay_secret_key": "sk"}, "POINTCHARGE_BOOTPAY_WEB_APPLICATION_ID"),
    ):
        with pytest.raises(ConfigurationError, match=named):
            check_settings(_production(**bootpay))
