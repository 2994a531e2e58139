"""Domain errors and the catalogue of error codes clients can rely on.

A code is a stable contract with frontends (``extensions.code``, Apollo convention); the message is
Korean and meant for people. Anything that is not a ``DomainError`` is a bug and is masked.
"""

from __future__ import annotations

from typing import Any


class Code:
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    CONFLICT = "CONFLICT"
    NOT_FOUND = "NOT_FOUND"
    RATE_LIMITED = "RATE_LIMITED"
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"  # overloaded (no database connection in time): retry
    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    BAD_REQUEST = "BAD_REQUEST"  # not a GraphQL request at all: bad JSON, no query, a batch (JSON array)…
    QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"  # over the cost budget (extensions cost, maxCost): nothing ran
    # Payments
    PAYMENT_NOT_FOUND = "PAYMENT_NOT_FOUND"
    PAYMENT_NOT_PAID = "PAYMENT_NOT_PAID"
    PAYMENT_PENDING = "PAYMENT_PENDING"
    AMOUNT_MISMATCH = "AMOUNT_MISMATCH"
    PAYMENT_ALREADY_CLAIMED = "PAYMENT_ALREADY_CLAIMED"
    PORTONE_UNAVAILABLE = "PORTONE_UNAVAILABLE"
    BOOTPAY_UNAVAILABLE = "BOOTPAY_UNAVAILABLE"
    GATEWAY_DISABLED = "GATEWAY_DISABLED"  # a gateway this server does not use (extensions.gateway)
    INSUFFICIENT_POINTS = "INSUFFICIENT_POINTS"
    ALREADY_CANCELLED = "ALREADY_CANCELLED"
    CANCEL_AMOUNT_INVALID = "CANCEL_AMOUNT_INVALID"
    # Buying and selling (issue 16)
    ITEM_SOLD_OUT = "ITEM_SOLD_OUT"
    CANNOT_BUY_OWN_ITEM = "CANNOT_BUY_OWN_ITEM"
    # Uploads (issue 26)
    FILE_TOO_LARGE = "FILE_TOO_LARGE"  # extensions: maxBytes
    UNSUPPORTED_FILE_TYPE = "UNSUPPORTED_FILE_TYPE"
    PRICE_CHANGED = "PRICE_CHANGED"  # extensions.price: the item's current price
    BALANCE_LIMIT_EXCEEDED = "BALANCE_LIMIT_EXCEEDED"  # a credit past POINTCHARGE_BALANCE_MAX
    # Saved cards and one-click charges (issue 25)
    PAYMENT_CARD_NOT_PREPARED = "PAYMENT_CARD_NOT_PREPARED"  # a customerUid this user did not prepare
    BILLING_KEY_NOT_FOUND = "BILLING_KEY_NOT_FOUND"  # no key at the gateway under the customerUid (yet)
    PAYMENT_CARD_NOT_FOUND = "PAYMENT_CARD_NOT_FOUND"  # no such card of this user (or deleted)
    PAYMENT_CARD_UNUSABLE = "PAYMENT_CARD_UNUSABLE"  # the gateway refused the key (extensions.reason)
    CARD_DECLINED = "CARD_DECLINED"  # the card company declined (extensions.failReason); the order is reusable
    ORDER_NOT_FOUND = "ORDER_NOT_FOUND"  # no such charge order of this user
    ORDER_ALREADY_PAID = "ORDER_ALREADY_PAID"  # paid another way (checkout, another card): make a new order
    CARD_CHARGE_IN_PROGRESS = "CARD_CHARGE_IN_PROGRESS"  # an attempt on this order is still in flight
    SUBSCRIPTION_NOT_FOUND = "SUBSCRIPTION_NOT_FOUND"  # no such subscription of this user
    SUBSCRIPTION_EXISTS = "SUBSCRIPTION_EXISTS"  # one live subscription per user (extensions.subscriptionId)


