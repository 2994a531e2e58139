"""The item catalogue and buying: a buyer pays a seller the price the server holds, once.

A purchase is one transaction, locks in the fixed order of services/locks.py (the item row, then
both balance rows by user id):
1. the item, not deleted; a retry by its buyer returns it and moves nothing; then both balances;
2. the buyer's debit and ``구매`` entry (``buy:<item>``, -price), the debit conditional on the
   balance minus the holds of cancels in flight: one statement, right under the balance lock
   (``ledger.append_entry(balance_locked=True)``);
   With the price the buyer saw (``expected_price``), a different price on the locked row is
   ``PRICE_CHANGED`` before anything is written;
3. ``buyer_id`` set by a conditional update (``WHERE buyer_id IS NULL``: SQLite has no row locks)
   and the seller's ``판매`` (``sell:<item>``, +price): the unique entry keys refuse a second sale
   of the item whatever the code above does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Select

from services import ledger
from services.db import Database
from services.errors import Code, DomainError
from services.file_urls import check_file_url
from services.inputs import PAGE_SIZE, id_or_not_found
from services.inputs import bad_input as _bad
from services.inputs import clean as _clean
from services.inputs import page_offset as _page_offset
from services.inputs import text_field as _text
from services.files import mark_used
from services.locks import lock_balances, lock_useditem
from services.models import Useditem, UseditemAddress, UseditemPick, utcnow

log = logging.getLogger("pointcharge.items")

MAX_SEARCH = 100
BEST_COUNT = 4
DEFAULT_PRICE_MAX = 100_000_000
MAX_NAME = 100
MAX_REMARKS = 300
MAX_CONTENTS = 10_000
MAX_TAGS = 10
MAX_TAG = 30
MAX_IMAGES = 10
ITEM_NOT_FOUND = "상품을 찾을 수 없습니다."


@dataclass
class AddressInput:
    zipcode: str | None = None
    address: str | None = None
    address_detail: str | None = None
    lat: float | None = None
    lng: float | None = None


@dataclass
class ItemInput:
    """What a client may set. ``None``: not given (an update leaves it as it is)."""

    name: str | None = None
    remarks: str | None = None
    contents: str | None = None
    price: int | None = None
    tags: list[str] | None = None
    images: list[str] | None = None
    address: AddressInput | None = None


def _optional_text(value: str | None, field_name: str, label: str, limit: int) -> str | None:
    if value is None:
        return None
    return _text(value, field_name, label, limit) or None


def item_id_or_not_found(raw: str) -> str:
    return id_or_not_found(raw, ITEM_NOT_FOUND)


def _like(search: str | None) -> str | None:
    if not search:
        return None
    search = _clean(search)[:MAX_SEARCH]
    if not search:
        return None
    escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


class ItemService:
    def __init__(
        self, db: Database, *, price_max: int = DEFAULT_PRICE_MAX, balance_max: int = ledger.BALANCE_MAX,
        after_purchase: Callable[[str], None] | None = None,
    ) -> None:
        self.db = db
        self.price_max = price_max
        self.balance_max = balance_max  # a sale that would take the seller past it is refused
        # Told the buyer's id once a purchase has committed (auto top-up); must not wait or raise.
        self.after_purchase = after_purchase

    # --- validation ------------------------------------------------------------------------

    def _validated(self, i: ItemInput, *, creating: bool) -> dict[str, Any]:
        values: dict[str, Any] = {}
        if creating or i.name is not None:
            values["name"] = _text(i.name or "", "name", "상품명", MAX_NAME, required=True)
        if creating or i.remarks is not None:
            values["remarks"] = _text(i.remarks or "", "remarks", "한줄요약", MAX_REMARKS)
        if creating or i.contents is not None:
            values["contents"] = _text(i.contents or "", "contents", "상품 설명", MAX_CONTENTS, multiline=True)
        if creating or i.price is not None:
            if i.price is None or not 1 <= i.price <= self.price_max:
                raise _bad(f"가격은 1원 이상 {self.price_max:,}원 이하여야 합니다.", "price")
            values["price"] = int(i.price)
        if i.tags is not None or creating:
            # Lenient where the apps are: an empty tag box sends [""]; blanks are dropped, and a tag
            # given twice (or with spaces around it) is kept once, where it first appeared.
            tags = list(dict.fromkeys(t for t in (_clean(t) for t in i.tags or []) if t))
            if len(tags) > MAX_TAGS:
                raise _bad(f"태그는 {MAX_TAGS}개까지 입력할 수 있습니다.", "tags")
            if any(len(t) > MAX_TAG for t in tags):
                raise _bad(f"태그는 {MAX_TAG}자 이하여야 합니다.", "tags")
            values["tags"] = tags
        if i.images is not None or creating:
            # The codecamp upload pattern sends ["", "", ""] for unused slots: dropped, not refused.
            images = [u for u in (_clean(u) for u in i.images or []) if u]
            if len(images) > MAX_IMAGES:
                raise _bad(f"이미지는 {MAX_IMAGES}개까지 등록할 수 있습니다.", "images")
            values["images"] = [check_file_url(u, "images") for u in images]
        return values

    @staticmethod
    def _address_values(a: AddressInput) -> dict[str, Any]:
        for value, name, low, high in ((a.lat, "lat", -90.0, 90.0), (a.lng, "lng", -180.0, 180.0)):
            if value is not None and not (low <= value <= high):  # NaN fails this too
                raise _bad("좌표가 올바르지 않습니다.", f"useditemAddress.{name}")
        return {
            "zipcode": _optional_text(a.zipcode, "useditemAddress.zipcode", "우편번호", 10),
            "address": _optional_text(a.address, "useditemAddress.address", "주소", 200),
            "address_detail": _optional_text(a.address_detail, "useditemAddress.addressDetail", "상세주소", 200),
            "lat": a.lat,
            "lng": a.lng,
        }

    # --- writes ----------------------------------------------------------------------------

    async def create(self, seller_id: str, i: ItemInput) -> Useditem:
        values = self._validated(i, creating=True)
        address = self._address_values(i.address) if i.address is not None else None
        async with self.db.transaction() as s:
            item = Useditem(seller_id=seller_id, **values)
            if address is not None:
                row = UseditemAddress(**address)
                s.add(row)
                await s.flush()
                item.address_id = row.id
            s.add(item)
            await mark_used(s, seller_id, values["images"])
        return item

    async def _lock_own_unsold(self, s: AsyncSession, user_id: str, item_id: str, verb: str) -> Useditem:
        item = await lock_useditem(s, item_id=item_id_or_not_found(item_id))
        if item is None:
            raise DomainError(Code.NOT_FOUND, ITEM_NOT_FOUND)
        if item.seller_id != user_id:
            raise DomainError(Code.FORBIDDEN, f"자신의 상품만 {verb}할 수 있습니다.")
        if item.buyer_id is not None:
            raise DomainError(Code.ITEM_SOLD_OUT, f"이미 판매된 상품은 {verb}할 수 없습니다.")
        return item

    async def update(self, user_id: str, item_id: str, i: ItemInput) -> Useditem:
        values = self._validated(i, creating=False)
        address = self._address_values(i.address) if i.address is not None else None
        async with self.db.transaction() as s:
            item = await self._lock_own_unsold(s, user_id, item_id, "수정")
            now = utcnow()
            if address is not None:
                if item.address_id is None:
                    row = UseditemAddress(**address)
                    s.add(row)
                    await s.flush()
                    values["address_id"] = row.id
                else:
                    await s.execute(
                        update(UseditemAddress)
                        .where(UseditemAddress.id == item.address_id)
                        .values(**address, updated_at=now)
                    )
            # Conditional on still unsold: SQLite ignores the row lock above.
            done = await s.execute(
                update(Useditem)
                .where(Useditem.id == item.id, Useditem.buyer_id.is_(None), Useditem.deleted_at.is_(None))
                .values(**values, updated_at=now)
            )
            if done.rowcount != 1:
                raise DomainError(Code.ITEM_SOLD_OUT, "이미 판매된 상품은 수정할 수 없습니다.")
            await mark_used(s, user_id, values.get("images", ()))
        return await self.get(item.id)

    async def delete(self, user_id: str, item_id: str) -> str:
        async with self.db.transaction() as s:
            item = await self._lock_own_unsold(s, user_id, item_id, "삭제")
            done = await s.execute(
                update(Useditem)
                .where(Useditem.id == item.id, Useditem.buyer_id.is_(None), Useditem.deleted_at.is_(None))
                .values(deleted_at=utcnow())
            )
            if done.rowcount != 1:
                raise DomainError(Code.ITEM_SOLD_OUT, "이미 판매된 상품은 삭제할 수 없습니다.")
        return item.id

    async def toggle_pick(self, user_id: str, item_id: str) -> int:
        """찜 on or off; returns the item's new count. The unique (item, user) pair and the item
        row lock keep the count equal to the number of picks."""
        async with self.db.transaction() as s:
            item = await lock_useditem(s, item_id=item_id_or_not_found(item_id))
            if item is None:
                raise DomainError(Code.NOT_FOUND, ITEM_NOT_FOUND)
            removed = await s.execute(
                delete(UseditemPick).where(UseditemPick.useditem_id == item.id, UseditemPick.user_id == user_id)
            )
            if removed.rowcount:
                delta = -1
            else:
                s.add(UseditemPick(useditem_id=item.id, user_id=user_id))
                await s.flush()
                delta = 1
            return int(
                (
                    await s.execute(
                        update(Useditem)
                        .where(Useditem.id == item.id)
                        .values(picked_count=Useditem.picked_count + delta)
                        .returning(Useditem.picked_count)
                    )
                ).scalar_one()
            )

    async def buy(self, buyer_id: str, item_id: str, *, expected_price: int | None = None) -> Useditem:
        """``expected_price``: the price the buyer saw; another price now (the seller changed it
        since) is ``PRICE_CHANGED`` with the current one, and nothing moves."""
        item_id = item_id_or_not_found(item_id)
        try:
            async with self.db.transaction() as s:
                item = await self._buy(s, buyer_id, item_id, expected_price)
        except IntegrityError:
            # A ledger key of this sale already exists: someone else's purchase won.
            raise DomainError(Code.ITEM_SOLD_OUT) from None
        if self.after_purchase is not None:
            try:
                self.after_purchase(buyer_id)
            except Exception:  # the purchase has happened: nothing after it may say otherwise
                log.exception("after-purchase hook failed")
        return item

    async def _buy(self, s: AsyncSession, buyer_id: str, item_id: str, expected_price: int | None) -> Useditem:
        item = await lock_useditem(s, item_id=item_id)
        if item is None:
            raise DomainError(Code.NOT_FOUND, ITEM_NOT_FOUND)
        if item.buyer_id == buyer_id:
            return item  # a retry of a purchase that succeeded: the item again, no points moved
        if item.buyer_id is not None:
            raise DomainError(Code.ITEM_SOLD_OUT)
        if item.seller_id == buyer_id:
            raise DomainError(Code.CANNOT_BUY_OWN_ITEM)
        # Read from the locked row (PostgreSQL: FOR UPDATE; SQLite: BEGIN IMMEDIATE), so that a
        # price change cannot land between this check and the debit of the same price below.
        if expected_price is not None and expected_price != item.price:
            raise DomainError(Code.PRICE_CHANGED, price=item.price)
        await lock_balances(s, buyer_id, item.seller_id)
        # Both rows are locked from here on: the debit checks balance minus holds in its own
        # conditional UPDATE (no second read of the row, no second sum of the holds). It comes
        # before the item's guard so that a short buyer is told so first, as before.
        await ledger.append_entry(
            s, user_id=buyer_id, amount=-item.price, status=ledger.BUY,
            entry_key=f"buy:{item.id}", detail=item.name, useditem_id=item.id, balance_locked=True,
        )
        now = utcnow()
        won = await s.execute(
            update(Useditem)
            .where(Useditem.id == item.id, Useditem.buyer_id.is_(None), Useditem.deleted_at.is_(None))
            .values(buyer_id=buyer_id, sold_at=now, updated_at=now)
        )
        if won.rowcount != 1:
            raise DomainError(Code.ITEM_SOLD_OUT)
        try:
            await ledger.append_entry(
                s, user_id=item.seller_id, amount=item.price, status=ledger.SELL,
                entry_key=f"sell:{item.id}", detail=item.name, useditem_id=item.id, balance_max=self.balance_max,
            )  # fmt: skip
        except DomainError as exc:
            if exc.code != Code.BALANCE_LIMIT_EXCEEDED:
                raise
            # Rolled back with the whole purchase: the buyer keeps the points.
            raise DomainError(
                exc.code, "판매자의 보유 포인트가 한도를 넘게 되어 구매할 수 없습니다.", **exc.extensions
            ) from None
        item.buyer_id, item.sold_at, item.updated_at = buyer_id, now, now
        return item

    # --- reads -----------------------------------------------------------------------------

    async def get(self, item_id: str) -> Useditem:
        item_id = item_id_or_not_found(item_id)
        async with self.db.session() as s:
            item = await s.get(Useditem, item_id)
        if item is None or item.deleted_at is not None:
            raise DomainError(Code.NOT_FOUND, ITEM_NOT_FOUND)
        return item

    async def addresses(self, address_ids: Sequence[str]) -> list[UseditemAddress | None]:
        """The addresses of a page of items, in one query (a DataLoader's batch)."""
        return await self.db.rows_by(UseditemAddress.id, address_ids)

    async def many(self, item_ids: Sequence[str]) -> list[Useditem | None]:
        """The items of a page of ledger entries, deleted ones included, in one query."""
        return await self.db.rows_by(Useditem.id, item_ids)

    @staticmethod
    def _searched(query: Select, search: str | None) -> Select:
        pattern = _like(search)
        if pattern is None:
            return query
        return query.where(
            or_(
                func.lower(Useditem.name).like(pattern, escape="\\"),
                func.lower(Useditem.remarks).like(pattern, escape="\\"),
                func.lower(Useditem.contents).like(pattern, escape="\\"),
            )
        )

    async def _page(self, query: Select, page: int | None) -> list[Useditem]:
        offset = _page_offset(page)
        query = query.order_by(Useditem.created_at.desc(), Useditem.id.desc()).offset(offset).limit(PAGE_SIZE)
        async with self.db.session() as s:
            return list((await s.execute(query)).scalars())

    async def _count(self, query: Select) -> int:
        async with self.db.session() as s:
            return int((await s.execute(select(func.count()).select_from(query.subquery()))).scalar_one())

    @staticmethod
    def _listed(is_soldout: bool | None) -> Select:
        query = select(Useditem).where(Useditem.deleted_at.is_(None))
        if is_soldout:
            return query.where(Useditem.sold_at.is_not(None))
        return query.where(Useditem.sold_at.is_(None))

    async def listing(self, *, is_soldout: bool | None = False, search: str | None = None, page: int | None = 1) -> list[Useditem]:
        return await self._page(self._searched(self._listed(is_soldout), search), page)

    @staticmethod
    def _bought(user_id: str) -> Select:
        return select(Useditem).where(Useditem.buyer_id == user_id)

    @staticmethod
    def _sold(user_id: str) -> Select:
        # Everything the user put up for sale (codecamp's "ISold": the seller's items, sold or not).
        return select(Useditem).where(Useditem.seller_id == user_id, Useditem.deleted_at.is_(None))

    @staticmethod
    def _picked(user_id: str) -> Select:
        return (
            select(Useditem)
            .join(UseditemPick, UseditemPick.useditem_id == Useditem.id)
            .where(UseditemPick.user_id == user_id, Useditem.deleted_at.is_(None))
        )

    async def bought(self, user_id: str, *, search: str | None = None, page: int | None = 1) -> list[Useditem]:
        return await self._page(self._searched(self._bought(user_id), search), page)

    async def sold(self, user_id: str, *, search: str | None = None, page: int | None = 1) -> list[Useditem]:
        return await self._page(self._searched(self._sold(user_id), search), page)

    async def picked(self, user_id: str, *, search: str | None = None, page: int | None = 1) -> list[Useditem]:
        return await self._page(self._searched(self._picked(user_id), search), page)

    async def count_bought(self, user_id: str) -> int:
        return await self._count(self._bought(user_id))

    async def count_sold(self, user_id: str) -> int:
        return await self._count(self._sold(user_id))

    async def count_picked(self, user_id: str) -> int:
        return await self._count(self._picked(user_id))

    async def best(self) -> list[Useditem]:
        query = (
            select(Useditem)
            .where(Useditem.deleted_at.is_(None))
            .order_by(Useditem.picked_count.desc(), Useditem.created_at.desc(), Useditem.id.desc())
            .limit(BEST_COUNT)
        )
        async with self.db.session() as s:
            return list((await s.execute(query)).scalars())


__all__ = ["AddressInput", "ItemInput", "ItemService", "item_id_or_not_found"]
