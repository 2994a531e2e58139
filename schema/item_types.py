"""Items for sale, in the shape codecamp frontends already call (names and types are a contract)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from schema import loaders
from schema.context import Info
from schema.loaders import item_service
from schema.types import User
from services import models
from services.errors import Code, DomainError
from services.items import ITEM_NOT_FOUND, AddressInput, ItemInput

__all__ = ["Useditem", "UseditemAddress", "item_service"]


@strawberry.type
class UseditemAddress:
    id: strawberry.ID = strawberry.field(name="_id")
    zipcode: str | None
    address: str | None
    address_detail: str | None
    lat: float | None
    lng: float | None
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None

    @classmethod
    def from_model(cls, a: models.UseditemAddress) -> "UseditemAddress":
        return cls(
            id=strawberry.ID(a.id), zipcode=a.zipcode, address=a.address, address_detail=a.address_detail,
            lat=a.lat, lng=a.lng, created_at=a.created_at, updated_at=a.updated_at, deleted_at=a.deleted_at,
        )


async def load_user(info: Info, user_id: str | None) -> User | None:
    """A seller, buyer or author, through the request's one ``users`` DataLoader."""
    if user_id is None:
        return None
    user = await loaders.users(info).load(user_id)
    return User.from_model(user) if user is not None else None


@strawberry.type(description="판매 상품. 가격은 서버가 가진 값이며, 구매 시 클라이언트가 보낸 금액은 쓰지 않습니다.")
class Useditem:
    id: strawberry.ID = strawberry.field(name="_id")
    name: str
    remarks: str
    contents: str
    price: int | None
    tags: list[str] | None
    images: list[str] | None
    picked_count: int | None
    sold_at: datetime | None
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    seller_id: strawberry.Private[str]
    buyer_id: strawberry.Private[str | None]
    address_id: strawberry.Private[str | None]

    @strawberry.field
    async def useditem_address(self, info: Info) -> UseditemAddress | None:
        if self.address_id is None:
            return None
        address = await loaders.addresses(info).load(self.address_id)
        return UseditemAddress.from_model(address) if address is not None else None

    @strawberry.field
    async def seller(self, info: Info) -> User | None:
        return await load_user(info, self.seller_id)

    @strawberry.field
    async def buyer(self, info: Info) -> User | None:
        return await load_user(info, self.buyer_id)

    @classmethod
    def from_model(cls, i: models.Useditem) -> "Useditem":
        return cls(
            id=strawberry.ID(i.id), name=i.name, remarks=i.remarks, contents=i.contents, price=i.price,
            tags=list(i.tags or []), images=list(i.images or []), picked_count=i.picked_count,
            sold_at=i.sold_at, created_at=i.created_at, updated_at=i.updated_at, deleted_at=i.deleted_at,
            seller_id=i.seller_id, buyer_id=i.buyer_id, address_id=i.address_id,
        )


async def load_item(info: Info, item_id: str) -> Useditem:
    """An item through the request's ``items`` DataLoader, deleted ones included (what a ledger entry
    or a question points at stays readable)."""
    item = await loaders.items(info).load(item_id)
    if item is None:
        raise DomainError(Code.NOT_FOUND, ITEM_NOT_FOUND)
    return Useditem.from_model(item)


@strawberry.input
class UseditemAddressInput:
    zipcode: str | None = None
    address: str | None = None
    address_detail: str | None = None
    lat: float | None = None
    lng: float | None = None

    def to_service(self) -> AddressInput:
        return AddressInput(self.zipcode, self.address, self.address_detail, self.lat, self.lng)


@strawberry.input
class CreateUseditemInput:
    name: str
    remarks: str
    contents: str
    price: int
    tags: list[str] | None = None
    useditem_address: UseditemAddressInput | None = None
    images: list[str] | None = None

    def to_service(self) -> ItemInput:
        return ItemInput(
            name=self.name, remarks=self.remarks, contents=self.contents, price=self.price,
            tags=self.tags, images=self.images,
            address=self.useditem_address.to_service() if self.useditem_address else None,
        )


@strawberry.input
class UpdateUseditemInput:
    name: str | None = None
    remarks: str | None = None
    contents: str | None = None
    price: int | None = None
    tags: list[str] | None = None
    useditem_address: UseditemAddressInput | None = None
    images: list[str] | None = None

    def to_service(self) -> ItemInput:
        return ItemInput(
            name=self.name, remarks=self.remarks, contents=self.contents, price=self.price,
            tags=self.tags, images=self.images,
            address=self.useditem_address.to_service() if self.useditem_address else None,
        )