DEFAULT_MESSAGES: dict[str, str] = {
    Code.UNAUTHENTICATED: "로그인이 필요합니다.",
    Code.FORBIDDEN: "권한이 없습니다.",
    Code.BAD_USER_INPUT: "입력값이 올바르지 않습니다.",
    Code.CONFLICT: "이미 존재하는 데이터입니다.",
    Code.NOT_FOUND: "데이터를 찾을 수 없습니다.",
    Code.RATE_LIMITED: "요청이 너무 많습니다. 잠시 후 다시 시도해 주세요.",
    Code.INTERNAL_SERVER_ERROR: "서버 내부 오류가 발생했습니다. 잠시 후 다시 시도해 주세요.",
    Code.SERVICE_UNAVAILABLE: "요청이 몰려 처리하지 못했습니다. 잠시 후 다시 시도해 주세요.",
    Code.GRAPHQL_PARSE_FAILED: "GraphQL 문서를 해석할 수 없습니다.",
    Code.GRAPHQL_VALIDATION_FAILED: "GraphQL 문서가 스키마에 맞지 않습니다.",
    Code.BAD_REQUEST: "GraphQL 요청 형식이 올바르지 않습니다.",
    Code.QUERY_TOO_COMPLEX: "요청한 GraphQL 문서가 너무 복잡합니다. 필드나 목록을 줄이거나 여러 요청으로 나눠 주세요.",
    Code.PAYMENT_NOT_FOUND: "결제 내역을 찾을 수 없습니다.",
    Code.PAYMENT_NOT_PAID: "결제가 완료되지 않았습니다.",
    Code.PAYMENT_PENDING: "입금을 기다리는 중입니다. 입금이 확인되면 포인트가 충전됩니다.",
    Code.AMOUNT_MISMATCH: "결제 금액이 주문 금액과 다릅니다. 결제는 자동으로 취소되었습니다.",
    Code.PAYMENT_ALREADY_CLAIMED: "이미 다른 사용자가 사용한 결제입니다.",
    Code.PORTONE_UNAVAILABLE: "결제사(PortOne)에 연결할 수 없습니다. 잠시 후 다시 시도해 주세요.",
    Code.GATEWAY_DISABLED: "이 서버에서 사용하지 않는 결제 대행사입니다.",
    Code.BOOTPAY_UNAVAILABLE: "부트페이에 연결할 수 없습니다. 잠시 후 다시 시도해 주세요.",
    Code.INSUFFICIENT_POINTS: "포인트가 부족합니다.",
    Code.ALREADY_CANCELLED: "이미 취소된 결제입니다.",
    Code.CANCEL_AMOUNT_INVALID: "취소 금액이 올바르지 않습니다.",
    Code.ITEM_SOLD_OUT: "이미 판매된 상품입니다.",
    Code.CANNOT_BUY_OWN_ITEM: "자신의 상품은 구매할 수 없습니다.",
    Code.FILE_TOO_LARGE: "파일이 너무 큽니다.",
    Code.UNSUPPORTED_FILE_TYPE: "JPEG, PNG, WebP, GIF 이미지만 올릴 수 있습니다.",
    Code.BALANCE_LIMIT_EXCEEDED: "보유 포인트 한도를 넘어 처리할 수 없습니다.",
    Code.PAYMENT_CARD_NOT_PREPARED: "이 계정에서 시작한 카드 등록이 아닙니다. 카드 등록을 처음부터 다시 진행해 주세요.",
    Code.BILLING_KEY_NOT_FOUND: "카드 등록이 완료되지 않았습니다. 결제창에서 카드 등록을 마친 뒤 다시 시도해 주세요.",
    Code.PAYMENT_CARD_NOT_FOUND: "등록된 카드를 찾을 수 없습니다.",
    Code.PAYMENT_CARD_UNUSABLE: "이 카드로 결제할 수 없습니다. 카드를 삭제하고 다시 등록해 주세요.",
    Code.CARD_DECLINED: "카드 결제가 거절되었습니다. 다른 카드로 다시 시도해 주세요.",
    Code.ORDER_NOT_FOUND: "충전 주문을 찾을 수 없습니다.",
    Code.ORDER_ALREADY_PAID: "이미 결제된 주문입니다. 새 충전 주문을 만들어 주세요.",
    Code.CARD_CHARGE_IN_PROGRESS: "이 주문의 카드 결제를 처리하고 있습니다. 잠시 후 다시 시도해 주세요.",
    Code.SUBSCRIPTION_NOT_FOUND: "정기 충전을 찾을 수 없습니다.",
    Code.SUBSCRIPTION_EXISTS: "이미 이용 중인 정기 충전이 있습니다. 기존 정기 충전을 해지한 뒤 다시 신청해 주세요.",
    Code.PRICE_CHANGED: "판매자가 상품 가격을 변경했습니다. 변경된 가격을 확인한 뒤 다시 구매해 주세요.",
}


class DomainError(Exception):
    """An expected failure with a stable code, safe to show to the client."""

    def __init__(self, code: str, message: str | None = None, **extensions: Any) -> None:
        self.code = code
        self.message = message or DEFAULT_MESSAGES.get(code, code)
        self.extensions = extensions
        super().__init__(self.message)

    def __repr__(self) -> str:
        return f"DomainError({self.code!r}, {self.message!r})"
