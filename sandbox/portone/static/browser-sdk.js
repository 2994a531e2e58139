/*!
 * pointcharge PortOne V2 browser SDK emulator — sandbox only.
 *
 * Drop-in replacement for https://cdn.portone.io/v2/browser-sdk.js (global `PortOne`).
 * URLs are derived from this script's src, so it works at the root of a port and
 * when mounted under a prefix (e.g. /sandbox/portone/browser-sdk.js).
 *
 *   const rsp = await PortOne.requestPayment({
 *     storeId, channelKey, paymentId, orderName, totalAmount, currency: "CURRENCY_KRW",
 *     payMethod: "CARD", customer: { fullName, email, phoneNumber }, redirectUrl });
 *   // rsp = { transactionType: "PAYMENT", paymentId, txId }               on success
 *   // rsp = { transactionType: "PAYMENT", paymentId, txId?, code, message,
 *   //         pgCode?, pgMessage? }                                        on failure
 *
 * Window modes
 *   - IFRAME overlay (default on desktop) → the returned Promise resolves.
 *   - POPUP (windowType.pc === "POPUP" on desktop / windowType.mobile === "POPUP") → Promise resolves.
 *   - REDIRECTION → the top window navigates to
 *     redirectUrl?paymentId=..&payment_id=..&transactionType=PAYMENT&txId=..[&code=..&message=..&pgCode=..&pgMessage=..]
 *     and the Promise never settles.  Used when redirectUrl is given AND (mobile user
 *     agent, OR windowType.pc === "REDIRECTION" on desktop, OR PortOne.sandbox_force_redirect
 *     === true) — a mobile windowType of IFRAME/POPUP opts out.
 *
 *   const rsp = await PortOne.requestIssueBillingKey({
 *     storeId, channelKey, billingKeyMethod: "CARD", issueId?, issueName?, customer: { customerId, … } });
 *   // rsp = { transactionType: "ISSUE_BILLING_KEY", billingKey }                      on success
 *   // rsp = { transactionType: "ISSUE_BILLING_KEY", code, message, pgCode?, pgMessage? } on failure
 *   Same windows; a redirect carries transactionType=ISSUE_BILLING_KEY&billingKey=..[&code=..].
 */
