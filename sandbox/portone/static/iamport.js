/*!
 * pointcharge PortOne (I'mport) V1 browser SDK emulator — sandbox only.
 *
 * Drop-in replacement for https://cdn.iamport.kr/v1/iamport.js that talks to
 * the local sandbox instead of a real PG.  Every URL is derived from this
 * script's own src, so it works both at the root of a port and mounted under
 * a prefix (e.g. /sandbox/portone/iamport.js).
 *
 *   IMP.init("imp00000000");
 *   IMP.request_pay({ pay_method: "card", merchant_uid: "order-1", name: "포인트 충전",
 *                     amount: 1000, buyer_email: "a@b.c" }, function (rsp) { ... });
 *
 * Window modes
 *   - iframe overlay (default on desktop): approval page in a full-screen overlay,
 *     result delivered to the callback.
 *   - popup (params.popup === true): approval page in a popup window, result to
 *     the callback.
 *   - redirect: the top window navigates to the approval page and finally to
 *     m_redirect_url?imp_uid=..&merchant_uid=..&imp_success=..[&error_code=..&error_msg=..];
 *     the callback is NOT called.  Redirect mode is used when m_redirect_url is
 *     given AND (the user agent is mobile, OR IMP.sandbox_force_redirect === true,
 *     OR params.sandbox_redirect === true) AND params.popup !== true.
 *     Without m_redirect_url the SDK always uses the overlay + callback.
 */
