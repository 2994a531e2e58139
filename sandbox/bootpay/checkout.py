"""The browser side: /bootpay.js (the client-js 5.x surface, see that file) and the checkout window.

    GET  /bootpay.js           the SDK emulator
    GET  /checkout             ?payload=<requestPayment options as JSON>&mode=iframe|popup|redirect&origin=…
                               the payment window: 카드 결제 / 가상계좌 발급 / 결제 취소 (or the error);
                               &kind=subscription: requestSubscription's card window (billing_checkout.py)
    POST /checkout/complete    {payload, action: "card"|"vbank"|"cancel"|"card_decline", kind?} → {kind, result, redirect}

The window plays the buyer; the receipt it leaves is made by Store.create, exactly as
POST /_control/receipts makes one (webhooks included). Results reach the merchant page by
postMessage (iframe, popup) or as ?event=…&receipt_id=…&order_id=… on redirect_url (redirect).
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from . import billing_checkout, rest
from .store import BootpayError, Store, get_store

SDK = Path(__file__).resolve().parent / "bootpay.js"
VBANK_METHODS = {"vbank", "가상계좌"}


def validate(payload: Any, store: Store) -> dict[str, Any]:
    """What the real SDK and Bootpay check before the window opens; raises BootpayError."""
    if not isinstance(payload, dict):
        raise BootpayError(400, "INVALID_PARAMETER", "requestPayment의 인자는 객체여야 합니다.")
    cfg = store.config
    if payload.get("application_id") != cfg.application_id and payload.get("client_key") != cfg.client_key:
        raise BootpayError(400, "INVALID_APPLICATION_ID", "application_id(또는 client_key)가 올바르지 않습니다.")
    price = rest.won(payload, "price")
    if price is None or price <= 0:
        raise BootpayError(400, "INVALID_PARAMETER", "price는 0보다 큰 원 단위 정수여야 합니다.")
    order_id = rest.text(payload, "order_id", required=True)
    order_name = rest.text(payload, "order_name", required=True)
    tax_free = rest.won(payload, "tax_free") or 0
    items = payload.get("items")
    if items:
        try:
            total = sum(int(item["price"]) * int(item.get("qty", 1)) for item in items)
        except (TypeError, KeyError, ValueError):
            raise BootpayError(400, "INVALID_PARAMETER", "items는 [{id, name, qty, price}] 목록이어야 합니다.") from None
        if total != price:
            raise BootpayError(400, "ITEMS_PRICE_MISMATCH", f"items 금액 합계({total}원)와 price({price}원)가 다릅니다.")
    extra = payload.get("extra") or {}
    metadata = payload.get("metadata") or {}
    return {
        "price": price, "order_id": order_id, "order_name": order_name, "tax_free": tax_free,
        "method": "vbank" if payload.get("method") in VBANK_METHODS else payload.get("method"),
        "separately_confirmed": extra.get("separately_confirmed") is True,
        "metadata": metadata if isinstance(metadata, dict) else {},
    }


def redirect_url_of(payload: Any) -> str | None:
    """The merchant's redirect_url, if it is an http(s) URL (the page navigates to it)."""
    url = payload.get("redirect_url") if isinstance(payload, dict) else None
    return url if isinstance(url, str) and urlsplit(url).scheme in ("http", "https") else None


def _redirect(url: str, query: dict[str, Any]) -> str:
    parts = urlsplit(url)
    extra = urlencode({k: v for k, v in query.items() if v is not None})
    return urlunsplit(parts._replace(query=f"{parts.query}&{extra}" if parts.query else extra))


def _error_result(exc: BootpayError, event: str = "error") -> dict[str, Any]:
    return {"event": event, "error_code": exc.error_code, "message": exc.message, "data": {}}


async def sdk(request: Request) -> Response:
    return Response(SDK.read_text(encoding="utf-8"), media_type="text/javascript; charset=utf-8",
                    headers={"Cache-Control": "no-cache"})


PAGE = """<!doctype html>
<html lang="ko"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Bootpay 결제 (sandbox)</title>
<style>body{{font-family:sans-serif;margin:0;padding:20px;color:#1c2430}}h1{{font-size:18px}}
.price{{font-size:24px;font-weight:700;margin:8px 0 16px}}button{{display:block;width:100%;padding:12px;margin:8px 0;
font-size:16px;border-radius:8px;border:1px solid #3478f6;background:#3478f6;color:#fff;cursor:pointer}}
button.secondary{{background:#fff;color:#3478f6}}.error{{color:#c0392b}}.muted{{color:#6b7280;font-size:13px}}</style>
</head><body>
<p class="muted">Bootpay sandbox · 실제로 돈이 나가지 않습니다</p>
{body}
<script>
const CONTEXT = {context};
function deliver(reply) {{
  if (CONTEXT.mode === "redirect") {{
    if (reply.redirect) location.href = reply.redirect;
    else document.body.insertAdjacentHTML("beforeend", "<p class=error>redirect_url이 없어 결과를 돌려줄 곳이 없습니다.</p>");
    return;
  }}
  const target = window.opener || window.parent;
  target.postMessage({{bootpaySandbox: true, kind: reply.kind, result: reply.result}}, CONTEXT.origin || "*");
}}
async function choose(action) {{
  document.querySelectorAll("button").forEach((b) => b.disabled = true);
  const r = await fetch(CONTEXT.complete, {{method: "POST", headers: {{"Content-Type": "application/json"}},
    body: JSON.stringify({{payload: CONTEXT.payload, action, kind: CONTEXT.kind}})}});
  deliver(await r.json());
}}
document.querySelectorAll("button[data-action]").forEach((b) => b.addEventListener("click", () => choose(b.dataset.action)));
if (CONTEXT.error) deliver(CONTEXT.error);
</script></body></html>"""


