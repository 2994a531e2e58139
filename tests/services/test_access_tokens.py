"""Access tokens are verified once per process and cached (services/auth.py): the cache must not
outlive a token's expiry, nor let anything but a genuine token through."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncIterator

import pytest

from services.auth import AuthConfig, AuthService
from services.db import Database
from services.errors import Code, DomainError


@pytest.fixture
async def auth(clean_db: str) -> AsyncIterator[AuthService]:
    db = Database.from_url(clean_db)
    try:
        yield AuthService(db, AuthConfig("s" * 40, 1, 600, 1, 1024, 1))
    finally:
        await db.dispose()


def _refused(auth: AuthService, token: str) -> DomainError:
    with pytest.raises(DomainError) as caught:
        auth.decode_access_token(token)
    assert caught.value.code == Code.UNAUTHENTICATED
    return caught.value


async def test_a_cached_token_still_expires(auth: AuthService) -> None:
    # given a token with one second to live, verified (and cached) once
    token = auth.access_token("u1", family_id="f1")
    assert auth.decode_access_token(token).user_id == "u1"
    expires = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))["exp"]
    # when its expiry has passed
    time.sleep(max(0.0, expires - time.time()) + 0.05)
    # then it is refused as expired, although its signature check is cached
    assert "만료" in _refused(auth, token).message


async def test_only_genuine_tokens_are_accepted_or_cached(auth: AuthService) -> None:
    # given a genuine token, verified once
    token = auth.access_token("u1", family_id="f1")
    assert auth.decode_access_token(token).family_id == "f1"
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    forged_payload = base64.urlsafe_b64encode(json.dumps({**claims, "sub": "u2"}).encode()).rstrip(b"=").decode()
    other = AuthService(auth.db, AuthConfig("o" * 40, 600, 600, 1, 1024, 1)).access_token("u1", family_id="f1")
    # when the same payload comes with another user, another key's signature, or no signature
    for bad in (f"{header}.{forged_payload}.{signature}", other, f"{header}.{payload}.", token[:-2]):
        # then each is refused, every time, and none of them joins the cache
        _refused(auth, bad)
        _refused(auth, bad)
    assert auth._verified.cache_info().currsize == 1
    assert auth.decode_access_token(token).user_id == "u1"