(function (window, document) {
  "use strict";
  if (window.IMP && window.IMP.__sandbox) return;

  var script = document.currentScript;
  if (!script) {
    var scripts = document.getElementsByTagName("script");
    for (var i = scripts.length - 1; i >= 0; i--) {
      if (/\/iamport\.js(\?|#|$)/.test(scripts[i].src)) { script = scripts[i]; break; }
    }
  }
  var scriptUrl = new URL(script ? script.src : "/iamport.js", window.location.href);
  var BASE = scriptUrl.href.replace(/\/iamport\.js([?#].*)?$/, "");
  var SANDBOX_ORIGIN = scriptUrl.origin;
  var OVERLAY_ID = "imp-sandbox-overlay";
  var CANCEL_CODE = "F1002";
  var CANCEL_MSG = "사용자가 결제를 취소하셨습니다";

  var state = { merchantCode: null, tierCode: null, pending: null };

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

  // PortOne stores custom_data as a JSON string and echoes it that way.
  function customData(value) {
    if (value === undefined || value === null) return null;
    return typeof value === "string" ? value : JSON.stringify(value);
  }

  function errorResponse(params, code, msg, impUid) {
    params = params || {};
    return {
      success: false,
      imp_success: false,
      imp_uid: impUid || null,
      merchant_uid: params.merchant_uid || null,
      pay_method: params.pay_method || null,
      paid_amount: 0,
      status: "failed",
      name: params.name || null,
      error_code: code,
      error_msg: msg,
      custom_data: customData(params.custom_data),
    };
  }

  function invoke(callback, rsp) {
    if (typeof callback !== "function") return;
    // Like the real SDK the callback runs asynchronously.
    window.setTimeout(function () { callback(rsp); }, 0);
  }

  function validate(params) {
    if (!state.merchantCode) {
      return "IMP.init(\"고객사 식별코드\")를 먼저 호출해주세요.";
    }
    if (!params || typeof params !== "object") return "결제 요청 파라미터가 올바르지 않습니다.";
    if (params.amount === undefined || params.amount === null || params.amount === "") {
      return "결제금액(amount)은 필수 입력 항목입니다.";
    }
    // With customer_uid the window issues a billing key; amount 0 issues it without a charge.
    var billing = typeof params.customer_uid === "string" && params.customer_uid !== "";
    if (typeof params.amount !== "number" || !isFinite(params.amount) || params.amount < (billing ? 0 : 1) ||
        Math.floor(params.amount) !== params.amount) {
      return billing ? "결제금액(amount)은 0 이상의 정수(number)여야 합니다."
        : "결제금액(amount)은 0보다 큰 정수(number)여야 합니다.";
    }
    if (params.merchant_uid !== undefined && params.merchant_uid !== null &&
        String(params.merchant_uid).length > 40) {
      return "주문번호(merchant_uid)는 40자 이내여야 합니다.";
    }
    return null;
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
    var pending = state.pending;
    if (!pending || pending.rid !== rid) return;
    state.pending = null;
    removeOverlay();
    if (pending.popup) {
      window.clearInterval(pending.popupTimer);
      try { pending.popup.close(); } catch (e) { /* ignore */ }
    }
    invoke(pending.callback, rsp);
  }

  function cancelPending() {
    var pending = state.pending;
    if (!pending) return;
    finish(pending.rid, errorResponse(pending.params, CANCEL_CODE, CANCEL_MSG));
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
    close.className = "imp-sandbox-close";
    close.setAttribute("aria-label", "결제창 닫기");
    close.textContent = "\u00d7";
    close.style.cssText = "position:absolute;top:6px;right:8px;z-index:2;border:0;background:transparent;" +
      "font-size:26px;line-height:26px;cursor:pointer;color:#666;";
    close.addEventListener("click", cancelPending);
    var iframe = document.createElement("iframe");
    iframe.name = "imp-sandbox-frame-" + rid;
    iframe.className = "imp-sandbox-frame";
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
    if (!data || typeof data !== "object" || data.sdk !== "v1") return;
    if (data.type === "imp-sandbox:close") {
      if (state.pending && state.pending.rid === data.rid && !state.pending.popup) cancelPending();
      return;
    }
    if (data.type !== "imp-sandbox:result") return;
    finish(data.rid, data.response);
  });

  function request_pay(params, callback) {
    params = params || {};
    if (state.pending) {
      // The real SDK refuses a second concurrent payment window.
      return invoke(callback, errorResponse(params, "F0000", "이미 결제창이 열려 있습니다."));
    }
    var error = validate(params);
    if (error) return invoke(callback, errorResponse(params, "F0000", error));

    var copy = {};
    for (var k in params) if (Object.prototype.hasOwnProperty.call(params, k)) copy[k] = params[k];
    if (!copy.merchant_uid) copy.merchant_uid = randomId("merchant_");
    if (!copy.pay_method) copy.pay_method = "card";

    var redirect = !!copy.m_redirect_url && copy.popup !== true &&
      (isMobile() || window.IMP.sandbox_force_redirect === true || copy.sandbox_redirect === true);
    var rid = randomId("rid_");
    var payload = {
      sdk: "v1",
      rid: rid,
      merchant_code: state.merchantCode,
      tier_code: state.tierCode,
      mode: redirect ? "redirect" : (copy.popup === true ? "popup" : "iframe"),
      origin: window.location.origin,
      page_url: window.location.href,
      params: copy,
    };

    if (redirect) {
      submitForm("_self", payload);
      return;
    }
    state.pending = { rid: rid, callback: callback, params: copy };
    if (copy.popup === true) {
      var name = "imp-sandbox-popup-" + rid;
      var popup = window.open("about:blank", name, "width=460,height=680");
      if (!popup) {
        state.pending = null;
        return invoke(callback, errorResponse(copy, "F0000", "팝업이 차단되었습니다. 팝업 차단을 해제해주세요."));
      }
      state.pending.popup = popup;
      state.pending.popupTimer = window.setInterval(function () {
        if (popup.closed && state.pending && state.pending.rid === rid) cancelPending();
      }, 300);
      submitForm(name, payload);
      return;
    }
    var iframe = openOverlay(rid);
    submitForm(iframe.name, payload);
  }

  window.IMP = {
    __sandbox: true,
    sandbox_force_redirect: false,
    init: function (merchantCode) {
      state.merchantCode = merchantCode;
      state.tierCode = null;
    },
    agency: function (merchantCode, tierCode) {
      state.merchantCode = merchantCode;
      state.tierCode = tierCode || null;
    },
    request_pay: request_pay,
    /** Identity verification is not emulated: answers like a failed certification. */
    certification: function (params, callback) {
      invoke(callback, {
        success: false,
        imp_uid: null,
        merchant_uid: (params && params.merchant_uid) || null,
        error_code: "F0000",
        error_msg: "샌드박스는 본인인증(IMP.certification)을 지원하지 않습니다.",
      });
    },
    /** Sandbox-only helper: close the open payment window as the user would. */
    close: cancelPending,
  };
})(window, document);
