/*
 * 카드 / 정기 충전 on the demo page (issue 25) — plain JS on top of demo.js (window.PointchargeDemo).
 *
 *   카드 등록: the 등록 방식's window (card-windows.js: PortOne V1, V2 when the server has a storeId,
 *   부트페이 when it has Bootpay) → registerPaymentCard(customerUid | billingKey | receiptId);
 *   fetchPaymentCards lists them, 삭제 → deletePaymentCard
 *   원클릭 충전: preparePointCharge(amount, version: the card's) → createPointTransactionOfLoadingWithCard:
 *   no window; the page is busy (every button disabled) until the answer, so a double click is one
 *   call (the server charges an order once anyway)
 *   정기 충전: createPointSubscription(card, amount) charges the first month now;
 *   fetchPointSubscriptions, 해지 → cancelPointSubscription. A server without subscriptions
 *   (GRAPHQL_VALIDATION_FAILED on the query) hides that part.
 */
(function () {
  "use strict";

  var demo = window.PointchargeDemo;
  if (!demo) return;
  var gql = demo.gql, fmt = demo.fmt, when = demo.when, state = demo.state;
  var cards = { list: [], selected: null, amount: null, subs: [], subsOn: true, version: "V1", loading: null };

  var STATUS = { ACTIVE: "이용 중", PAST_DUE: "결제 실패(재시도 예정)", SUSPENDED: "일시 중지", CANCELLED: "해지됨" };
  var CARD = "_id cardName cardNumber version createdAt";
  // PaymentCard.gateway (PORTONE | BOOTPAY) where the API has it (a Bootpay card charges a Bootpay order).
  var withGateway = true;
  function cardFields() { return CARD + (withGateway ? " gateway" : ""); }
  var SUB = "_id amount status billingDay nextChargeAt lastChargedAt lastFailureReason createdAt cancelledAt" +
    " paymentCard { _id cardName cardNumber }";

  function $(id) { return document.getElementById(id); }
  function label(card) {
    return [card.cardName || "카드", card.cardNumber || ""].join(" ").trim();
  }
  function selectedCard() {
    return cards.list.filter(function (c) { return c._id === cards.selected; })[0] || null;
  }
  function el(tag, className, text) {
    var e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function smallButton(className, text, aria, onClick) {
    var b = el("button", "small " + className, text);
    b.type = "button";
    b.setAttribute("aria-label", aria);
    b.addEventListener("click", onClick);
    return b;
  }

  // ------------------------------------------------------------------ data
  async function load() {
    var data;
    try {
      data = await gql("fetchPaymentCards", "query Cards { fetchPaymentCards { " + cardFields() + " } }");
    } catch (e) {
      if (e.code !== "GRAPHQL_VALIDATION_FAILED" || !withGateway) throw e;
      withGateway = false;
      data = await gql("fetchPaymentCards", "query Cards { fetchPaymentCards { " + cardFields() + " } }");
    }
    cards.list = data.fetchPaymentCards;
    if (!cards.list.some(function (c) { return c._id === cards.selected; })) {
      cards.selected = cards.list.length ? cards.list[0]._id : null;
    }
    if (cards.subsOn) {
      try {
        cards.subs = (await gql("fetchPointSubscriptions",
          "query Subs { fetchPointSubscriptions { " + SUB + " } }")).fetchPointSubscriptions;
      } catch (e) {
        if (e.code !== "GRAPHQL_VALIDATION_FAILED") throw e;
        cards.subsOn = false;  // this server has no 정기 충전 yet
      }
    }
    render();
  }

  function reload() { return (cards.loading = load().catch(demo.showError)); }

  // ------------------------------------------------------------------ rendering
  function render() {
    var list = $("card-list");
    list.textContent = "";
    cards.list.forEach(function (card) {
      var li = el("li", "card-item");
      li.dataset.cardId = card._id;
      var pick = el("label", "card-pick");
      var radio = document.createElement("input");
      radio.type = "radio";
      radio.name = "payment-card";
      radio.value = card._id;
      radio.checked = card._id === cards.selected;
      radio.addEventListener("change", function () { cards.selected = card._id; sync(); });
      pick.appendChild(radio);
      pick.appendChild(el("span", "card-name", card.cardName || "카드"));
      pick.appendChild(el("span", "card-number muted", card.cardNumber || ""));
      var tag = card.gateway === "BOOTPAY" ? "부트페이" : card.version === "V2" ? "V2" : "";
      if (tag) pick.appendChild(el("span", "card-tag", tag));
      li.appendChild(pick);
      li.appendChild(smallButton("delete-card", "삭제", label(card) + " 삭제", function () { deleteCard(card); }));
      list.appendChild(li);
    });
    $("cards-empty").hidden = cards.list.length > 0;
    $("subs").hidden = !cards.subsOn;
    renderSubs();
    sync();
  }

  function renderSubs() {
    var list = $("sub-list");
    list.textContent = "";
    cards.subs.forEach(function (sub) {
      var li = el("li", "sub-item");
      li.dataset.subscriptionId = sub._id;
      li.dataset.status = sub.status;
      var head = el("div", "sub-head");
      head.appendChild(el("strong", "sub-amount", "매월 " + fmt(sub.amount) + "원"));
      head.appendChild(el("span", "status sub-status" + (sub.status === "ACTIVE" ? "" : " cancel"),
        STATUS[sub.status] || sub.status));
      if (sub.status !== "CANCELLED") {
        head.appendChild(smallButton("cancel-sub", "해지", "매월 " + fmt(sub.amount) + "원 정기 충전 해지",
          function () { cancelSub(sub); }));
      }
      li.appendChild(head);
      var details = [];
      if (sub.nextChargeAt) details.push("다음 충전 " + when(sub.nextChargeAt));
      if (sub.lastChargedAt) details.push("최근 충전 " + when(sub.lastChargedAt));
      if (sub.cancelledAt) details.push("해지 " + when(sub.cancelledAt));
      details.push(sub.paymentCard ? label(sub.paymentCard) : "삭제된 카드");
      li.appendChild(el("span", "detail sub-detail", details.join(" · ")));
      if (sub.lastFailureReason && sub.status !== "ACTIVE") {
        li.appendChild(el("span", "detail sub-failure", "최근 실패 사유: " + sub.lastFailureReason));
      }
      list.appendChild(li);
    });
    $("subs-empty").hidden = cards.subs.length > 0;
  }

  function renderAmounts(config) {
    var box = $("card-packages");
    box.textContent = "";
    var amounts = config.packages.length ? config.packages : [];
    $("card-amount-label").hidden = amounts.length > 0;
    amounts.forEach(function (amount) {
      var b = el("button", "package card-package", fmt(amount) + "원");
      b.type = "button";
      b.setAttribute("role", "radio");
      b.setAttribute("aria-checked", "false");
      b.dataset.amount = String(amount);
      b.addEventListener("click", function () { cards.amount = amount; sync(); });
      box.appendChild(b);
    });
  }

  // 등록 방식: V1 (IMP.request_pay) always; V2 (requestIssueBillingKey) when the server has a storeId;
  // 부트페이 (requestSubscription) when it has Bootpay on.
  function renderVersions(config) {
    var offered = { V1: true, V2: !!config.storeId, BOOTPAY: (config.gateways || []).indexOf("BOOTPAY") >= 0 };
    $("card-versions").hidden = !offered.V2 && !offered.BOOTPAY;
    [].forEach.call(document.querySelectorAll("#card-versions .card-version"), function (b) {
      b.hidden = !offered[b.dataset.version];
      b.addEventListener("click", function () { cards.version = b.dataset.version; sync(); });
    });
  }

  function amount() {
    if (state.config && !state.config.packages.length) {
      var v = parseInt($("card-amount").value, 10);
      return v > 0 ? v : null;
    }
    return cards.amount;
  }

  // Buttons follow the choices; while the page is busy demo.js keeps every button disabled.
  function sync() {
    var a = amount(), ready = !!(a && cards.selected);
    [].forEach.call(document.querySelectorAll("#card-packages .card-package"), function (b) {
      b.setAttribute("aria-checked", String(Number(b.dataset.amount) === a));
    });
    [].forEach.call(document.querySelectorAll("#card-versions .card-version"), function (b) {
      b.setAttribute("aria-checked", String(b.dataset.version === cards.version));
    });
    if (state.busy) return;
    $("btn-card-charge").disabled = !ready;
    $("btn-card-charge").textContent = a ? fmt(a) + "원 카드로 충전하기" : "카드로 충전하기";
    $("btn-subscribe").disabled = !ready;
    $("btn-subscribe").textContent = a ? "매월 " + fmt(a) + "원 정기 충전 신청" : "정기 충전 신청";
  }

  // ------------------------------------------------------------------ actions
  async function run(work) {
    if (state.busy) return;
    demo.setBusy(true);
    try { await work(); } catch (e) { demo.showError(e); } finally {
      // The balance, the history and (through "refresh") the cards: busy until they are in, so that
      // the next click acts on the list as it now is.
      await demo.refresh().catch(demo.showError);
      await cards.loading;
      demo.setBusy(false);
    }
  }

  function addCard() {
    return run(async function () {
      demo.showMessage("info", "카드 등록 창을 여는 중입니다…");
      var issued = await window.PointchargeCardWindows[cards.version]();
      if (issued.failed) {
        if (issued.failed.cancelled) return demo.showMessage("warn", "카드 등록을 취소했습니다.");
        var why = issued.failed.message ? " (" + issued.failed.message + ")" : "";
        return demo.showMessage("error", "카드 등록에 실패했습니다." + why);
      }
      demo.showMessage("info", "카드를 확인하는 중입니다…");
      // receiptId (Bootpay) only when it is used: an API without Bootpay cards lacks the argument.
      var card = issued.receiptId
        ? (await gql("registerPaymentCard",
          "mutation RegisterCardBootpay($r: ID) { registerPaymentCard(receiptId: $r) { " + cardFields() + " } }",
          { r: issued.receiptId })).registerPaymentCard
        : (await gql("registerPaymentCard",
          "mutation RegisterCard($u: ID, $k: ID) { registerPaymentCard(customerUid: $u, billingKey: $k) { " + cardFields() + " } }",
          { u: issued.customerUid || null, k: issued.billingKey || null })).registerPaymentCard;
      cards.selected = card._id;
      demo.showMessage("success", "카드를 등록했습니다: " + label(card));
    });
  }

  function chargeWithCard() {
    var a = amount(), card = selectedCard();
    if (!a || !card) return;
    return run(async function () {
      demo.showMessage("info", "등록한 카드로 결제하는 중입니다…");
      // The order is made on the card's gateway and PortOne version (a V2 card pays a V2 paymentId).
      var order = (await gql("preparePointCharge",
        "mutation Prepare($a: Int!, $v: PortOneVersion!, $g: PaymentGateway!) { preparePointCharge(amount: $a, version: $v, gateway: $g) { merchantUid amount } }",
        { a: a, v: card.version, g: card.gateway || "PORTONE" })).preparePointCharge;
      var tx = (await gql("createPointTransactionOfLoadingWithCard",
        "mutation ChargeCard($c: ID!, $m: String!) { createPointTransactionOfLoadingWithCard(paymentCardId: $c, merchantUid: $m) { _id amount balance } }",
        { c: card._id, m: order.merchantUid })).createPointTransactionOfLoadingWithCard;
      demo.showMessage("success", fmt(tx.amount) + "P 충전이 완료되었습니다. 잔액 " + fmt(tx.balance) + "P");
    });
  }

  function deleteCard(card) {
    if (!window.confirm(label(card) + " 카드를 삭제할까요? 이 카드의 정기 충전도 해지됩니다.")) return;
    return run(async function () {
      await gql("deletePaymentCard", "mutation DeleteCard($c: ID!) { deletePaymentCard(paymentCardId: $c) }", { c: card._id });
      demo.showMessage("success", "카드를 삭제했습니다: " + label(card));
    });
  }

  function subscribe() {
    var a = amount(), cardId = cards.selected;
    if (!a || !cardId) return;
    return run(async function () {
      demo.showMessage("info", "첫 달 충전을 결제하는 중입니다…");
      var sub = (await gql("createPointSubscription",
        "mutation Subscribe($c: ID!, $a: Int!) { createPointSubscription(paymentCardId: $c, amount: $a) { " + SUB + " } }",
        { c: cardId, a: a })).createPointSubscription;
      demo.showMessage("success", "정기 충전을 시작했습니다. 첫 달 " + fmt(sub.amount) + "P가 충전되었고, 매월 " +
        sub.billingDay + "일에 충전됩니다.");
    });
  }

  function cancelSub(sub) {
    if (!window.confirm("매월 " + fmt(sub.amount) + "원 정기 충전을 해지할까요?")) return;
    return run(async function () {
      await gql("cancelPointSubscription",
        "mutation CancelSub($s: ID!) { cancelPointSubscription(pointSubscriptionId: $s) { _id status } }", { s: sub._id });
      demo.showMessage("success", "정기 충전을 해지했습니다. 다음 달부터 충전되지 않습니다.");
    });
  }

  // ------------------------------------------------------------------ wiring
  var configured = false;
  demo.on("refresh", function () {
    if (!configured && state.config) {
      configured = true;
      renderAmounts(state.config);
      renderVersions(state.config);
    }
    $("cards").hidden = state.tab === "shop";
    reload();
  });
  demo.on("tab", function (tab) { $("cards").hidden = tab === "shop" || !state.user; });
  demo.on("signedOut", function () {
    $("cards").hidden = true;
    cards.list = [];
    cards.subs = [];
    cards.selected = null;
  });
  demo.on("idle", sync);
  $("btn-add-card").addEventListener("click", addCard);
  $("btn-card-charge").addEventListener("click", chargeWithCard);
  $("btn-subscribe").addEventListener("click", subscribe);
  $("card-amount").addEventListener("input", sync);
})();
