"""Tables. Money is KRW in integers (BigInteger), never floats; times are UTC."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return uuid.uuid4().hex


_M = TypeVar("_M", bound=SQLModel)


def detached(model: type[_M], **values: Any) -> _M:
    """An instance of ``model`` holding values the database holds, built without SQLModel's
    ``__init__`` and the ORM's attribute events (~5 µs instead of ~80-150 µs). For results handed
    back to callers (the lean charge path); never for ``session.add``."""
    obj = model._sa_class_manager.new_instance()  # type: ignore[attr-defined]
    obj.__dict__.update(values)
    return obj


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on the way in and out (SQLite has no time zones)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    email: str = Field(max_length=254, sa_column_kwargs={"unique": True}, nullable=False)
    name: str = Field(max_length=100)
    picture: str | None = Field(default=None, max_length=2000)
    password_hash: str = Field(max_length=255)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)


class UserPoint(SQLModel, table=True):
    """The cached balance. Always equals the sum of the user's ledger entries."""

    __tablename__ = "user_points"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    user_id: str = Field(foreign_key="users.id", max_length=32, sa_column_kwargs={"unique": True})
    amount: int = Field(default=0, sa_type=sa.BigInteger, nullable=False)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)


class RefreshToken(SQLModel, table=True):
    """A refresh token, stored as its SHA-256. Rotated on every use; a family shares one login."""

    __tablename__ = "refresh_tokens"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    user_id: str = Field(foreign_key="users.id", max_length=32, index=True)
    family_id: str = Field(max_length=32, index=True)
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)