async def checkout(request: Request) -> Response:
    store = get_store(request)
    q = request.query_params
    mode = q.get("mode", "iframe")
    kind = "subscription" if q.get("kind") == "subscription" else "payment"
    base = str(request.url.replace(query="", fragment="")).rsplit("/checkout", 1)[0]
    try:
        payload = json.loads(q.get("payload", ""))
    except json.JSONDecodeError:
        payload = None
    context: dict[str, Any] = {"mode": mode, "kind": kind, "origin": q.get("origin"), "payload": payload,
                               "complete": base + "/checkout/complete", "error": None}
    try:
        order = billing_checkout.validate(payload, store) if kind == "subscription" else validate(payload, store)
    except BootpayError as exc:
        back = redirect_url_of(payload)
        if mode == "redirect" and back:
            return RedirectResponse(_redirect(back, {"event": "error", "error_code": exc.error_code,
                                                     "message": exc.message}), status_code=303)
        context["error"] = {"kind": "reject", "result": _error_result(exc)}
        body = f'<h1>결제를 시작할 수 없습니다</h1><p class="error" id="error">{escape(exc.message)}</p>'
    else:
        body = billing_checkout.page_body(order) if kind == "subscription" else _payment_body(order)
    # "</" would close the script element early: JSON escapes it.
    return HTMLResponse(PAGE.format(body=body, context=json.dumps(context, ensure_ascii=False).replace("</", "<\\/")))


def _payment_body(order: dict[str, Any]) -> str:
    buttons = []
    if order["method"] in (None, "card", "카드"):
        buttons.append('<button data-action="card">카드로 결제</button>')
    if order["method"] in (None, "vbank") and not order["separately_confirmed"]:
        buttons.append('<button data-action="vbank">가상계좌 발급</button>')
    buttons.append('<button class="secondary" data-action="cancel">결제 취소</button>')
    return (f'<h1>{escape(order["order_name"])}</h1><div class="price">{order["price"]:,}원</div>'
            f'<p class="muted">주문번호 {escape(order["order_id"])}</p>{"".join(buttons)}')


async def complete(request: Request) -> Response:
    store = get_store(request)
    try:
        data = await rest.body_of(request)
    except BootpayError as exc:
        return JSONResponse({"kind": "reject", "result": _error_result(exc), "redirect": None})
    payload, action = data.get("payload"), data.get("action")
    back = redirect_url_of(payload)
    if data.get("kind") == "subscription":
        return await _complete_subscription(store, payload, action, back)
    try:
        order = validate(payload, store)
        if action == "cancel":
            raise BootpayError(400, "USER_CANCELLED", "사용자가 결제를 취소했습니다.")
        if action not in ("card", "vbank"):
            raise BootpayError(400, "INVALID_PARAMETER", "action은 card, vbank, cancel 중 하나입니다.")
    except BootpayError as exc:
        event = "cancel" if exc.error_code == "USER_CANCELLED" else "error"
        redirect = _redirect(back, {"event": event, "error_code": exc.error_code, "message": exc.message}) if back else None
        return JSONResponse({"kind": "reject", "result": _error_result(exc, event), "redirect": redirect})
    receipt = await store.create(
        price=order["price"], method=action, order_id=order["order_id"], order_name=order["order_name"],
        tax_free=order["tax_free"], separately_confirmed=order["separately_confirmed"] and action == "card",
        metadata=order["metadata"], webhook=True,
    )
    view = store.view(receipt)
    if receipt.status == 2:
        result = {"event": "confirm", "application_id": store.config.application_id, "receipt_id": receipt.receipt_id,
                  "gateway_url": view["gateway_url"], "order_id": receipt.order_id}
    else:
        result = {"event": "issued" if receipt.status == 5 else "done", "data": view}
    redirect = _redirect(back, {"event": result["event"], "receipt_id": receipt.receipt_id,
                                "order_id": receipt.order_id}) if back else None
    return JSONResponse({"kind": "resolve", "result": result, "redirect": redirect})


async def _complete_subscription(store: Store, payload: Any, action: Any, back: str | None) -> Response:
    try:
        result = await billing_checkout.complete(store, payload, action)
    except BootpayError as exc:
        event = "cancel" if exc.error_code == "USER_CANCELLED" else "error"
        redirect = _redirect(back, {"event": event, "error_code": exc.error_code, "message": exc.message}) if back else None
        return JSONResponse({"kind": "reject", "result": _error_result(exc, event), "redirect": redirect})
    data = result["data"]
    redirect = _redirect(back, {"event": "done", "receipt_id": data["receipt_id"],
                                "subscription_id": data["subscription_id"]}) if back else None
    return JSONResponse({"kind": "resolve", "result": result, "redirect": redirect})


def routes() -> list[Route]:
    return [
        Route("/bootpay.js", sdk, methods=["GET"]),
        Route("/checkout", checkout, methods=["GET"]),
        Route("/checkout/complete", complete, methods=["POST"]),
    ]
