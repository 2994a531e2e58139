/* Bootpay browser SDK emulator: the @bootpay/client-js 5.x surface a merchant page uses.
 *
 *   <script src="<sandbox>/bootpay.js"></script>
 *   Bootpay.requestPayment({application_id | client_key, price, order_id, order_name, method?, pg?,
 *                           tax_free?, items?, metadata?, redirect_url?, extra: {open_type?, separately_confirmed?}})
 *     resolves {event: "done", data: receipt} | {event: "issued", data: receipt}
 *            | {event: "confirm", application_id, receipt_id, gateway_url, order_id}
 *     rejects  {event: "cancel" | "error", error_code, message, data}
 *   Bootpay.requestSubscription({application_id | client_key, subscription_id, order_name, price: 0,
 *                                pg?, method?: "카드자동", user?, metadata?, redirect_url?, extra?})
 *     resolves {event: "done", data: {receipt_id, subscription_id, …}} (never the billing_key: the
 *     server reads it with GET /v2/subscribe/billing_key/{receipt_id})
 *     rejects  {event: "cancel" | "error", error_code, message, data}
 *   Bootpay.destroy()  closes the window (the promise rejects with event "cancel")
 *
 * The checkout window is the sandbox's page (<sandbox>/checkout), in an overlay iframe (open_type
 * "iframe", the default without redirect_url), a popup ("popup"), or the whole tab ("redirect",
 * the default with redirect_url: the result comes back as ?event=…&receipt_id=… on redirect_url).
 */
(function () {
  "use strict";
  var script = document.currentScript;
  var BASE = script.src.replace(/\/bootpay\.js(\?.*)?$/, "");
  var ORIGIN = new URL(BASE).origin;
  var active = null;

  function settle(kind, value) {
    if (!active) return;
    var current = active;
    active = null;
    window.removeEventListener("message", current.onMessage);
    if (current.overlay && current.overlay.parentNode) current.overlay.parentNode.removeChild(current.overlay);
    if (current.popup && !current.popup.closed) current.popup.close();
    if (current.watch) clearInterval(current.watch);
    (kind === "resolve" ? current.resolve : current.reject)(value);
  }

  function cancelled() {
    return {event: "cancel", error_code: "USER_CANCELLED", message: "사용자가 결제를 취소했습니다.", data: {}};
  }

  function requestPayment(options) {
    return open(options, "payment");
  }

  function requestSubscription(options) {
    return open(options, "subscription");
  }

  function open(options, kind) {
    if (active) settle("reject", cancelled());
    options = options || {};
    var extra = options.extra || {};
    var openType = extra.open_type || (options.redirect_url ? "redirect" : "iframe");
    var url = BASE + "/checkout?mode=" + encodeURIComponent(openType) + "&kind=" + kind +
      "&origin=" + encodeURIComponent(location.origin) +
      "&payload=" + encodeURIComponent(JSON.stringify(options));
    return new Promise(function (resolve, reject) {
      if (openType === "redirect") {
        location.href = url;  // the page leaves; redirect_url receives the result
        return;
      }
      active = {resolve: resolve, reject: reject};
      active.onMessage = function (event) {
        var data = event.data;
        if (event.origin !== ORIGIN || !data || data.bootpaySandbox !== true) return;
        settle(data.kind, data.result);
      };
      window.addEventListener("message", active.onMessage);
      if (openType === "popup") {
        active.popup = window.open(url, "bootpay_sandbox", "width=480,height=640");
        active.watch = setInterval(function () {
          if (active && active.popup && active.popup.closed) settle("reject", cancelled());
        }, 300);
        return;
      }
      var overlay = document.createElement("div");
      overlay.id = "bootpay-sandbox-overlay";
      overlay.style.cssText = "position:fixed;inset:0;background:rgba(0,0,0,.45);z-index:2147483647;" +
        "display:flex;align-items:center;justify-content:center";
      var frame = document.createElement("iframe");
      frame.id = "bootpay-sandbox-frame";
      frame.title = "Bootpay 결제창 (sandbox)";
      frame.src = url;
      frame.style.cssText = "width:min(440px,96vw);height:min(600px,92vh);border:0;border-radius:12px;background:#fff";
      var close = document.createElement("button");
      close.type = "button";
      close.textContent = "×";
      close.setAttribute("aria-label", "결제창 닫기");
      close.style.cssText = "position:absolute;top:12px;right:16px;font-size:28px;background:none;border:0;color:#fff;cursor:pointer";
      close.onclick = function () { settle("reject", cancelled()); };
      overlay.appendChild(frame);
      overlay.appendChild(close);
      document.body.appendChild(overlay);
      active.overlay = overlay;
    });
  }

  window.Bootpay = {
    requestPayment: requestPayment,
    requestSubscription: requestSubscription,
    destroy: function () { settle("reject", cancelled()); },
  };
})();
