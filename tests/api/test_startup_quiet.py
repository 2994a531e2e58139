"""`make run` starts quietly (issue 27): no PyJWT warning about a short key (sandbox mode signs with
a random key made once per install, kept in the sandbox's state file), no alembic plugin chatter,
and the real migration lines still shown. `pointcharge serve` as its own process, twice."""

from __future__ import annotations

import os
from pathlib import Path

import httpx

from tests.servers import free_port, run_process

SIGNUP = 'mutation { createUser(createUserInput: {email: "q@example.com", password: "password123", name: "조용"}) { _id } }'
LOGIN = 'mutation { loginUser(email: "q@example.com", password: "password123") { accessToken } }'


def serve_once(tmp_path: Path, output: list[str]) -> str | None:
    """One start of `pointcharge serve` in ``tmp_path`` with the defaults of a fresh checkout (no
    JWT secret, SQLite next to it); returns the access token of a login (None when signup fails)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("POINTCHARGE_")}
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with run_process(["api.cli", "serve", "--port", str(port)], url + "/healthz", env=env, cwd=str(tmp_path), output=output):
        httpx.post(url + "/graphql", json={"query": SIGNUP}, timeout=30)
        login = httpx.post(url + "/graphql", json={"query": LOGIN}, timeout=30).json()
        return login["data"]["loginUser"]["accessToken"]


def alembic_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if "alembic" in line]


def test_serve_twice_no_jwt_warning_no_alembic_chatter_and_logins_survive(tmp_path: Path) -> None:
    output: list[str] = []
    # given a fresh checkout started once (it migrates) and a login made
    token = serve_once(tmp_path, output)
    first = output[0]
    assert "InsecureKeyLengthWarning" not in first, first
    assert [line for line in alembic_lines(first) if "Running upgrade" not in line] == [], first
    assert any("Running upgrade" in line for line in alembic_lines(first))  # real migrations still shown
    # when it starts again
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("POINTCHARGE_")}
    with run_process(["api.cli", "serve", "--port", str(port)], url + "/healthz", env=env, cwd=str(tmp_path), output=output):
        me = httpx.post(url + "/graphql", json={"query": "{ fetchUserLoggedIn { email } }"},
                        headers={"Authorization": f"Bearer {token}"}, timeout=30).json()
    second = output[1]
    # then at most one alembic line, no key warning, and the first start's login is still valid:
    # the key is the install's (the sandbox state file next to the database), not the process's
    assert len(alembic_lines(second)) <= 1, second
    assert "InsecureKeyLengthWarning" not in second, second
    assert me["data"]["fetchUserLoggedIn"]["email"] == "q@example.com", me
    assert (tmp_path / "pointcharge-sandbox.db").is_file()
