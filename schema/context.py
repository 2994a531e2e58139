"""The typed GraphQL context, built once per request in ``get_context``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from strawberry.dataloader import DataLoader
from strawberry.types import Info as _Info

from services.auth import AccessClaims, login_to_check
from services.errors import Code, DomainError

if TYPE_CHECKING:
    from schema.app_services import Services

REFRESH_COOKIE = "refreshToken"


@dataclass
class Context:
    request: Request
    response: Response
    services: "Services"
    _claims: AccessClaims | None = field(default=None, init=False)
    _auth_error: DomainError | None = field(default=None, init=False)
    _auth_checked: bool = field(default=False, init=False)
    _session_checked: bool = field(default=False, init=False)
    _loaders: dict[str, DataLoader[str, Any]] = field(default_factory=dict, init=False, repr=False)

    def loader(self, name: str, load: Callable[[Sequence[str]], Awaitable[Sequence[Any]]]) -> DataLoader[str, Any]:
        """One DataLoader per request and kind of row: the seller of every item on a page, or the
        item of every ledger entry, is read in one batched query instead of one session each."""
        found = self._loaders.get(name)
        if found is None:
            found = self._loaders[name] = DataLoader(load_fn=load)  # type: ignore[arg-type]
        return found

    @property
    def user_id(self) -> str | None:
        """The caller, from ``Authorization: Bearer …``; None when absent or invalid."""
        if not self._auth_checked:
            self._auth_checked = True
            header = self.request.headers.get("authorization", "")
            scheme, _, token = header.partition(" ")
            if not header:
                self._auth_error = DomainError(Code.UNAUTHENTICATED)
            elif scheme.lower() != "bearer" or not token.strip():
                self._auth_error = DomainError(
                    Code.UNAUTHENTICATED, "Authorization 헤더는 'Bearer <토큰>' 형식이어야 합니다."
                )
            else:
                try:
                    self._claims = self.services.auth.decode_access_token(token.strip())
                except DomainError as exc:
                    self._auth_error = exc
        return self._claims.user_id if self._claims else None

    def require_user_id(self) -> str:
        user_id = self.user_id
        if user_id is None:
            raise self._auth_error or DomainError(Code.UNAUTHENTICATED)
        return user_id

    async def require_live_session(self) -> str:
        """``require_user_id`` plus the revocation check (services.auth.ensure_login_alive), once per request."""
        user_id = self.require_user_id()
        if not self._session_checked:
            assert self._claims is not None  # require_user_id succeeded
            await self.services.auth.ensure_login_alive(self._claims)
            self._session_checked = True
        return user_id

    def login_to_check(self) -> tuple[str, str] | None:
        """``require_user_id``, and the login for a service that checks its revocation in its own
        first statement (``ChargeService.claim``) instead of ``LiveSession``'s query; None when
        this request has checked it already."""
        self.require_user_id()
        if self._session_checked:
            return None
        assert self._claims is not None  # require_user_id succeeded
        return login_to_check(self._claims)

    def token_login(self) -> tuple[str, str] | None:
        """The login (family, user) of a valid bearer token, if one came; None otherwise."""
        if self.user_id is None or self._claims is None or not self._claims.family_id:
            return None
        return self._claims.family_id, self._claims.user_id

    @property
    def login_id(self) -> str | None:
        """The login (refresh-token family) the caller's access token belongs to."""
        return self._claims.family_id if self.user_id is not None and self._claims else None

    @property
    def client_ip(self) -> str | None:
        """The caller's address (behind a proxy: as uvicorn's --forwarded-allow-ips resolved it)."""
        return self.request.client.host if self.request.client else None

    @property
    def refresh_cookie(self) -> str | None:
        return self.request.cookies.get(REFRESH_COOKIE)


Info = _Info[Context, Any]
