"""Charge orders (preparePointCharge): who will pay how much, registered before the gateway hears of it.

An order is a pre-registration, never a payment: every attempt a gateway reports for its ``order_key``
is a row of ``payments`` pointing to it (services/models.py). Orders are written once and never
changed, so reading one needs no lock.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services import payment_state as st
from services.db import Database
from services.errors import Code, DomainError
from services.models import Order, Payment
from services.gateways.base import Gateway


@dataclass(frozen=True)
class ChargeConfig:
    packages: tuple[int, ...] | None  # None: any amount in [min_amount, max_amount]
    min_amount: int
    max_amount: int
    require_prepared_order: bool = False
    balance_max: int = 2_147_483_647  # services.ledger.BALANCE_MAX: a credit past it is refused and refunded


@dataclass(frozen=True)
class OrderView:
    """An order no attempt has been made for yet, shaped like a payment row for the order list
    (``fetchPointChargeOrders`` shows each attempt, and each order still waiting for one)."""

    id: str
    provider: str
    order_key: str
    order_amount: int
    created_at: datetime
    payment_key: str | None = None
    amount: int = 0
    cancelled_amount: int = 0
    status: str = st.PREPARED
    pay_method: str | None = None
    vbank_name: str | None = None
    vbank_code: str | None = None
    vbank_num: str | None = None
    vbank_holder: str | None = None
    vbank_due_at: datetime | None = None

    @property
    def updated_at(self) -> datetime:
        return self.created_at

    @classmethod
    def of(cls, order: Order) -> "OrderView":
        return cls(order.id, order.provider, order.order_key, order.amount, order.created_at)


def new_order_key() -> str:
    # Sortable by time, unguessable, and within the gateways' limits (PortOne's merchant_uid).
    return f"pc_{int(time.time() * 1000):x}_{secrets.token_hex(6)}"


def check_amount(config: ChargeConfig, amount: int) -> None:
    packages = config.packages
    if packages is not None:
        if amount not in packages:
            listed = ", ".join(f"{p:,}" for p in packages)
            raise DomainError(Code.BAD_USER_INPUT, f"충전 금액은 다음 중 하나여야 합니다: {listed}원", field="amount")
    elif not config.min_amount <= amount <= config.max_amount:
        raise DomainError(
            Code.BAD_USER_INPUT,
            f"충전 금액은 {config.min_amount:,}원 이상 {config.max_amount:,}원 이하여야 합니다.",
            field="amount",
        )


async def create_order(db: Database, gateway: Gateway, user_id: str, amount: int) -> OrderView:
    order = Order(provider=gateway.name, order_key=new_order_key(), user_id=user_id, amount=amount)
    # The order exists before the gateway hears of it, so that a webhook arriving first (it can)
    # already finds its owner.
    async with db.transaction() as s:
        s.add(order)
    await gateway.prepare(order.order_key, amount)
    return OrderView.of(order)


async def find_order(s: AsyncSession, provider: str, order_key: str) -> Order | None:
    return (
        await s.execute(select(Order).where(Order.provider == provider, Order.order_key == order_key))
    ).scalar_one_or_none()


async def list_orders(db: Database, user_id: str, *, limit: int = 20) -> list[Payment | OrderView]:
    """The user's attempts, and their orders no attempt has been made for yet, newest first."""
    async with db.session() as s:
        attempts = list(
            (
                await s.execute(
                    select(Payment)
                    # An attempt of more than GraphQL's Int (2,147,483,647) cannot be shown (it is
                    # never credited: over the balance cap, refunded): it would fail the whole list.
                    .where(Payment.user_id == user_id, Payment.amount <= 2_147_483_647)
                    .order_by(Payment.created_at.desc(), Payment.id.desc())
                    .limit(limit)
                )
            ).scalars()
        )
        waiting = [
            OrderView.of(o)
            for o in (
                await s.execute(
                    select(Order)
                    .where(
                        Order.user_id == user_id,
                        ~select(Payment.id).where(Payment.order_id == Order.id).exists(),
                    )
                    .order_by(Order.created_at.desc(), Order.id.desc())
                    .limit(limit)
                )
            ).scalars()
        ]
    rows: list[Payment | OrderView] = [*attempts, *waiting]
    rows.sort(key=lambda r: (r.created_at, r.id), reverse=True)
    return rows[:limit]
