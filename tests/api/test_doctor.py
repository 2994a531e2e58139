"""``pointcharge doctor``: clean on a good production configuration, every problem named on a bad one."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from api import doctor
from api.cli import main
from api.migrate import head_revision
from tests.conftest import PG_URL

STRONG_SECRET = "q7Vd2Lx9pT4mZc8Rk1Nw6Hs3Jb5Fy0Ge-UaXoQiE"

GOOD = {
    "POINTCHARGE_MODE": "production",
    "POINTCHARGE_JWT_SECRET": STRONG_SECRET,
    "POINTCHARGE_PORTONE_V1_BASE_URL": "https://api.iamport.kr",
    "POINTCHARGE_PORTONE_IMP_KEY": "1234567890123456",
    "POINTCHARGE_PORTONE_IMP_SECRET": "live-imp-secret-0123456789abcdef",
    "POINTCHARGE_PORTONE_MERCHANT_CODE": "imp12345678",
    "POINTCHARGE_PUBLIC_URL": "https://api.example.com",
    "POINTCHARGE_CORS_ORIGINS": "https://app.example.com,https://www.example.com",
    "POINTCHARGE_FRONTEND_URL": "https://app.example.com",
    "POINTCHARGE_DATABASE_URL": "postgresql+asyncpg://pointcharge:pw@db.internal.example.com:5432/pointcharge",
}


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A clean environment (no POINTCHARGE_* from the outside, no .env) to fill in."""
    for name in list(os.environ):
        if name.startswith("POINTCHARGE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)

    def apply(values: dict[str, str]) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    return apply


def at_head(url: str) -> doctor.DatabaseStatus:
    head = head_revision(url)
    return doctor.DatabaseStatus("postgresql", True, revision=head, head=head)


def test_clean_on_a_good_production_configuration(
    environment, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], database_url: str
) -> None:
    if PG_URL:
        # The real check against the test PostgreSQL, migrated to head by the session fixture.
        environment({**GOOD, "POINTCHARGE_DATABASE_URL": database_url})
    else:
        environment(GOOD)

        async def fake(url: str) -> doctor.DatabaseStatus:
            return at_head(url)

        monkeypatch.setattr(doctor, "database_status", fake)
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "PROBLEM" not in out and "ready for production" in out
    assert "https://api.example.com/webhooks/portone (V1)" in out  # what to paste into the console
    assert "is reachable and migrated" in out