class Order(SQLModel, table=True):
    """A pre-registered charge order (``preparePointCharge``): who will pay how much, under which
    ``order_key`` (the merchant's order id the gateway is given: PortOne V1's ``merchant_uid``, V2's
    ``paymentId``). Never updated once written. A gateway may report any number of payment attempts
    for one order (a virtual account issued, then a card; a failed card, then a retry): each is a
    row of ``payments`` pointing here, and every one of them that is paid is credited."""

    __tablename__ = "orders"
    __table_args__ = (
        sa.UniqueConstraint("provider", "order_key", name="uq_orders_provider_order_key"),
        sa.Index("ix_orders_user_created", "user_id", "created_at"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    provider: str = Field(max_length=16)  # portone_v1 | portone_v2
    order_key: str = Field(max_length=100)
    user_id: str = Field(foreign_key="users.id", max_length=32)
    amount: int = Field(sa_type=sa.BigInteger)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class Payment(SQLModel, table=True):
    """One payment attempt a gateway reported, under its id (``payment_key``: PortOne V1's
    ``imp_uid``, V2's ``paymentId``), from its first sighting to its final state. Ids are unique per
    provider only: V2 ids are chosen by clients and may equal a V1 ``imp_uid``.

    ``order_id``/``order_amount`` are the order the attempt was made for (copied when the attempt
    is first recorded; orders never change), ``user_id`` whom it is credited to. ``credited_at`` is
    set in the same transaction as the credit ledger entry: the conditional update on it
    (``WHERE credited_at IS NULL``) is what makes concurrent syncs credit once.
    """

    __tablename__ = "payments"
    __table_args__ = (
        sa.UniqueConstraint("provider", "payment_key", name="uq_payments_provider_payment_key"),
        sa.Index("ix_payments_user_created", "user_id", "created_at"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    provider: str = Field(max_length=16)  # portone_v1 | portone_v2
    payment_key: str = Field(max_length=100)  # the attempt's id at its gateway
    order_key: str = Field(max_length=100, index=True)  # the order's id at its gateway
    order_id: str | None = Field(default=None, foreign_key="orders.id", max_length=32, index=True)
    user_id: str | None = Field(default=None, foreign_key="users.id", max_length=32)
    order_amount: int | None = Field(default=None, sa_type=sa.BigInteger)  # the order's amount, if any
    amount: int = Field(default=0, sa_type=sa.BigInteger)  # what the gateway says was paid
    cancelled_amount: int = Field(default=0, sa_type=sa.BigInteger)
    credited_amount: int = Field(default=0, sa_type=sa.BigInteger)  # net points credited for it
    currency: str = Field(default="KRW", max_length=3)
    pay_method: str | None = Field(default=None, max_length=32)
    pg_provider: str | None = Field(default=None, max_length=64)
    status: str = Field(max_length=24, index=True)
    anomaly: str | None = Field(default=None, max_length=64)  # e.g. amount_mismatch
    vbank_name: str | None = Field(default=None, max_length=64)
    vbank_code: str | None = Field(default=None, max_length=16)
    vbank_num: str | None = Field(default=None, max_length=64)
    vbank_holder: str | None = Field(default=None, max_length=64)
    vbank_due_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    snapshot: str | None = Field(default=None, sa_type=sa.Text)  # last gateway answer, JSON
    credited_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    paid_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class PointTransaction(SQLModel, table=True):
    """The points ledger. Append-only: never updated or deleted; corrections are new entries.

    ``entry_key`` is unique and names why the entry exists (``charge:<payment id>``…): the final
    guard against a double credit, whatever the code above it does.
    """

    __tablename__ = "point_transactions"
    __table_args__ = (
        sa.Index("ix_point_tx_user_created", "user_id", "created_at", "id"),
        sa.Index("ix_point_tx_user_status_created", "user_id", "status", "created_at", "id"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    user_id: str = Field(foreign_key="users.id", max_length=32)
    payment_id: str | None = Field(default=None, foreign_key="payments.id", max_length=32, index=True)
    entry_key: str = Field(max_length=140, sa_column_kwargs={"unique": True})
    status: str = Field(max_length=8)  # 충전 | 취소 | 구매 | 판매
    amount: int = Field(sa_type=sa.BigInteger)  # signed
    balance: int = Field(sa_type=sa.BigInteger)  # the user's balance after this entry
    payment_key: str | None = Field(default=None, max_length=100)
    detail: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    # 구매/판매 entries: the item bought or sold (entry_key "buy:<item id>" / "sell:<item id>").
    useditem_id: str | None = Field(default=None, foreign_key="useditems.id", max_length=32, index=True)


class UseditemAddress(SQLModel, table=True):
    """Where an item can be picked up (codecamp's UseditemAddress)."""

    __tablename__ = "useditem_addresses"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    zipcode: str | None = Field(default=None, max_length=10)
    address: str | None = Field(default=None, max_length=200)
    address_detail: str | None = Field(default=None, max_length=200)
    lat: float | None = Field(default=None)  # coordinates, not money: floats are fine here
    lng: float | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)


class Useditem(SQLModel, table=True):
    """An item for sale. ``price`` is the server's: a purchase charges this, never a client's number.

    ``buyer_id`` is set once, by the purchase (``WHERE buyer_id IS NULL``); with the unique ledger
    keys ``buy:<id>``/``sell:<id>`` that is what makes an item sell once."""

    __tablename__ = "useditems"
    __table_args__ = (
        sa.Index("ix_useditems_listing", "deleted_at", "sold_at", "created_at", "id"),
        sa.Index("ix_useditems_seller_created", "seller_id", "created_at"),
        sa.Index("ix_useditems_buyer_created", "buyer_id", "created_at"),
        sa.Index("ix_useditems_picked", "picked_count"),
        sa.CheckConstraint("price > 0", name="ck_useditems_price_positive"),
        sa.CheckConstraint("picked_count >= 0", name="ck_useditems_picked_count"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    name: str = Field(max_length=100)
    remarks: str = Field(default="", max_length=300)
    contents: str = Field(default="", sa_type=sa.Text)
    price: int = Field(sa_type=sa.BigInteger)
    tags: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    images: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    picked_count: int = Field(default=0)
    address_id: str | None = Field(default=None, foreign_key="useditem_addresses.id", max_length=32)
    seller_id: str = Field(foreign_key="users.id", max_length=32)
    buyer_id: str | None = Field(default=None, foreign_key="users.id", max_length=32)
    sold_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)


class UseditemPick(SQLModel, table=True):
    """A user's 찜 of an item; the unique pair is what makes toggling idempotent under races."""

    __tablename__ = "useditem_picks"
    __table_args__ = (
        sa.UniqueConstraint("useditem_id", "user_id", name="uq_useditem_picks_item_user"),
        sa.Index("ix_useditem_picks_user_created", "user_id", "created_at"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    useditem_id: str = Field(foreign_key="useditems.id", max_length=32)
    user_id: str = Field(foreign_key="users.id", max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class UseditemQuestion(SQLModel, table=True):
    """A question about an item (codecamp's UseditemQuestion). Soft-deleted by its author."""

    __tablename__ = "useditem_questions"
    __table_args__ = (sa.Index("ix_useditem_questions_item_created", "useditem_id", "created_at", "id"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    useditem_id: str = Field(foreign_key="useditems.id", max_length=32)
    user_id: str = Field(foreign_key="users.id", max_length=32)
    contents: str = Field(sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)


class UseditemQuestionAnswer(SQLModel, table=True):
    """An answer to a question (codecamp's UseditemQuestionAnswer). Soft-deleted by its author."""

    __tablename__ = "useditem_question_answers"
    __table_args__ = (sa.Index("ix_useditem_question_answers_question_created", "question_id", "created_at", "id"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    question_id: str = Field(foreign_key="useditem_questions.id", max_length=32)
    user_id: str = Field(foreign_key="users.id", max_length=32)
    contents: str = Field(sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)


class PaymentEvent(SQLModel, table=True):
    """Every status transition of a payment, with what caused it (an audit trail, append-only)."""

    __tablename__ = "payment_events"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    payment_id: str = Field(foreign_key="payments.id", max_length=32, index=True)
    from_status: str | None = Field(default=None, max_length=24)
    to_status: str = Field(max_length=24)
    source: str = Field(max_length=16)  # mutation | webhook | redirect | reconcile | cancel | prepare | card
    detail: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class CancelRequest(SQLModel, table=True):
    """A cancel we asked a gateway for. Recorded before the call so that a crash after the gateway
    refunded is finished by the next sync; while ``requested`` it holds the points it will take."""

    __tablename__ = "cancel_requests"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    payment_id: str = Field(foreign_key="payments.id", max_length=32, index=True)
    user_id: str = Field(foreign_key="users.id", max_length=32, index=True)
    amount: int = Field(sa_type=sa.BigInteger)
    checksum: int = Field(sa_type=sa.BigInteger)  # cancellable amount when requested
    cancelled_after: int = Field(sa_type=sa.BigInteger)  # payment.cancelled_amount once it succeeds
    reason: str = Field(max_length=200)
    status: str = Field(default="requested", max_length=16, index=True)  # requested|succeeded|failed
    error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)


class WebhookDelivery(SQLModel, table=True):
    """A webhook exactly as it reached us, stored before it is processed, then its outcome."""

    __tablename__ = "webhook_deliveries"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    provider: str = Field(max_length=16)  # portone_v1 | portone_v2
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False, index=True)
    remote_addr: str | None = Field(default=None, max_length=64)
    headers: str = Field(sa_type=sa.Text)  # JSON
    body: str = Field(sa_type=sa.Text)
    payment_key: str | None = Field(default=None, max_length=100, index=True)
    event: str | None = Field(default=None, max_length=64)
    outcome: str = Field(default="received", max_length=16, index=True)  # received|processed|ignored|failed|rejected
    error: str | None = Field(default=None, max_length=500)
    attempts: int = Field(default=0)
    processed_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)


# Mappers are configured on first use of the ORM; ``detached`` instances skip ``__init__``, which is
# what triggers it, so a fresh worker whose first database work is the lean charge path would build
# half-instrumented objects. Configure them now, once all the tables above are declared.
sa.orm.configure_mappers()


class FileUpload(SQLModel, table=True):
    """An uploaded image (GraphQL ``FileManager``). ``url`` is what clients store and show
    (``<bucket>/<yyyy>/<m>/<d>/<random>.<ext>``); ``storage_key`` is the object's key in the store.
    ``is_used`` turns true when an item or a user picture of its uploader references it; unused
    uploads are deleted after a day (``deleted_at`` set, the object removed)."""

    __tablename__ = "file_uploads"
    __table_args__ = (sa.Index("ix_file_uploads_unused", "is_used", "deleted_at", "created_at"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    user_id: str = Field(foreign_key="users.id", max_length=32, index=True)
    url: str = Field(max_length=300, sa_column_kwargs={"unique": True})
    storage_key: str = Field(max_length=300)
    size: int = Field(sa_type=sa.BigInteger)
    content_type: str = Field(max_length=50)
    is_used: bool = Field(default=False, nullable=False)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)


class PaymentCard(SQLModel, table=True):
    """A saved card (정기결제 billing key), one per user × card. The key itself stays at the gateway;
    we keep the ``customer_uid`` it is filed under (PortOne V1) and what the gateway shows of the card
    (its name, the masked number), never a card number.

    ``status``: ``prepared`` (preparePaymentCard made the uid for this user; no key yet) → ``active``
    (registerPaymentCard saw the key at the gateway) → ``deleted`` (the key deleted at the gateway).
    A uid is never reused: PortOne silently rebinds a reused one to the newer card and keeps the old
    key alive (billing-and-bootpay.md §F.1)."""

    __tablename__ = "payment_cards"
    __table_args__ = (sa.Index("ix_payment_cards_user_status", "user_id", "status", "created_at"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    user_id: str = Field(foreign_key="users.id", max_length=32)
    provider: str = Field(max_length=16)  # portone_v1
    customer_uid: str = Field(max_length=80, sa_column_kwargs={"unique": True})
    customer_id: str | None = Field(default=None, max_length=100)
    issue_order_key: str | None = Field(default=None, max_length=40)  # the 0-won issuance's merchant_uid
    status: str = Field(max_length=16)
    card_name: str | None = Field(default=None, max_length=64)
    card_number: str | None = Field(default=None, max_length=32)  # masked, as the gateway shows it
    card_type: int | None = Field(default=None)  # 0 credit, 1 check (PortOne), null if unknown
    pg_provider: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    registered_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class CardCharge(SQLModel, table=True):
    """A charge order being paid with a saved card (createPointTransactionOfLoadingWithCard): one row
    per order, the order being the idempotency key. Written and committed *before* the gateway is
    asked, so that a retry after a crash knows an attempt may be at the gateway and looks it up.

    ``state``: ``charging`` (an attempt is in flight until ``lease_until``), ``paid`` (credited:
    ``payment_id``), ``declined`` (the card company said no: ``fail_reason``; the order may be tried
    again), ``refused`` (the gateway refused the request, nothing charged), ``unknown`` (no answer:
    look the order up at the gateway before charging again). ``attempt`` counts the claims and fences
    them: an update is conditional on the attempt it was made for."""

    __tablename__ = "card_charges"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    order_id: str = Field(foreign_key="orders.id", max_length=32, sa_column_kwargs={"unique": True})
    user_id: str = Field(foreign_key="users.id", max_length=32)
    card_id: str = Field(foreign_key="payment_cards.id", max_length=32, index=True)
    state: str = Field(max_length=16)
    attempt: int = Field(default=1)
    lease_until: datetime = Field(sa_type=UTCDateTime, nullable=False)
    payment_id: str | None = Field(default=None, foreign_key="payments.id", max_length=32)
    fail_reason: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


# A subscription's live statuses: the ones that hold the user's one slot (the partial unique index
# below) and that the runner charges. CREATING: the first month is being charged by
# createPointSubscription (or, after a crash, by the runner); FAILED: that first charge was declined
# (never shown: no subscription came of it).
LIVE_SUBSCRIPTION = "status IN ('CREATING', 'ACTIVE', 'PAST_DUE')"


def new_subscription_id() -> str:
    # 80 random bits: short enough that "ps_<id>_c<cycle>_a<attempt>" fits PortOne V1's 40-char merchant_uid.
    return uuid.uuid4().hex[:20]


class PointSubscription(SQLModel, table=True):
    """A monthly point top-up (정기 충전) on a saved card: ``amount`` KRW charged on ``billing_day``
    of every month (clamped to the month's end), counted from ``anchor_at`` (the first charge's time:
    cycle n is due n-1 months after it, so a clamped February never moves March's day).

    ``cycle`` is the cycle to charge next and ``attempt`` how many attempts it has had (0..3).
    ``lease_until``/``lease_token``: a runner's claim on the row (a conditional update), fencing every
    later write of that runner; a lapsed lease belongs to a process that is gone."""

    __tablename__ = "point_subscriptions"
    __table_args__ = (
        sa.Index("ix_point_subscriptions_user_created", "user_id", "created_at"),
        sa.Index("ix_point_subscriptions_card", "card_id"),
        sa.Index("ix_point_subscriptions_next_charge_at", "next_charge_at"),
        sa.Index(
            "uq_point_subscriptions_live_user", "user_id", unique=True,
            sqlite_where=sa.text(LIVE_SUBSCRIPTION), postgresql_where=sa.text(LIVE_SUBSCRIPTION),
        ),
        sa.CheckConstraint("amount > 0", name="ck_point_subscriptions_amount_positive"),
        sa.CheckConstraint("billing_day BETWEEN 1 AND 31", name="ck_point_subscriptions_billing_day"),
    )

    id: str = Field(default_factory=new_subscription_id, primary_key=True, max_length=32)
    user_id: str = Field(foreign_key="users.id", max_length=32)
    card_id: str = Field(foreign_key="payment_cards.id", max_length=32)
    amount: int = Field(sa_type=sa.BigInteger)
    billing_day: int
    anchor_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    status: str = Field(max_length=16)  # CREATING | ACTIVE | PAST_DUE | SUSPENDED | CANCELLED | FAILED
    cycle: int = Field(default=1)
    attempt: int = Field(default=0)
    next_charge_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    lease_token: str | None = Field(default=None, max_length=32)
    last_charged_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    last_failure_reason: str | None = Field(default=None, max_length=200)
    ended_reason: str | None = Field(default=None, max_length=200)  # why SUSPENDED / CANCELLED / FAILED
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)


class PointSubscriptionAttempt(SQLModel, table=True):
    """One charge attempt of a subscription's cycle, written (with its own order, ``order_key`` =
    ``ps_<subscription>_c<cycle>_a<attempt>``) and committed *before* the gateway is asked, so that a
    run after a crash finds it and looks its merchant_uid up before charging anything again.

    ``state``: charging | paid | declined | refused | unknown. The database keeps one row per
    (subscription, cycle, attempt) and at most one ``paid`` row per (subscription, cycle)."""

    __tablename__ = "point_subscription_attempts"
    __table_args__ = (
        sa.UniqueConstraint("subscription_id", "cycle", "attempt", name="uq_point_subscription_attempts_key"),
        sa.Index(
            "uq_point_subscription_attempts_paid_cycle", "subscription_id", "cycle", unique=True,
            sqlite_where=sa.text("state = 'paid'"), postgresql_where=sa.text("state = 'paid'"),
        ),
        sa.Index("ix_point_subscription_attempts_state_updated", "state", "updated_at"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    subscription_id: str = Field(foreign_key="point_subscriptions.id", max_length=32)
    cycle: int
    attempt: int
    order_id: str = Field(foreign_key="orders.id", max_length=32, sa_column_kwargs={"unique": True})
    order_key: str = Field(max_length=100)
    state: str = Field(max_length=16)
    payment_id: str | None = Field(default=None, foreign_key="payments.id", max_length=32)
    fail_reason: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