(function (window, document) {
  "use strict";
  if (window.PortOne && window.PortOne.__sandbox) return;

  var script = document.currentScript;
  if (!script) {
    var scripts = document.getElementsByTagName("script");
    for (var i = scripts.length - 1; i >= 0; i--) {
      if (/\/browser-sdk\.js(\?|#|$)/.test(scripts[i].src)) { script = scripts[i]; break; }
    }
  }
  var scriptUrl = new URL(script ? script.src : "/browser-sdk.js", window.location.href);
  var BASE = scriptUrl.href.replace(/\/browser-sdk\.js([?#].*)?$/, "");
  var SANDBOX_ORIGIN = scriptUrl.origin;
  var OVERLAY_ID = "portone-sandbox-overlay";
  var CANCEL_MSG = "사용자가 결제를 취소하셨습니다";

  var pending = null;

  function isMobile() {
    return /Mobi|Android|iPhone|iPad|iPod|Windows Phone/i.test(window.navigator.userAgent || "");
  }

  function randomId(prefix) {
    var rnd = "";
    if (window.crypto && window.crypto.getRandomValues) {
      var a = new Uint8Array(8);
      window.crypto.getRandomValues(a);
      for (var i = 0; i < a.length; i++) rnd += ("0" + a[i].toString(16)).slice(-2);
    } else {
      rnd = Math.random().toString(16).slice(2, 18);
    }
    return prefix + Date.now().toString(36) + "_" + rnd;
  }

  function failure(paymentId, code, message, extra) {
    var rsp = { transactionType: "PAYMENT", paymentId: paymentId || undefined, code: code, message: message };
    if (extra) for (var k in extra) if (extra[k] !== undefined && extra[k] !== null) rsp[k] = extra[k];
    return rsp;
  }

  function validate(req) {
    if (!req || typeof req !== "object") return "결제 요청 파라미터가 올바르지 않습니다.";
    var required = ["storeId", "paymentId", "orderName", "totalAmount", "currency"];
    for (var i = 0; i < required.length; i++) {
      var v = req[required[i]];
      if (v === undefined || v === null || v === "") return required[i] + " 파라미터는 필수 입력 항목입니다.";
    }
    if (!req.channelKey && !req.channelGroupId && !req.pgProvider) {
      return "channelKey 파라미터는 필수 입력 항목입니다.";
    }
    if (!req.payMethod && !req.easyPay) return "payMethod 파라미터는 필수 입력 항목입니다.";
    if (typeof req.totalAmount !== "number" || !isFinite(req.totalAmount) || req.totalAmount <= 0 ||
        Math.floor(req.totalAmount) !== req.totalAmount) {
      return "totalAmount는 0보다 큰 정수(number)여야 합니다.";
    }
    return null;
  }

  function windowMode(req) {
    var wt = req.windowType || {};
    if (isMobile()) {
      if (wt.mobile === "POPUP") return "popup";
      if (wt.mobile === "IFRAME") return "iframe";
      return req.redirectUrl ? "redirect" : "iframe";
    }
    if (req.redirectUrl && (wt.pc === "REDIRECTION" || window.PortOne.sandbox_force_redirect === true)) {
      return "redirect";
    }
    if (wt.pc === "POPUP") return "popup";
    return "iframe";
  }

  function submitForm(target, payload) {
    var form = document.createElement("form");
    form.method = "POST";
    form.action = BASE + "/checkout";
    form.target = target;
    form.acceptCharset = "UTF-8";
    form.style.display = "none";
    var input = document.createElement("input");
    input.type = "hidden";
    input.name = "payload";
    input.value = JSON.stringify(payload);
    form.appendChild(input);
    document.body.appendChild(form);
    form.submit();
    window.setTimeout(function () {
      if (form.parentNode) form.parentNode.removeChild(form);
    }, 0);
  }

  function removeOverlay() {
    var el = document.getElementById(OVERLAY_ID);
    if (el && el.parentNode) el.parentNode.removeChild(el);
  }

  function finish(rid, rsp) {
    var p = pending;
    if (!p || p.rid !== rid) return;
    pending = null;
    removeOverlay();
    if (p.popup) {
      window.clearInterval(p.popupTimer);
      try { p.popup.close(); } catch (e) { /* ignore */ }
    }
    p.resolve(rsp);
  }

  function cancelPending() {
    if (!pending) return;
    finish(pending.rid, pending.fail("FAILURE_TYPE_PG", CANCEL_MSG, { pgCode: "USER_CANCEL", pgMessage: CANCEL_MSG }));
  }

  function issueFailure(code, message, extra) {
    var rsp = { transactionType: "ISSUE_BILLING_KEY", code: code, message: message };
    if (extra) for (var k in extra) if (extra[k] !== undefined && extra[k] !== null) rsp[k] = extra[k];
    return rsp;
  }

  function validateIssue(req) {
    if (!req || typeof req !== "object") return "빌링키 발급 요청 파라미터가 올바르지 않습니다.";
    if (!req.storeId) return "storeId 파라미터는 필수 입력 항목입니다.";
    if (!req.channelKey && !req.channelGroupId && !req.pgProvider) return "channelKey 파라미터는 필수 입력 항목입니다.";
    if (!req.billingKeyMethod) return "billingKeyMethod 파라미터는 필수 입력 항목입니다.";
    return null;
  }

  function openOverlay(rid) {
    removeOverlay();
    var overlay = document.createElement("div");
    overlay.id = OVERLAY_ID;
    overlay.setAttribute("role", "dialog");
    overlay.setAttribute("aria-label", "포트원 샌드박스 결제창");
    overlay.style.cssText = "position:fixed;inset:0;z-index:2147483647;background:rgba(0,0,0,.55);" +
      "display:flex;align-items:center;justify-content:center;";
    var box = document.createElement("div");
    box.style.cssText = "position:relative;width:440px;max-width:96vw;height:620px;max-height:94vh;" +
      "background:#fff;border-radius:12px;overflow:hidden;box-shadow:0 12px 40px rgba(0,0,0,.35);";
    var close = document.createElement("button");
    close.type = "button";
    close.className = "portone-sandbox-close";
    close.setAttribute("aria-label", "결제창 닫기");
    close.textContent = "\u00d7";
    close.style.cssText = "position:absolute;top:6px;right:8px;z-index:2;border:0;background:transparent;" +
      "font-size:26px;line-height:26px;cursor:pointer;color:#666;";
    close.addEventListener("click", cancelPending);
    var iframe = document.createElement("iframe");
    iframe.name = "portone-sandbox-frame-" + rid;
    iframe.className = "portone-sandbox-frame";
    iframe.title = "포트원 샌드박스 결제창";
    iframe.style.cssText = "border:0;width:100%;height:100%;display:block;";
    box.appendChild(close);
    box.appendChild(iframe);
    overlay.appendChild(box);
    // Like the ×: a click on the backdrop (not the window) and Escape close the checkout.
    overlay.addEventListener("click", function (event) { if (event.target === overlay) cancelPending(); });
    document.body.appendChild(overlay);
    return iframe;
  }

  // Escape in the page; the checkout inside the iframe forwards its own Escape (imp-sandbox:close).
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && document.getElementById(OVERLAY_ID)) cancelPending();
  });

  window.addEventListener("message", function (event) {
    if (event.origin !== SANDBOX_ORIGIN) return;
    var data = event.data;
    if (!data || typeof data !== "object" || data.sdk !== "v2") return;
    if (data.type === "imp-sandbox:close") {
      if (pending && pending.rid === data.rid && !pending.popup) cancelPending();
      return;
    }
    if (data.type !== "imp-sandbox:result") return;
    finish(data.rid, data.response);
  });

  function requestPayment(req) {
    req = req || {};
    return openWindow(req, "payment", validate, function (code, message, extra) {
      return failure(req.paymentId, code, message, extra);
    });
  }

  function requestIssueBillingKey(req) {
    return openWindow(req || {}, "billing_key", validateIssue, issueFailure);
  }

  /** One window for every request kind; `fail(code, message, extra)` shapes that kind's failures. */
  function openWindow(req, kind, check, fail) {
    return new Promise(function (resolve) {
      if (pending) {
        return resolve(fail("FAILURE_TYPE_PG", "이미 결제창이 열려 있습니다."));
      }
      var error = check(req);
      if (error) return resolve(fail("InvalidArgument", error));

      var mode = windowMode(req);
      var rid = randomId("rid_");
      var payload = {
        sdk: "v2",
        kind: kind,
        rid: rid,
        mode: mode,
        origin: window.location.origin,
        page_url: window.location.href,
        params: req,
      };
      if (mode === "redirect") {
        submitForm("_self", payload);
        return; // never settles: the page navigates away
      }
      pending = { rid: rid, resolve: resolve, fail: fail };
      if (mode === "popup") {
        var name = "portone-sandbox-popup-" + rid;
        var popup = window.open("about:blank", name, "width=460,height=680");
        if (!popup) {
          pending = null;
          return resolve(fail("FAILURE_TYPE_PG", "팝업이 차단되었습니다. 팝업 차단을 해제해주세요."));
        }
        pending.popup = popup;
        pending.popupTimer = window.setInterval(function () {
          if (popup.closed && pending && pending.rid === rid) cancelPending();
        }, 300);
        submitForm(name, payload);
        return;
      }
      var iframe = openOverlay(rid);
      submitForm(iframe.name, payload);
    });
  }

  window.PortOne = {
    __sandbox: true,
    sandbox_force_redirect: false,
    requestPayment: requestPayment,
    requestIssueBillingKey: requestIssueBillingKey,
    /** Sandbox-only helper: close the open payment window as the user would. */
    close: cancelPending,
  };
})(window, document);
