/* Sandbox approval page logic (served inside the iframe overlay, a popup, or top-level in redirect mode). */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("checkout-data").textContent);
  var session = data.session;
  var $ = function (id) { return document.getElementById(id); };
  var buttons = Array.prototype.slice.call(document.querySelectorAll("#actions button"));

  function formatAmount(amount, currency) {
    var n = Number(amount);
    var cur = (currency || "KRW").replace(/^CURRENCY_/, "");
    if (cur === "KRW") return isFinite(n) ? n.toLocaleString("ko-KR") + "원" : String(amount);
    return (isFinite(n) ? n.toLocaleString("ko-KR") : String(amount)) + " " + cur;
  }

  $("order-name").textContent = session.order_name || "(주문명 없음)";
  $("order-amount").textContent = formatAmount(session.amount, session.currency);
  $("order-id-label").textContent = session.sdk === "v2" ? "결제 ID" : "주문번호";
  $("order-id").textContent = session.order_id || "";
  $("order-method").textContent = session.pay_method_label || session.pay_method || "";
  $("order-buyer").textContent = session.buyer || "-";
  document.body.setAttribute("data-sdk", session.sdk);
  if (session.kind === "billing_key") {
    // requestIssueBillingKey: no virtual account; a card over its limit registers but fails every charge.
    $("order-id-label").textContent = "발급 ID";
    $("btn-vbank").style.display = "none";
    var limit = document.createElement("button");
    limit.type = "button";
    limit.className = "btn decline";
    limit.id = "btn-limit";
    limit.setAttribute("data-action", "limit");
    limit.textContent = "한도초과 카드로 등록";
    $("btn-decline").parentNode.insertBefore(limit, $("btn-decline"));
    buttons.push(limit);
  }
  document.body.setAttribute("data-mode", session.mode);

  function setStatus(text) {
    var el = $("status");
    el.hidden = !text;
    el.textContent = text || "";
  }

  function deliver(result) {
    document.body.setAttribute("data-done", "true");
    if (session.mode === "redirect") {
      if (result.redirect_url) window.location.assign(result.redirect_url);
      return;
    }
    var target = session.mode === "popup" ? window.opener : window.parent;
    if (!target || target === window) return;
    var origin = session.origin && session.origin !== "null" ? session.origin : "*";
    target.postMessage({
      type: "imp-sandbox:result",
      sdk: session.sdk,
      rid: session.rid,
      response: result.response,
    }, origin);
  }

  function complete(action) {
    buttons.forEach(function (b) { b.disabled = true; });
    setStatus("처리 중입니다…");
    return fetch(data.complete_url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      credentials: "same-origin",
      body: JSON.stringify({ action: action }),
    }).then(function (res) {
      return res.json().then(function (body) {
        if (!res.ok) throw new Error(body && body.message ? body.message : "HTTP " + res.status);
        return body;
      });
    }).then(function (result) {
      setStatus(result.message || "완료되었습니다.");
      deliver(result);
    }).catch(function (err) {
      buttons.forEach(function (b) { b.disabled = false; });
      setStatus("오류가 발생했습니다: " + err.message);
    });
  }

  if (data.result) {
    // Session rejected at creation (invalid merchant code / parameters) or already completed.
    if (data.error) {
      $("error").hidden = false;
      $("error").textContent = data.error;
      $("actions").hidden = true;
    }
    setStatus(data.result.message || "");
    deliver(data.result);
    return;
  }
  buttons.forEach(function (b) {
    b.addEventListener("click", function () { complete(b.getAttribute("data-action")); });
  });
  // Escape inside the overlay's iframe closes it like its × (the parent page owns the ×).
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || session.mode !== "iframe" || document.body.getAttribute("data-done")) return;
    if (buttons.some(function (b) { return b.disabled; })) return; // the payment is being processed
    if (window.parent === window) return;
    var origin = session.origin && session.origin !== "null" ? session.origin : "*";
    window.parent.postMessage({ type: "imp-sandbox:close", sdk: session.sdk, rid: session.rid }, origin);
  });
})();