def test_names_every_problem_of_a_bad_configuration(
    environment, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    empty_db = tmp_path / "empty.db"
    empty_db.touch()  # exists, never migrated: the real check finds no revision
    environment(
        {
            "POINTCHARGE_MODE": "production",
            "POINTCHARGE_JWT_SECRET": "short-secret",
            "POINTCHARGE_PORTONE_V1_BASE_URL": "http://127.0.0.1:8000/sandbox/portone/v1",
            "POINTCHARGE_PORTONE_IMP_KEY": "key",
            "POINTCHARGE_PUBLIC_URL": "http://localhost:8000",
            "POINTCHARGE_CORS_ORIGINS": "*,http://app.example.com",
            "POINTCHARGE_GRAPHIQL": "true",
            "POINTCHARGE_INTROSPECTION": "true",
            "POINTCHARGE_COOKIE_SECURE": "false",
            "POINTCHARGE_DATABASE_URL": f"sqlite+aiosqlite:///{empty_db}",
            "POINTCHARGE_PORTONE_V2_SECRET": "v2-secret",
        }
    )
    # The app itself refuses to start with this; the doctor says why, all at once.
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    problems = [line.split(":", 1)[0].split()[-1] for line in out.splitlines() if line.strip().startswith("PROBLEM")]
    for name in (
        "POINTCHARGE_JWT_SECRET",
        "POINTCHARGE_PORTONE_V1_BASE_URL",
        "POINTCHARGE_PORTONE_IMP_SECRET",
        "POINTCHARGE_PORTONE_MERCHANT_CODE",
        "POINTCHARGE_PORTONE_STORE_ID",
        "POINTCHARGE_PORTONE_CHANNEL_KEY",
        "POINTCHARGE_PORTONE_WEBHOOK_SECRET",
        "POINTCHARGE_PUBLIC_URL",
        "POINTCHARGE_CORS_ORIGINS",
        "POINTCHARGE_FRONTEND_URL",  # the default, http://localhost:3000
        "POINTCHARGE_GRAPHIQL",
        "POINTCHARGE_INTROSPECTION",
        "POINTCHARGE_COOKIE_SECURE",
        "POINTCHARGE_DATABASE_URL",
    ):
        assert name in problems, f"{name} not reported:\n{out}"
    assert "POINTCHARGE_MODE" not in problems
    assert '"*" allows every site' in out and "http://app.example.com" in out
    assert "SQLite" in out and "is at migration none" in out and "pointcharge migrate" in out
    warnings = [line for line in out.splitlines() if line.strip().startswith("warning")]
    assert out.count("fix:") == len(problems) + len(warnings)  # every finding says how to fix it
    assert "not ready for production" in out
    assert "short-secret" not in out and "v2-secret" not in out  # the doctor does not print secrets


def test_sandbox_mode_and_private_addresses(environment, capsys: pytest.CaptureFixture[str], monkeypatch) -> None:  # type: ignore[no-untyped-def]
    environment(
        {
            **GOOD,
            "POINTCHARGE_MODE": "sandbox",
            "POINTCHARGE_PUBLIC_URL": "https://10.0.0.5",
            "POINTCHARGE_JWT_SECRET": "a" * 40,
            "POINTCHARGE_CORS_ORIGINS": "",
        }
    )

    async def fake(url: str) -> doctor.DatabaseStatus:
        return at_head(url)

    monkeypatch.setattr(doctor, "database_status", fake)
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "PROBLEM  POINTCHARGE_MODE" in out and "POINTCHARGE_MODE=production" in out
    assert "PROBLEM  POINTCHARGE_PUBLIC_URL: https://10.0.0.5 is a private" in out
    assert "PROBLEM  POINTCHARGE_JWT_SECRET" in out and "not random" in out
    assert "PROBLEM  POINTCHARGE_GRAPHIQL" in out  # on by default in sandbox mode
    assert "warning  POINTCHARGE_CORS_ORIGINS" in out or "PROBLEM  POINTCHARGE_CORS_ORIGINS" in out


# --- the database check queries for real -----------------------------------------------------


async def test_database_check_reads_the_revision(database_url: str, tmp_path: Path) -> None:
    migrated = await doctor.database_status(database_url)
    assert migrated.reachable and migrated.revision == migrated.head == head_revision(database_url)

    empty = tmp_path / "empty.db"
    empty.touch()
    fresh = await doctor.database_status(f"sqlite+aiosqlite:///{empty}")
    assert fresh.reachable and fresh.revision is None and fresh.head

    missing = await doctor.database_status(f"sqlite+aiosqlite:///{tmp_path / 'missing.db'}")
    assert not missing.reachable and not (tmp_path / "missing.db").exists()

    refused = await doctor.database_status("postgresql+asyncpg://nobody:pw@127.0.0.1:1/nothing")
    assert not refused.reachable and refused.error


def test_uploads_in_a_local_folder_are_a_warning(environment, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    async def fake(url: str) -> doctor.DatabaseStatus:
        return at_head(url)

    monkeypatch.setattr(doctor, "database_status", fake)
    environment({**GOOD, "POINTCHARGE_STORAGE_URL": f"file://{tmp_path}/files"})
    assert main(["doctor"]) == 0  # a warning, not a problem: one instance may keep files locally
    assert f"uploads are kept in the local folder {tmp_path}/files" in capsys.readouterr().out

    environment({**GOOD, "POINTCHARGE_STORAGE_URL": "s3://bucket/uploads"})
    assert main(["doctor"]) == 0
    assert "POINTCHARGE_STORAGE_URL" not in capsys.readouterr().out


BOOTPAY = {
    "POINTCHARGE_BOOTPAY_CLIENT_KEY": "live_client_key_0123",
    "POINTCHARGE_BOOTPAY_SECRET_KEY": "live-bootpay-secret-0123456789",
    "POINTCHARGE_BOOTPAY_WEB_APPLICATION_ID": "5b8f6a4d396fa665fdc2b5e7",
}


def test_lists_bootpay_and_names_its_problems(
    environment, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def fake(url: str) -> doctor.DatabaseStatus:
        return at_head(url)

    monkeypatch.setattr(doctor, "database_status", fake)
    # given real Bootpay keys: on, clean, with the webhook URL to paste into Bootpay's admin
    environment({**GOOD, **BOOTPAY})
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "Bootpay is on: client_key + secret_key (Basic) credentials" in out
    assert "https://api.example.com/webhooks/bootpay" in out and "223.130.82.0/24" in out
    # given the emulator's keys, its URL and no browser id: each named, no secret printed
    environment({**GOOD, "POINTCHARGE_BOOTPAY_CLIENT_KEY": "sandbox_bootpay_client_key",
                 "POINTCHARGE_BOOTPAY_SECRET_KEY": "sandbox_bootpay_secret_key",
                 "POINTCHARGE_BOOTPAY_WEB_APPLICATION_ID": "",
                 "POINTCHARGE_BOOTPAY_BASE_URL": "http://127.0.0.1:8000/sandbox/bootpay/v2"})
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    problems = {line.split(":", 1)[0].split()[-1] for line in out.splitlines() if line.strip().startswith("PROBLEM")}
    assert {"POINTCHARGE_BOOTPAY_CLIENT_KEY", "POINTCHARGE_BOOTPAY_SECRET_KEY", "POINTCHARGE_BOOTPAY_BASE_URL",
            "POINTCHARGE_BOOTPAY_WEB_APPLICATION_ID"} <= problems, out
    assert "sandbox_bootpay_secret_key" not in out
