"""What resolvers may call: the services, built by the composition root."""

from __future__ import annotations

from dataclasses import dataclass

from services.auth import AuthService
from services.settings import Settings


@dataclass(frozen=True)
class Services:
    settings: Settings
    auth: AuthService
