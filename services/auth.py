"""Users, passwords and tokens.

Access tokens are short-lived HS256 JWTs checked without touching the database. Refresh tokens are
opaque random strings stored hashed; each use rotates them, and presenting a rotated one again means
it was stolen, so the whole family (that login) is revoked.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import re
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from services.db import Database
from services.errors import Code, DomainError
from services.file_urls import check_file_url
from services.files import mark_used
from services.models import RefreshToken, User, UserPoint, new_id, utcnow
from services.ratelimit import RateLimiter

_EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
MIN_PASSWORD = 8
MAX_PASSWORD = 128
_JWT_ALG = "HS256"


@dataclass(frozen=True)
class AuthConfig:
    jwt_secret: str
    access_ttl_s: int
    refresh_ttl_s: int
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65_536
    argon2_parallelism: int = 4


@dataclass(frozen=True)
class AccessClaims:
    user_id: str
    family_id: str | None  # the login (refresh-token family) the token was issued for


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    refresh_expires_at: datetime


def normalize_email(email: str) -> str:
    email = email.strip()
    if len(email) > 254 or not _EMAIL_RE.match(email):
        raise DomainError(Code.BAD_USER_INPUT, "이메일 형식이 올바르지 않습니다.", field="email")
    local, _, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}".lower()


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise DomainError(
            Code.BAD_USER_INPUT, f"비밀번호는 {MIN_PASSWORD}자 이상이어야 합니다.", field="password"
        )
    if len(password) > MAX_PASSWORD:
        raise DomainError(
            Code.BAD_USER_INPUT, f"비밀번호는 {MAX_PASSWORD}자 이하여야 합니다.", field="password"
        )


def _check_name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= 100:
        raise DomainError(Code.BAD_USER_INPUT, "이름은 1자 이상 100자 이하여야 합니다.", field="name")
    return name


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


_LOGIN_ALIVE = (
    "SELECT 1 FROM refresh_tokens JOIN users ON users.id = refresh_tokens.user_id"
    " WHERE refresh_tokens.family_id = $1 AND refresh_tokens.user_id = $2"
    " AND refresh_tokens.revoked_at IS NULL AND users.deleted_at IS NULL LIMIT 1"
)

# The same check as one boolean over $1 (the login's family id) and $2 (its user), for a service
# that asks it in its own first statement (ChargeService.claim: the check and the charge's
# duplicate pre-check in one statement on one pooled connection, every charge).
LOGIN_ALIVE_EXISTS = f"EXISTS ({_LOGIN_ALIVE})"
_NO_LOGIN = "로그인이 만료되었습니다. 다시 로그인해 주세요."
_REVOKED = "로그아웃되었거나 비밀번호가 변경된 로그인입니다. 다시 로그인해 주세요."


def login_to_check(claims: AccessClaims) -> tuple[str, str]:
    """The parameters of ``LOGIN_ALIVE_EXISTS`` for these claims; a token without a login (minted
    before the check existed) is refused outright."""
    if not claims.family_id:
        raise DomainError(Code.UNAUTHENTICATED, _NO_LOGIN)
    return claims.family_id, claims.user_id


def login_revoked() -> DomainError:
    return DomainError(Code.UNAUTHENTICATED, _REVOKED)


_VERIFIED_TOKENS = 4096
_EXPIRED = "토큰이 만료되었습니다. 다시 로그인해 주세요."


class AuthService:
    def __init__(self, db: Database, config: AuthConfig, *, ratelimiter: RateLimiter | None = None) -> None:
        self.db = db
        self.config = config
        self.ratelimiter = ratelimiter
        self._hasher = PasswordHasher(
            time_cost=config.argon2_time_cost,
            memory_cost=config.argon2_memory_kib,
            parallelism=config.argon2_parallelism,
        )
        # Verified against when the email is unknown, so that login takes the same time either way.
        self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(16))
        # A token's signature is checked once per process: the same token comes with every request
        # of a session, and the check was a twentieth of a charge's CPU (docs/PERFORMANCE.md).
        # Only tokens that verified are kept (a forged one cannot fill the cache), bounded, and the
        # expiry — the one check that changes with time — is made again on every use.
        self._verified = functools.lru_cache(maxsize=_VERIFIED_TOKENS)(self._verify_access_token)

    # Argon2 is deliberately slow (tens of ms): never on the event loop.
    async def _hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return await asyncio.to_thread(self._hasher.verify, password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    # --- users -------------------------------------------------------------------------------

    async def create_user(self, email: str, password: str, name: str) -> User:
        email = normalize_email(email)
        _check_password(password)
        name = _check_name(name)
        password_hash = await self._hash(password)
        user = User(email=email, name=name, password_hash=password_hash)
        try:
            async with self.db.transaction() as s:
                s.add(user)
                await s.flush()
                s.add(UserPoint(user_id=user.id, amount=0))
        except IntegrityError:
            # The unique index decides, not a prior SELECT: two sign-ups racing get one winner.
            raise DomainError(Code.CONFLICT, "이미 가입된 이메일입니다.", field="email") from None
        return user

    async def get_user(self, user_id: str) -> User:
        async with self.db.session() as s:
            user = await s.get(User, user_id)
        if user is None or user.deleted_at is not None:
            raise DomainError(Code.UNAUTHENTICATED, "사용자를 찾을 수 없습니다. 다시 로그인해 주세요.")
        return user

    async def users(self, user_ids: Sequence[str]) -> list[User | None]:
        """Users by id, deleted ones included, in one query (a DataLoader's batch: the sellers and
        buyers of a page of items)."""
        return await self.db.rows_by(User.id, user_ids)

    async def user_points(self, user_ids: Sequence[str]) -> list[UserPoint | None]:
        """The balances of these users, in one query (a DataLoader's batch)."""
        return await self.db.rows_by(UserPoint.user_id, user_ids)

    async def update_user(self, user_id: str, *, name: str | None, picture: str | None) -> User:
        values: dict[str, object] = {"updated_at": utcnow()}
        if name is not None:
            values["name"] = _check_name(name)
        if picture is not None:
            # Shown in <img src> by every frontend: an uploaded file's path or an https URL only
            # (services/file_urls.py); an empty one removes the picture.
            values["picture"] = check_file_url(picture, "picture", limit=2000) if picture.strip() else None
        async with self.db.transaction() as s:
            await s.execute(update(User).where(User.id == user_id).values(**values))
            await mark_used(s, user_id, [values["picture"]] if values.get("picture") else [])
            user = await s.get(User, user_id)
        if user is None:
            raise DomainError(Code.UNAUTHENTICATED, "사용자를 찾을 수 없습니다. 다시 로그인해 주세요.")
        return user

    async def reset_password(
        self, user_id: str, password: str, *, family_id: str | None = None, max_login_age_s: float | None = None
    ) -> None:
        """A new password for the caller. With ``family_id`` (the caller's login): that login must
        be younger than ``max_login_age_s`` — the signature has no old password (frontends call
        ``resetUserPassword(password)``), so a stolen but older session cannot lock the owner out —
        and it stays; every other login of the user ends."""
        _check_password(password)
        now = utcnow()
        if family_id is not None and max_login_age_s is not None:
            async with self.db.session() as s:
                logged_in_at = (
                    await s.execute(
                        select(func.min(RefreshToken.created_at)).where(
                            RefreshToken.family_id == family_id, RefreshToken.user_id == user_id
                        )
                    )
                ).scalar_one_or_none()
            if logged_in_at is not None and logged_in_at.tzinfo is None:
                logged_in_at = logged_in_at.replace(tzinfo=UTC)
            if logged_in_at is None or (now - logged_in_at).total_seconds() > max_login_age_s:
                raise DomainError(
                    Code.UNAUTHENTICATED,
                    "비밀번호를 바꾸려면 다시 로그인해 주세요. (최근 로그인만 비밀번호를 바꿀 수 있습니다.)",
                    reason="LOGIN_TOO_OLD",
                )
        password_hash = await self._hash(password)
        async with self.db.transaction() as s:
            await s.execute(
                update(User).where(User.id == user_id).values(password_hash=password_hash, updated_at=now)
            )
            # A new password ends every other login (the one that changed it goes on).
            others = update(RefreshToken).where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
            if family_id is not None:
                others = others.where(RefreshToken.family_id != family_id)
            await s.execute(others.values(revoked_at=now))

    # --- tokens ------------------------------------------------------------------------------

    async def login(self, email: str, password: str, *, client_ip: str | None = None) -> TokenPair:
        try:
            email = normalize_email(email)
        except DomainError:
            email = ""
        # Brute force: the attempt takes its slot per IP and per account *before* any Argon2
        # work, atomically (services/ratelimit.py): parallel attempts cannot all pass a check.
        account = email or None
        attempt = await self.ratelimiter.begin_login(account, client_ip) if self.ratelimiter is not None else None
        async with self.db.session() as s:
            user = (
                await s.execute(select(User).where(User.email == email, User.deleted_at.is_(None)))
            ).scalar_one_or_none() if email else None
        ok = await self._verify(user.password_hash if user else self._dummy_hash, password)
        if user is None or not ok:
            raise DomainError(Code.UNAUTHENTICATED, "이메일 또는 비밀번호가 일치하지 않습니다.")
        if attempt is not None:
            await self.ratelimiter.login_succeeded(attempt)  # type: ignore[union-attr]
        return await self._issue(user.id, family_id=new_id())

    async def refresh(self, refresh_token: str | None) -> TokenPair:
        if not refresh_token:
            raise DomainError(Code.UNAUTHENTICATED, "리프레시 토큰이 없습니다. 다시 로그인해 주세요.")
        now = utcnow()
        token_hash = _hash_token(refresh_token)
        async with self.db.transaction() as s:
            row = (
                await s.execute(select(RefreshToken).where(RefreshToken.token_hash == token_hash))
            ).scalar_one_or_none()
            if row is None or row.revoked_at is not None or row.expires_at <= now:
                raise DomainError(Code.UNAUTHENTICATED, "로그인이 만료되었습니다. 다시 로그인해 주세요.")
            # Conditional update: of two requests presenting the same token, exactly one rotates.
            used = await s.execute(
                update(RefreshToken)
                .where(RefreshToken.id == row.id, RefreshToken.used_at.is_(None))
                .values(used_at=now)
            )
            reused = used.rowcount != 1
            if reused:
                await s.execute(
                    update(RefreshToken)
                    .where(RefreshToken.family_id == row.family_id, RefreshToken.revoked_at.is_(None))
                    .values(revoked_at=now)
                )
            user_id, family_id = row.user_id, row.family_id
        if reused:
            raise DomainError(
                Code.UNAUTHENTICATED, "이미 사용된 토큰입니다. 보안을 위해 다시 로그인해 주세요."
            )
        return await self._issue(user_id, family_id=family_id)

    async def logout(self, refresh_token: str | None, *, login: tuple[str, str] | None = None) -> None:
        """Ends the login of the refresh cookie and the login of the access token (``login``: its
        family and user, ``login_to_check``), whichever came: a client whose cookie did not travel
        (a phone app, a cross-site page) logs out with its bearer token alone."""
        if not refresh_token and login is None:
            return
        now = utcnow()
        async with self.db.transaction() as s:
            if refresh_token:
                row = (
                    await s.execute(
                        select(RefreshToken).where(RefreshToken.token_hash == _hash_token(refresh_token))
                    )
                ).scalar_one_or_none()
                if row is not None:
                    await s.execute(
                        update(RefreshToken)
                        .where(RefreshToken.family_id == row.family_id, RefreshToken.revoked_at.is_(None))
                        .values(revoked_at=now)
                    )
            if login is not None:
                family_id, user_id = login
                await s.execute(
                    update(RefreshToken)
                    .where(
                        RefreshToken.family_id == family_id,
                        RefreshToken.user_id == user_id,
                        RefreshToken.revoked_at.is_(None),
                    )
                    .values(revoked_at=now)
                )

    async def _issue(self, user_id: str, *, family_id: str) -> TokenPair:
        now = utcnow()
        refresh_token = secrets.token_urlsafe(32)
        expires_at = now + timedelta(seconds=self.config.refresh_ttl_s)
        async with self.db.transaction() as s:
            s.add(
                RefreshToken(
                    user_id=user_id,
                    family_id=family_id,
                    token_hash=_hash_token(refresh_token),
                    expires_at=expires_at,
                )
            )
        return TokenPair(self.access_token(user_id, now=now, family_id=family_id), refresh_token, expires_at)

    def access_token(self, user_id: str, *, now: datetime | None = None, family_id: str | None = None) -> str:
        now = now or utcnow()
        claims = {
            "sub": user_id,
            "typ": "access",
            "iat": int(now.timestamp()),
            "exp": int(now.timestamp()) + self.config.access_ttl_s,
            "jti": secrets.token_hex(8),
        }
        if family_id is not None:
            claims["fam"] = family_id  # the login it belongs to: revoked with it (see ensure_login_alive)
        return jwt.encode(claims, self.config.jwt_secret, algorithm=_JWT_ALG)

    async def ensure_login_alive(self, claims: AccessClaims) -> None:
        """The revocation check for calls that move money or change credentials.

        Access tokens stay stateless for reads (valid until they expire, 30 minutes at most), but
        a mutation that moves money, or resets the password, also checks that the login the token
        came from (its ``fam`` claim, the refresh-token family) is still alive: ``logoutUser``,
        ``resetUserPassword`` (every login of the user) and a reused refresh token revoke it. One
        indexed query. Tokens without a ``fam`` claim (minted before this check existed) are
        refused here; the frontend restores a fresh one from the refresh cookie and retries."""
        params = login_to_check(claims)
        # On every money-moving mutation: driver SQL, not the ORM (docs/PERFORMANCE.md).
        async with self.db.raw() as raw:
            alive = await raw.fetch(_LOGIN_ALIVE, *params)
        if not alive:
            raise login_revoked()

    def decode_access_token(self, token: str) -> AccessClaims:
        """The one place a token is checked: signature, algorithm, expiry, type."""
        claims, expires = self._verified(token)
        if expires <= time.time():
            raise DomainError(Code.UNAUTHENTICATED, _EXPIRED)
        return claims

    def _verify_access_token(self, token: str) -> tuple[AccessClaims, int]:
        try:
            claims = jwt.decode(
                token,
                self.config.jwt_secret,
                algorithms=[_JWT_ALG],  # a fixed list: "alg: none" and key-confusion tokens fail
                options={"require": ["exp", "sub", "iat"]},
            )
        except jwt.ExpiredSignatureError:
            raise DomainError(Code.UNAUTHENTICATED, _EXPIRED) from None
        except jwt.PyJWTError:
            raise DomainError(Code.UNAUTHENTICATED, "유효하지 않은 토큰입니다.") from None
        if claims.get("typ") != "access" or not isinstance(claims.get("sub"), str):
            raise DomainError(Code.UNAUTHENTICATED, "유효하지 않은 토큰입니다.")
        family_id = claims.get("fam")
        access = AccessClaims(claims["sub"], family_id if isinstance(family_id, str) and family_id else None)
        return access, int(claims["exp"])
