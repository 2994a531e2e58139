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
