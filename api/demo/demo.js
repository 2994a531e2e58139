/*
 * pointcharge checkout demo — plain JS, no build step, no dependencies.
 *
 *   createUser / loginUser → access token kept in memory only; restoreAccessToken (httpOnly cookie)
 *   on reload and when the token expires
 *   fetchPointChargeConfig → IMP.init(merchantCode), the packages
 *   preparePointCharge(amount) → IMP.request_pay({... merchant_uid ...}, callback)
 *   callback → createPointTransactionOfLoading(impUid: rsp.imp_uid)
 *   부트페이 (when the server has it on): preparePointCharge(amount, gateway: BOOTPAY) →
 *   Bootpay.requestPayment({order_id: merchantUid, price, extra: {separately_confirmed}}) →
 *   confirm | done | issued → createPointTransactionOfLoading(receiptId) (the server confirms)
 *   모바일(리디렉션): m_redirect_url = <origin>/payments/complete, which verifies and credits, then
 *   sends the browser back here (/payments/result?outcome=…)
 *   상점: fetchUseditems, createUseditem, createPointTransactionOfBuyingAndSelling(useritemId) — the
 *   price is the server's; the buy button sends the price it showed as expectedPrice, so a seller's
 *   change in between is PRICE_CHANGED (nothing moves) instead of a surprise charge; a photo goes
 *   up first through uploadFile (a GraphQL multipart request, as apollo-upload-client sends it) and
 *   the item names its url; images are shown at fetchFileConfig.publicBase + url
 *   문의: fetchUseditemQuestions / fetchUseditemQuestionAnswers, createUseditemQuestion (anyone
 *   logged in), createUseditemQuestionAnswer (offered to the item's seller)
 */
(function () {
  "use strict";

  var ENDPOINT = "/graphql";
  var COMPLETE_PATH = "/payments/complete";

  // extensions.code → what we tell the user. Codes not listed here (BAD_USER_INPUT, CONFLICT,
  // CANCEL_AMOUNT_INVALID, …) carry a specific Korean message from the server, shown as is.
  var MESSAGES = {
    UNAUTHENTICATED: "로그인이 필요합니다. 다시 로그인해 주세요.",
    FORBIDDEN: "이 작업을 할 권한이 없습니다.",
    NOT_FOUND: "요청한 내역을 찾을 수 없습니다.",
    RATE_LIMITED: "요청이 너무 많습니다. 잠시 후 다시 시도해 주세요.",
    INTERNAL_SERVER_ERROR: "일시적인 오류가 발생했습니다. 잠시 후 다시 시도해 주세요.",
    GRAPHQL_PARSE_FAILED: "요청 형식이 올바르지 않습니다. 페이지를 새로고침해 주세요.",
    GRAPHQL_VALIDATION_FAILED: "요청 형식이 올바르지 않습니다. 페이지를 새로고침해 주세요.",
    PAYMENT_NOT_FOUND: "결제 내역을 찾을 수 없습니다. 결제가 완료되었는지 확인해 주세요.",
    PAYMENT_NOT_PAID: "결제가 완료되지 않아 포인트를 충전하지 않았습니다.",
    PAYMENT_PENDING: "가상계좌 입금을 기다리고 있습니다. 입금이 확인되면 포인트가 자동으로 충전됩니다.",
    AMOUNT_MISMATCH: "결제 금액이 주문 금액과 달라 결제를 자동으로 취소했습니다.",
    PAYMENT_ALREADY_CLAIMED: "이미 다른 계정에서 사용한 결제입니다.",
    PORTONE_UNAVAILABLE: "결제사(PortOne)와 연결이 원활하지 않습니다. 결제는 안전하게 처리되니 잠시 후 새로고침해 주세요.",
    BOOTPAY_UNAVAILABLE: "결제사(부트페이)와 연결이 원활하지 않습니다. 결제는 안전하게 처리되니 잠시 후 새로고침해 주세요.",
    INSUFFICIENT_POINTS: "포인트가 부족합니다.",
    ALREADY_CANCELLED: "이미 취소된 결제입니다.",
    ITEM_SOLD_OUT: "이미 판매된 상품입니다.",
    CANNOT_BUY_OWN_ITEM: "자신의 상품은 구매할 수 없습니다.",
    FILE_TOO_LARGE: "사진 파일이 너무 큽니다.",
    UNSUPPORTED_FILE_TYPE: "JPEG, PNG, WebP, GIF 사진만 올릴 수 있습니다.",
    PRICE_CHANGED: "판매자가 상품 가격을 바꿨습니다. 새 가격을 확인한 뒤 다시 구매해 주세요.",
    CARD_DECLINED: "카드 결제가 거절되었습니다. 다른 카드로 다시 시도해 주세요.",
    NETWORK: "서버에 연결할 수 없습니다. 네트워크 상태를 확인해 주세요."
  };
  // The same code can mean something more precise in one operation.
  var OVERRIDES = {
    loginUser: { UNAUTHENTICATED: "이메일 또는 비밀번호가 일치하지 않습니다." },
    createUser: { CONFLICT: "이미 가입된 이메일입니다. 로그인해 주세요." },
    cancelPointTransaction: { INSUFFICIENT_POINTS: "이미 사용한 포인트는 취소할 수 없습니다." },
    createPointTransactionOfBuyingAndSelling: {
      INSUFFICIENT_POINTS: "포인트가 부족합니다. 충전한 뒤 다시 시도해 주세요.",
      NOT_FOUND: "판매가 끝났거나 삭제된 상품입니다."
    }
  };
  // Not failures: shown as information.
  var INFO_CODES = { PAYMENT_PENDING: true };

  // A Bootpay payment held for the server's confirm and refused: never captured, nothing to refund.
  var NOT_CHARGED_MISMATCH = "결제 금액이 주문 금액과 다릅니다. 결제를 승인하지 않았으므로 청구되지 않습니다.";
  var NOT_CHARGED_LIMIT = "보유 포인트 한도를 넘어 결제를 승인하지 않았습니다. 청구되지 않습니다.";

  // The mobile redirect's ?outcome=failed&reason=… (PortOne error codes or our sync outcomes).
  var REDIRECT_REASONS = {
    no_payment: "결제를 취소했습니다.",
    F1002: "결제를 취소했습니다.",
    F1001: "카드사에서 결제를 거절했습니다.",
    F1003: "결제 정보가 주문과 일치하지 않아 결제하지 않았습니다.",
    F0000: "결제를 요청할 수 없습니다. 다시 시도해 주세요.",
    not_paid: "결제가 완료되지 않았습니다.",
    amount_mismatch: MESSAGES.AMOUNT_MISMATCH,
    amount_mismatch_not_charged: NOT_CHARGED_MISMATCH,
    balance_limit_not_charged: NOT_CHARGED_LIMIT,
    forbidden: "다른 사용자의 주문입니다.",
    already_claimed: MESSAGES.PAYMENT_ALREADY_CLAIMED,
    cancelled: "취소된 결제입니다.",
    PAYMENT_NOT_FOUND: MESSAGES.PAYMENT_NOT_FOUND
  };

  var state = { token: null, user: null, config: null, selected: null, busy: false, tab: "charge", qnaItem: null,
                gateway: "PORTONE", bootpayMethod: "card" };
  var restoring = null;

  function $(id) { return document.getElementById(id); }
  function fmt(n) { return Number(n).toLocaleString("ko-KR"); }
  function signed(n) { return (n > 0 ? "+" : n < 0 ? "−" : "") + fmt(Math.abs(n)); }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function when(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) return "";
    return d.getFullYear() + "." + pad(d.getMonth() + 1) + "." + pad(d.getDate()) + " " + pad(d.getHours()) + ":" + pad(d.getMinutes());
  }

  // ------------------------------------------------------------------ GraphQL
  // extensions.where says the failure is more precise than its code (a cancel PortOne cannot find
  // is PAYMENT_NOT_FOUND with where "PORTONE", not the charge flow's "no such payment"): the
  // server's message says it in its own words.
  function GqlError(code, serverMessage, op, extensions) {
    var override = (OVERRIDES[op] || {})[code];
    this.code = code;
    this.extensions = extensions || {};
    this.serverMessage = serverMessage || "";
    // extensions.charged === false: a Bootpay payment held for the server's confirm that it refused
    // (AMOUNT_MISMATCH, BALANCE_LIMIT_EXCEEDED) was never captured, so not "자동으로 취소했습니다".
    var precise = (this.extensions.where || this.extensions.charged === false) && serverMessage;
    this.message = precise || override || declined(code, this.extensions) || MESSAGES[code] || serverMessage ||
      MESSAGES.INTERNAL_SERVER_ERROR;
  }

  // A card the card company refused says why, in the company's words (extensions.failReason: 한도초과…).
  function declined(code, extensions) {
    if (code !== "CARD_DECLINED" || !extensions.failReason) return null;
    return "카드 결제가 거절되었습니다: " + extensions.failReason + ". 다른 카드로 다시 시도해 주세요.";
  }

  async function gql(op, query, variables, opts) {
    opts = opts || {};
    // opts.form: a multipart body (uploads); the browser sets its Content-Type with the boundary.
    var headers = opts.form ? {} : { "Content-Type": "application/json" };
    if (state.token && !opts.anonymous) headers.Authorization = "Bearer " + state.token;
    var response, body;
    try {
      response = await fetch(ENDPOINT, {
        method: "POST", headers: headers, credentials: "same-origin",
        body: opts.form ? opts.form() : JSON.stringify({ query: query, variables: variables || {} })
      });
    } catch (e) {
      throw new GqlError("NETWORK", "", op);
    }
    try { body = await response.json(); } catch (e) {
      throw new GqlError(response.status === 503 ? "NETWORK" : "INTERNAL_SERVER_ERROR", "", op);
    }
    if (body.errors && body.errors.length) {
      var first = body.errors[0];
      var code = (first.extensions && first.extensions.code) || "INTERNAL_SERVER_ERROR";
      // The access token lives 30 minutes: renew it once through the refresh cookie, then retry.
      if (code === "UNAUTHENTICATED" && state.token && !opts.anonymous && !opts.retried) {
        if (await restore()) return gql(op, query, variables, { retried: true, form: opts.form });
        signedOut();
      }
      throw new GqlError(code, first.message, op, first.extensions);
    }
    return body.data;
  }

  // One refresh at a time: refresh tokens rotate, and presenting a rotated one revokes the login.
  function restore() {
    if (!restoring) {
      restoring = gql("restoreAccessToken", "mutation { restoreAccessToken { accessToken } }", {}, { anonymous: true })
        .then(function (d) { state.token = d.restoreAccessToken.accessToken; return true; })
        .catch(function () { state.token = null; return false; })
        .finally(function () { restoring = null; });
    }
    return restoring;
  }

  // ------------------------------------------------------------------ UI helpers
  function showMessage(kind, text) {
    var el = $("message");
    el.className = "message " + kind;
    el.textContent = text;
    el.hidden = false;
  }
  function showError(e) {
    showMessage(e && INFO_CODES[e.code] ? "info" : "error", (e && e.message) || MESSAGES.INTERNAL_SERVER_ERROR);
  }
  function setBusy(busy) {
    state.busy = busy;
    var buttons = document.querySelectorAll("main button");
    for (var i = 0; i < buttons.length; i++) buttons[i].disabled = busy;
    if (!busy) {
      $("btn-pay").disabled = !amountToPay();
      emit("idle");
    }
  }

  // cards.js (카드 / 정기 충전) follows the page through these: "refresh", "signedOut", "tab", "idle".
  var listeners = {};
  function on(event, fn) { (listeners[event] = listeners[event] || []).push(fn); }
  function emit(event, arg) { (listeners[event] || []).forEach(function (fn) { fn(arg); }); }
  function signedOut() {
    state.token = null;
    state.user = null;
    state.pendingIds = [];
    state.hasPending = false;
    clearTimeout(state.pollTimer);
    state.tab = "charge";  // the next login starts where a first visit does
    state.qnaItem = null;
    $("loading").hidden = true;
    $("auth").hidden = false;
    ["account", "tabs", "charge", "pending", "history", "shop", "trades"].forEach(function (id) { $(id).hidden = true; });
    emit("signedOut");
  }

  // ------------------------------------------------------------------ data
  var ME = "query Me {" +
    " fetchUserLoggedIn { _id email name userPoint { amount } }" +
    " fetchPointTransactions { _id gateway impUid amount balance status statusDetail createdAt useditem { _id name } }" +
    " fetchUseditems { _id name price remarks images seller { _id name } }" +
    " fetchFileConfig { publicBase maxBytes }" +
    " fetchPointChargeOrders { gateway merchantUid impUid receiptId amount paidAmount cancelledAmount status payMethod" +
    "   virtualAccount { bankName accountNumber holder dueAt } }" +
    " }";

  async function refresh() {
    var data = await gql("fetchUserLoggedIn", ME);
    state.user = data.fetchUserLoggedIn;
    state.files = data.fetchFileConfig;
    $("loading").hidden = true;
    $("auth").hidden = true;
    $("account").hidden = false;
    $("tabs").hidden = false;
    $("user-name").textContent = state.user.name;
    $("user-email").textContent = state.user.email;
    $("balance").textContent = fmt(state.user.userPoint ? state.user.userPoint.amount : 0);
    renderHistory(data.fetchPointTransactions, data.fetchPointChargeOrders);
    renderPending(data.fetchPointChargeOrders);
    renderItems(data.fetchUseditems);
    renderTrades(data.fetchPointTransactions);
    showTab(state.tab);
    emit("refresh");
  }

  // ------------------------------------------------------------------ 상점 (items and buying)
  function showTab(tab) {
    state.tab = tab;
    var shop = tab === "shop";
    $("charge").hidden = shop;
    $("history").hidden = shop;
    $("pending").hidden = shop || !state.hasPending;
    $("shop").hidden = !shop;
    $("trades").hidden = !shop;
    $("tab-charge").setAttribute("aria-selected", String(!shop));
    $("tab-shop").setAttribute("aria-selected", String(shop));
    $("tab-charge").className = shop ? "secondary" : "";
    $("tab-shop").className = shop ? "" : "secondary";
    emit("tab", tab);
  }

  function renderItems(items) {
    var body = $("item-rows");
    body.textContent = "";
    items.forEach(function (item) {
      var tr = document.createElement("tr");
      tr.dataset.itemId = item._id;
      var name = document.createElement("td");
      if (item.images && item.images[0]) {
        var img = document.createElement("img");
        img.className = "item-photo";
        img.alt = "";
        img.src = imageUrl(item.images[0]);
        name.appendChild(img);
      }
      name.appendChild(document.createTextNode(item.name));
      if (item.remarks) {
        var remarks = document.createElement("span");
        remarks.className = "detail";
        remarks.textContent = item.remarks;
        name.appendChild(remarks);
      }
      var price = document.createElement("td");
      price.className = "num";
      price.textContent = fmt(item.price) + "P";
      var seller = document.createElement("td");
      seller.textContent = item.seller ? item.seller.name : "";
      var action = document.createElement("td");
      action.className = "actions";
      if (item.seller && state.user && item.seller._id === state.user._id) {
        action.innerHTML = '<small class="muted">내 상품</small>';
      } else {
        var btn = document.createElement("button");
        btn.type = "button";
        btn.className = "small buy-item";
        btn.textContent = "구매";
        btn.setAttribute("aria-label", item.name + " 구매");
        btn.addEventListener("click", function () { buyItem(item); });
        action.appendChild(btn);
      }
      var ask = document.createElement("button");
      ask.type = "button";
      ask.className = "small secondary qna-toggle";
      ask.textContent = "문의";
      ask.setAttribute("aria-label", item.name + " 문의");
      ask.setAttribute("aria-expanded", "false");
      ask.addEventListener("click", function () { toggleQna(item, tr); });
      action.appendChild(ask);
      [name, price, seller, action].forEach(function (td) { tr.appendChild(td); });
      body.appendChild(tr);
      if (state.qnaItem === item._id) toggleQna(item, tr);  // kept open across a refresh
    });
    $("items-empty").hidden = items.length > 0;
  }

  // ------------------------------------------------------------------ 문의 (an item's Q&A)
  var QUESTIONS = "query Questions($id: ID!) { fetchUseditemQuestions(useditemId: $id) { _id contents createdAt user { _id name } } }";
  var ANSWERS = "query Answers($id: ID!) { fetchUseditemQuestionAnswers(useditemQuestionId: $id) { _id contents createdAt user { _id name } } }";

  function toggleQna(item, tr) {
    var open = tr.nextElementSibling && tr.nextElementSibling.classList.contains("qna-row") ? tr.nextElementSibling : null;
    var button = tr.querySelector(".qna-toggle");
    if (open) {
      open.remove();
      state.qnaItem = null;
      button.setAttribute("aria-expanded", "false");
      return;
    }
    state.qnaItem = item._id;
    button.setAttribute("aria-expanded", "true");
    var row = document.createElement("tr");
    row.className = "qna-row";
    row.dataset.qnaFor = item._id;
    var cell = document.createElement("td");
    cell.colSpan = 4;
    cell.className = "qna";
    row.appendChild(cell);
    tr.after(row);
    loadQna(item, cell);
  }

  function qnaEntry(tag, className, entry) {
    var el = document.createElement(tag);
    el.className = className;
    var text = document.createElement("span");
    text.className = "qna-text";
    text.textContent = entry.contents;
    var by = document.createElement("span");
    by.className = "detail";
    by.textContent = (entry.user ? entry.user.name : "") + " · " + when(entry.createdAt);
    el.appendChild(text);
    el.appendChild(by);
    return el;
  }

  function qnaForm(className, placeholder, label, onSubmit) {
    var form = document.createElement("form");
    form.className = "qna-form " + className;
    form.noValidate = true;
    var input = document.createElement("input");
    input.maxLength = 1000;
    input.placeholder = placeholder;
    input.setAttribute("aria-label", placeholder);
    var submit = document.createElement("button");
    submit.type = "submit";
    submit.className = "small secondary";
    submit.textContent = label;
    form.appendChild(input);
    form.appendChild(submit);
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var contents = input.value.trim();
      if (!contents) return showMessage("error", "내용을 입력해 주세요.");
      onSubmit(contents);
    });
    return form;
  }

  async function loadQna(item, cell) {
    var isSeller = !!(item.seller && state.user && item.seller._id === state.user._id);
    var questions, answers;
    try {
      questions = (await gql("fetchUseditemQuestions", QUESTIONS, { id: item._id })).fetchUseditemQuestions;
      answers = await Promise.all(questions.map(function (q) {
        return gql("fetchUseditemQuestionAnswers", ANSWERS, { id: q._id }).then(function (d) { return d.fetchUseditemQuestionAnswers; });
      }));
    } catch (e) {
      return showError(e);
    }
    cell.textContent = "";
    var list = document.createElement("ul");
    list.className = "qna-list";
    questions.forEach(function (q, i) {
      var li = qnaEntry("li", "question", q);
      li.dataset.questionId = q._id;
      // Oldest answer first under its question, as a conversation reads.
      answers[i].slice().reverse().forEach(function (a) { li.appendChild(qnaEntry("div", "answer", a)); });
      if (isSeller) {
        li.appendChild(qnaForm("qna-answer", "답변을 입력하세요", "답변", function (contents) {
          qnaWrite("createUseditemQuestionAnswer",
            "mutation Answer($id: ID!, $c: String!) { createUseditemQuestionAnswer(useditemQuestionId: $id, createUseditemQuestionAnswerInput: { contents: $c }) { _id } }",
            { id: q._id, c: contents }, "답변을 등록했습니다.", item, cell);
        }));
      }
      list.appendChild(li);
    });
    cell.appendChild(list);
    if (!questions.length) {
      var none = document.createElement("p");
      none.className = "muted qna-empty";
      none.textContent = "아직 문의가 없습니다.";
      cell.appendChild(none);
    }
    cell.appendChild(qnaForm("qna-ask", "상품에 대해 문의해 보세요", "문의하기", function (contents) {
      qnaWrite("createUseditemQuestion",
        "mutation Ask($id: ID!, $c: String!) { createUseditemQuestion(useditemId: $id, createUseditemQuestionInput: { contents: $c }) { _id } }",
        { id: item._id, c: contents }, "문의를 등록했습니다.", item, cell);
    }));
  }

  async function qnaWrite(op, query, variables, done, item, cell) {
    setBusy(true);
    try {
      await gql(op, query, variables);
      showMessage("success", done);
    } catch (e) {
      showError(e);
    } finally {
      setBusy(false);
    }
    await loadQna(item, cell);
  }

  function renderTrades(entries) {
    var rows = entries.filter(function (e) { return e.status === "구매" || e.status === "판매"; });
    var body = $("trade-rows");
    body.textContent = "";
    rows.forEach(function (e) {
      var tr = document.createElement("tr");
      tr.dataset.status = e.status;
      var cells = [when(e.createdAt), null, signed(e.amount) + "P", fmt(e.balance) + "P"];
      cells.forEach(function (text, i) {
        var td = document.createElement("td");
        if (i >= 2) td.className = "num" + (i === 2 ? (e.amount < 0 ? " minus" : " plus") : "");
        if (i === 0) td.className = "when";
        if (text !== null) td.textContent = text;
        tr.appendChild(td);
      });
      var badge = document.createElement("span");
      badge.className = "status" + (e.status === "구매" ? " cancel" : "");
      badge.textContent = e.status;
      var detail = document.createElement("span");
      detail.className = "detail";
      detail.textContent = e.useditem ? e.useditem.name : e.statusDetail;
      tr.children[1].appendChild(badge);
      tr.children[1].appendChild(detail);
      body.appendChild(tr);
    });
    $("trades-empty").hidden = rows.length > 0;
  }

  // An absolute address is used as is; an uploaded file's url is relative to the public base.
  function imageUrl(url) {
    return /^https?:\/\//i.test(url) ? url : (state.files ? state.files.publicBase : "/files/") + url;
  }

  // The GraphQL multipart request exactly as apollo-upload-client builds it.
  async function uploadFile(file) {
    var query = "mutation UploadFile($file: Upload!) { uploadFile(file: $file) { _id url } }";
    return (await gql("uploadFile", query, null, {
      form: function () {
        var form = new FormData();
        form.append("operations", JSON.stringify({ operationName: "UploadFile", query: query, variables: { file: null } }));
        form.append("map", JSON.stringify({ 1: ["variables.file"] }));
        form.append("1", file, file.name);
        return form;
      }
    })).uploadFile;
  }

  async function onCreateItem(ev) {
    ev.preventDefault();
    var name = $("item-name").value.trim(), price = parseInt($("item-price").value, 10);
    if (!name || !(price > 0)) return showMessage("error", "상품명과 가격(1 이상)을 입력해 주세요.");
    var photo = $("item-photo").files[0];
    if (photo && state.files && photo.size > state.files.maxBytes) return showMessage("error", MESSAGES.FILE_TOO_LARGE);
    setBusy(true);
    try {
      var images = photo ? [(await uploadFile(photo)).url] : [];
      var item = (await gql("createUseditem",
        "mutation CreateItem($i: CreateUseditemInput!) { createUseditem(createUseditemInput: $i) { _id name price } }",
        { i: { name: name, price: price, remarks: $("item-remarks").value.trim(), contents: "", images: images } })).createUseditem;
      $("item-form").reset();
      showMessage("success", "‘" + item.name + "’ 상품을 " + fmt(item.price) + "P에 등록했습니다.");
    } catch (e) {
      showError(e);
    } finally {
      setBusy(false);
      await refresh().catch(showError);
    }
  }

  async function buyItem(item) {
    if (!window.confirm("‘" + item.name + "’을(를) " + fmt(item.price) + "P에 구매할까요?")) return;
    setBusy(true);
    try {
      // The server charges its own price; the one shown here goes along so that a seller's change
      // since the list was loaded is refused (PRICE_CHANGED) rather than charged.
      var sold = (await gql("createPointTransactionOfBuyingAndSelling",
        "mutation Buy($id: ID!, $price: Int) { createPointTransactionOfBuyingAndSelling(useritemId: $id, expectedPrice: $price) { _id name price soldAt seller { name } } }",
        { id: item._id, price: item.price })).createPointTransactionOfBuyingAndSelling;
      showMessage("success", "‘" + sold.name + "’을(를) " + fmt(sold.price) + "P에 구매했습니다.");
    } catch (e) {
      if (e.code === "PRICE_CHANGED" && typeof e.extensions.price === "number") {
        // The list is refreshed below, with the new price on the item's row.
        showMessage("error", "판매자가 ‘" + item.name + "’의 가격을 " + fmt(item.price) + "P에서 " +
          fmt(e.extensions.price) + "P로 바꿨습니다. 새 가격을 확인한 뒤 다시 구매해 주세요.");
      } else {
        showError(e);
      }
    } finally {
      setBusy(false);
      await refresh().catch(showError);
    }
  }

  function renderHistory(entries, orders) {
    // A charge's impUid is its payment's id at the gateway: PortOne's imp_uid or Bootpay's receipt_id.
    var byImpUid = {};
    orders.forEach(function (o) { if (paymentIdOf(o)) byImpUid[paymentIdOf(o)] = o; });
    var rows = entries.filter(function (e) { return e.status === "충전" || e.status === "취소"; });
    var body = $("history-rows");
    body.textContent = "";
    rows.forEach(function (e) {
      var tr = document.createElement("tr");
      tr.dataset.status = e.status;
      if (e.impUid) tr.dataset.impUid = e.impUid;
      if (e.gateway) tr.dataset.gateway = e.gateway;
      var cells = [
        when(e.createdAt),
        null,
        signed(e.amount) + "P",
        fmt(e.balance) + "P",
        null
      ];
      cells.forEach(function (text, i) {
        var td = document.createElement("td");
        if (i === 2 || i === 3) td.className = "num" + (i === 2 ? (e.amount < 0 ? " minus" : " plus") : "");
        if (i === 0) td.className = "when";
        if (text !== null) td.textContent = text;
        tr.appendChild(td);
      });
      var badge = document.createElement("span");
      badge.className = "status" + (e.status === "취소" ? " cancel" : "");
      badge.textContent = e.status;
      var detail = document.createElement("span");
      detail.className = "detail";
      detail.textContent = e.statusDetail;
      tr.children[1].appendChild(badge);
      tr.children[1].appendChild(detail);
      if (e.status === "충전" && e.impUid) {
        var order = byImpUid[e.impUid];
        var left = order ? order.paidAmount - order.cancelledAmount : e.amount;
        if (left > 0 && (!order || order.status === "paid" || order.status === "partially_cancelled")) {
          var btn = document.createElement("button");
          btn.type = "button";
          btn.className = "small cancel-charge";
          btn.textContent = "취소";
          btn.setAttribute("aria-label", fmt(e.amount) + "P 충전 취소");
          var vbank = !!order && order.payMethod === "vbank";
          var gateway = order ? order.gateway : e.gateway;
          btn.addEventListener("click", function () { cancelCharge(e.impUid, left, vbank, gateway); });
          tr.children[4].appendChild(btn);
        } else {
          tr.children[4].innerHTML = '<small class="muted">취소됨</small>';
        }
      }
      body.appendChild(tr);
    });
    $("history").hidden = false;
    $("history-empty").hidden = rows.length > 0;
  }

  function renderPending(orders) {
    var ready = orders.filter(function (o) { return o.status === "ready" && o.virtualAccount; });
    var list = $("pending-list");
    list.textContent = "";
    ready.forEach(function (o) {
      var va = o.virtualAccount;
      var li = document.createElement("li");
      var id = paymentIdOf(o);
      li.dataset.gateway = o.gateway;
      if (id) li.dataset.paymentId = id;
      if (o.impUid) li.dataset.impUid = o.impUid;
      if (o.receiptId) li.dataset.receiptId = o.receiptId;
      li.textContent = fmt(o.amount) + "원 · " + (va.bankName || "") + " " + (va.accountNumber || "") +
        (va.holder ? " (예금주 " + va.holder + ")" : "") + (va.dueAt ? " · " + when(va.dueAt) + "까지" : "");
      if (state.config && state.config.testMode && id) {
        // Sandbox only: the buyer's deposit, as POST /sandbox/portone/_control/payments/{imp_uid}/deposit
        // (or /sandbox/bootpay/_control/receipts/{receipt_id}/deposit).
        var pay = document.createElement("button");
        pay.type = "button";
        pay.className = "small deposit";
        pay.textContent = "입금하기 (테스트)";
        pay.addEventListener("click", function () { simulateDeposit(o.gateway, id, o.amount); });
        li.appendChild(pay);
      }
      list.appendChild(li);
    });
    announceDeposits(state.pendingIds || [], ready, orders);
    state.pendingIds = ready.map(paymentIdOf);
    state.hasPending = ready.length > 0;
    $("pending").hidden = !state.hasPending || state.tab === "shop";
    pollWhilePending();
  }

  // A deposit is credited by PortOne's webhook, which this page never sees: while an account waits,
  // look again every few seconds (the balance and this list update by themselves), and stop once
  // nothing is pending.
  var POLL_MS = 3000;
  function pollWhilePending() {
    clearTimeout(state.pollTimer);
    state.pollTimer = null;
    if (!state.hasPending || !state.token) return;
    state.pollTimer = setTimeout(function () {
      state.pollTimer = null;
      if (state.busy) return pollWhilePending();  // a deposit or payment in flight refreshes itself
      refresh().catch(pollWhilePending);  // a failed look keeps the rhythm; the next may work
    }, POLL_MS);
  }

  function announceDeposits(before, ready, orders) {
    before.forEach(function (id) {
      if (ready.some(function (o) { return paymentIdOf(o) === id; })) return;
      var order = orders.filter(function (o) { return paymentIdOf(o) === id; })[0];
      if (order && order.status === "paid") {
        showMessage("success", "가상계좌 입금이 확인되어 " + fmt(order.paidAmount) + "P가 충전되었습니다.");
      }
    });
  }

  function renderPackages(config) {
    var box = $("packages");
    box.textContent = "";
    if (!config.packages.length) {
      // Free amount (POINTCHARGE_CHARGE_PACKAGES=any).
      var input = $("custom-amount");
      input.min = config.minAmount;
      input.max = config.maxAmount;
      input.placeholder = fmt(config.minAmount) + " ~ " + fmt(config.maxAmount);
      input.addEventListener("input", function () { $("btn-pay").disabled = state.busy || !amountToPay(); });
      $("custom-amount-label").hidden = false;
      box.hidden = true;
      return;
    }
    config.packages.forEach(function (amount) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "package";
      b.setAttribute("role", "radio");
      b.setAttribute("aria-checked", "false");
      b.dataset.amount = String(amount);
      b.textContent = fmt(amount) + "원";
      b.addEventListener("click", function () { selectPackage(amount); });
      box.appendChild(b);
    });
  }

  function selectPackage(amount) {
    state.selected = amount;
    var buttons = $("packages").querySelectorAll(".package");
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].setAttribute("aria-checked", String(Number(buttons[i].dataset.amount) === amount));
    }
    $("btn-pay").textContent = fmt(amount) + "원 충전하기";
    $("btn-pay").disabled = state.busy;
  }

  // The payment's id at its gateway: PortOne's imp_uid or Bootpay's receipt_id.
  function paymentIdOf(order) {
    return (order.gateway === "BOOTPAY" ? order.receiptId : order.impUid) || null;
  }

  // 결제사: a switch only when the server has both on; otherwise the one it has.
  function renderGateways(config) {
    var gateways = config.gateways || ["PORTONE"];
    $("gateways").hidden = gateways.length < 2;
    [].forEach.call(document.querySelectorAll("#gateways .gateway"), function (b) {
      b.hidden = gateways.indexOf(b.dataset.gateway) < 0;
      b.addEventListener("click", function () { selectGateway(b.dataset.gateway); });
    });
    [].forEach.call(document.querySelectorAll("#bootpay-methods .pay-method"), function (b) {
      b.addEventListener("click", function () {
        state.bootpayMethod = b.dataset.method;
        checkOne("#bootpay-methods .pay-method", "method", b.dataset.method);
      });
    });
    selectGateway(gateways[0]);
  }

  function selectGateway(gateway) {
    state.gateway = gateway;
    checkOne("#gateways .gateway", "gateway", gateway);
    $("bootpay-methods").hidden = gateway !== "BOOTPAY";
    $("mobile-redirect-label").hidden = gateway === "BOOTPAY";  // the redirect is PortOne's m_redirect_url
  }

  function checkOne(selector, key, value) {
    [].forEach.call(document.querySelectorAll(selector), function (b) {
      b.setAttribute("aria-checked", String(b.dataset[key] === value));
    });
  }

  function amountToPay() {
    if (state.config && !state.config.packages.length) {
      var v = parseInt($("custom-amount").value, 10);
      return v > 0 ? v : null;
    }
    return state.selected;
  }

  // ------------------------------------------------------------------ actions
  async function login(email, password) {
    var d = await gql("loginUser",
      "mutation Login($e: String!, $p: String!) { loginUser(email: $e, password: $p) { accessToken } }",
      { e: email, p: password }, { anonymous: true });
    state.token = d.loginUser.accessToken;
  }

  async function onLogin(ev) {
    ev.preventDefault();
    var email = $("email").value.trim(), password = $("password").value;
    if (!email || !password) return showMessage("error", "이메일과 비밀번호를 입력해 주세요.");
    setBusy(true);
    try {
      await login(email, password);
      await refresh();
      showMessage("success", state.user.name + "님, 환영합니다.");
    } catch (e) { showError(e); } finally { setBusy(false); }
  }

  async function onSignup() {
    var email = $("email").value.trim(), password = $("password").value, name = $("name").value.trim();
    if (!email || !password || !name) return showMessage("error", "회원가입하려면 이메일, 비밀번호, 이름을 모두 입력해 주세요.");
    setBusy(true);
    try {
      await gql("createUser", "mutation Signup($i: CreateUserInput!) { createUser(createUserInput: $i) { _id } }",
        { i: { email: email, password: password, name: name } }, { anonymous: true });
      await login(email, password);
      await refresh();
      showMessage("success", "회원가입이 완료되었습니다. " + name + "님, 환영합니다.");
    } catch (e) { showError(e); } finally { setBusy(false); }
  }

  async function onLogout() {
    setBusy(true);
    try { await gql("logoutUser", "mutation { logoutUser }", {}, { anonymous: true }); } catch (e) { /* signed out anyway */ }
    signedOut();
    setBusy(false);
    showMessage("info", "로그아웃했습니다.");
  }

  async function onPay() {
    var amount = amountToPay();
    if (!amount || !state.config) return;
    if (state.gateway === "BOOTPAY") return payWithBootpay(amount);
    var redirect = $("mobile-redirect").checked;
    setBusy(true);
    showMessage("info", "결제창을 여는 중입니다…");
    try {
      var order = (await gql("preparePointCharge",
        "mutation Prepare($a: Int!) { preparePointCharge(amount: $a) { merchantUid amount } }", { a: amount })).preparePointCharge;
      IMP.init(state.config.merchantCode);
      var params = {
        pg: state.config.pg,
        pay_method: "card",
        merchant_uid: order.merchantUid,
        name: "포인트 " + fmt(order.amount) + "P 충전",
        amount: order.amount,
        buyer_email: state.user.email,
        buyer_name: state.user.name,
        // On a phone PortOne navigates here instead of calling back; the toggle forces it.
        m_redirect_url: window.location.origin + COMPLETE_PATH
      };
      if (redirect) params.sandbox_redirect = true;
      IMP.sandbox_force_redirect = redirect;  // sandbox SDK only; PortOne's ignores it
      IMP.request_pay(params, onPaid);
      if (!redirect) showMessage("info", "결제창에서 결제를 진행해 주세요.");
    } catch (e) {
      showError(e);
      setBusy(false);
    }
  }

  async function onPaid(rsp) {
    try {
      if (!rsp.success) {
        if (rsp.error_code === "F1002") showMessage("warn", "결제를 취소했습니다.");
        else showMessage("error", "결제에 실패했습니다." + (rsp.error_msg ? " (" + rsp.error_msg + ")" : ""));
        return;
      }
      showMessage("info", "결제를 확인하는 중입니다…");
      await claim({ impUid: rsp.imp_uid });
    } catch (e) {
      showError(e);
    } finally {
      setBusy(false);
      await refresh().catch(showError);
    }
  }

  // Bootpay resolves {event: "confirm"} for a card the buyer approved (separately_confirmed: the
  // server checks the amount and the owner, then confirms: never Bootpay.confirm() here), "done" for
  // a captured payment, "issued" for a virtual account (PAYMENT_PENDING, as PortOne's); it rejects
  // {event: "cancel" | "error", message} when the window ends without one.
  async function payWithBootpay(amount) {
    if (typeof window.Bootpay === "undefined") return showMessage("error", "결제 모듈(bootpay.js)을 불러오지 못했습니다.");
    setBusy(true);
    showMessage("info", "결제창을 여는 중입니다…");
    try {
      var order = (await gql("preparePointCharge",
        "mutation Prepare($a: Int!) { preparePointCharge(amount: $a, gateway: BOOTPAY) { merchantUid amount } }", { a: amount })).preparePointCharge;
      var card = state.bootpayMethod !== "vbank";
      showMessage("info", "결제창에서 결제를 진행해 주세요.");
      var result;
      try {
        result = await window.Bootpay.requestPayment({
          application_id: state.config.bootpayApplicationId,
          price: order.amount,
          order_id: order.merchantUid,
          order_name: "포인트 충전",
          method: state.bootpayMethod,
          user: { id: state.user._id, username: state.user.name, email: state.user.email },
          extra: card ? { open_type: "iframe", separately_confirmed: true } : { open_type: "iframe" }
        });
      } catch (r) {
        if (!r || (r.event !== "cancel" && r.event !== "error")) throw r;
        if (r.event === "cancel") return showMessage("warn", "결제를 취소했습니다.");
        return showMessage("error", "결제에 실패했습니다." + (r.message ? " (" + r.message + ")" : ""));
      }
      var receiptId = result.receipt_id || (result.data && result.data.receipt_id);
      showMessage("info", "결제를 확인하는 중입니다…");
      await claim({ receiptId: receiptId });
    } catch (e) {
      showError(e instanceof GqlError ? e : new GqlError("INTERNAL_SERVER_ERROR", "", "bootpay"));
    } finally {
      setBusy(false);
      await refresh().catch(showError);
    }
  }

  // ids: {impUid} (PortOne) or {receiptId} (Bootpay).
  async function claim(ids) {
    var tx = (await gql("createPointTransactionOfLoading",
      "mutation Charge($i: ID, $r: ID) { createPointTransactionOfLoading(impUid: $i, receiptId: $r) { _id amount balance status } }",
      { i: ids.impUid || null, r: ids.receiptId || null })).createPointTransactionOfLoading;
    showMessage("success", fmt(tx.amount) + "P 충전이 완료되었습니다. 잔액 " + fmt(tx.balance) + "P");
  }

  // A deposited virtual account is refunded by bank transfer: PortOne needs the buyer's account.
  function askRefundAccount(amount) {
    var dialog = $("refund-dialog");
    $("refund-amount").textContent = fmt(amount) + "원";
    // A fresh form each time: the account of an earlier cancel must not ride along unnoticed.
    $("refund-bank").selectedIndex = 0;
    $("refund-number").value = "";
    $("refund-holder").value = "";
    return new Promise(function (resolve) {
      dialog.addEventListener("close", function () {
        if (dialog.returnValue !== "ok") return resolve(null);
        resolve({ bank: $("refund-bank").value, number: $("refund-number").value.trim(),
                  holder: $("refund-holder").value.trim() });
      }, { once: true });
      dialog.returnValue = "";
      dialog.showModal();
    });
  }

  // id: the charge's imp_uid, or its receipt_id when gateway is BOOTPAY.
  async function cancelCharge(id, amount, vbank, gateway) {
    var account = null;
    if (vbank) {
      account = await askRefundAccount(amount);
      if (!account) return;
    } else if (!window.confirm(fmt(amount) + "P 충전을 취소하고 환불할까요?")) {
      return;
    }
    setBusy(true);
    try {
      var tx = (await gql("cancelPointTransaction",
        "mutation Cancel($i: ID, $rc: ID, $r: RefundAccountInput) { cancelPointTransaction(impUid: $i, receiptId: $rc, refundAccount: $r) { amount balance } }",
        { i: gateway === "BOOTPAY" ? null : id, rc: gateway === "BOOTPAY" ? id : null, r: account })).cancelPointTransaction;
      showMessage("success", fmt(-tx.amount) + "P 충전을 취소했습니다. " +
        (vbank ? "입력한 계좌로 환불됩니다." : "결제 금액은 카드사를 통해 환불됩니다."));
    } catch (e) {
      showError(e);
    } finally {
      setBusy(false);
      await refresh().catch(showError);
    }
  }

  // The sandbox's deposit: its webhook credits the points a moment later (as PortOne's would).
  async function simulateDeposit(gateway, id, amount) {
    if (state.busy) return;
    setBusy(true);
    try {
      var url = gateway === "BOOTPAY"
        ? "/sandbox/bootpay/_control/receipts/" + encodeURIComponent(id) + "/deposit"
        : "/sandbox/portone/_control/payments/" + encodeURIComponent(id) + "/deposit";
      var r = await fetch(url, {
        method: "POST", headers: { "Content-Type": "application/json" }, body: "{}"
      });
      if (!r.ok) throw new GqlError("INTERNAL_SERVER_ERROR", "", "deposit");
      showMessage("info", fmt(amount) + "원을 입금했습니다. 입금 확인(웹훅)을 기다리는 중입니다…");
      for (var i = 0; i < 25; i++) {
        await refresh();
        if (!document.querySelector('#pending-list li[data-payment-id="' + CSS.escape(id) + '"]')) {
          return showMessage("success", "가상계좌 입금이 확인되어 " + fmt(amount) + "P가 충전되었습니다.");
        }
        await new Promise(function (resolve) { setTimeout(resolve, 400); });
      }
      showMessage("info", "입금 확인이 늦어지고 있습니다. 잠시 후 새로고침해 주세요.");
    } catch (e) {
      showError(e);
    } finally {
      setBusy(false);
    }
  }

  // Back from the mobile redirect: /payments/result?outcome=credited|pending|failed&imp_uid=…&reason=…
  function takeRedirectResult() {
    var q = new URLSearchParams(window.location.search);
    var outcome = q.get("outcome");
    if (!outcome) return null;
    window.history.replaceState(null, "", "/");  // a reload must not show it again
    return { outcome: outcome, amount: q.get("amount"), reason: q.get("reason"), impUid: q.get("imp_uid") };
  }

  async function showRedirectResult(r) {
    if (r.outcome === "credited") {
      showMessage("success", "모바일 결제로 " + (r.amount ? fmt(r.amount) + "P " : "") + "충전이 완료되었습니다.");
    } else if (r.outcome === "pending" && r.reason === "vbank_ready") {
      showMessage("info", "가상계좌가 발급되었습니다. 입금이 확인되면 포인트가 자동으로 충전됩니다.");
    } else if (r.outcome === "pending" && r.impUid && state.user) {
      // Not credited yet (not a prepared order of ours, or PortOne was unreachable): claim it now.
      showMessage("info", "결제를 확인하는 중입니다…");
      try { await claim({ impUid: r.impUid }); } catch (e) { showError(e); }
      await refresh();
    } else if (r.outcome === "pending") {
      showMessage("info", "결제를 확인하고 있습니다. 잠시 후 새로고침해 주세요.");
    } else {
      showMessage(r.reason === "F1002" || r.reason === "no_payment" ? "warn" : "error",
        REDIRECT_REASONS[r.reason] || "결제에 실패했습니다.");
    }
  }

  // ------------------------------------------------------------------ boot
  async function boot() {
    $("auth-form").addEventListener("submit", onLogin);
    $("btn-signup").addEventListener("click", onSignup);
    $("btn-logout").addEventListener("click", onLogout);
    $("btn-pay").addEventListener("click", onPay);
    $("tab-charge").addEventListener("click", function () { showTab("charge"); });
    $("tab-shop").addEventListener("click", function () { showTab("shop"); });
    $("item-form").addEventListener("submit", onCreateItem);
    var redirected = takeRedirectResult();
    try {
      state.config = (await gql("fetchPointChargeConfig",
        "{ fetchPointChargeConfig { merchantCode pg testMode packages minAmount maxAmount gateways bootpayApplicationId storeId } }",
        {}, { anonymous: true })).fetchPointChargeConfig;
      $("mode-badge").hidden = !state.config.testMode;
      renderPackages(state.config);
      renderGateways(state.config);
    } catch (e) {
      $("loading").hidden = true;
      return showError(e);
    }
    if (typeof window.IMP === "undefined") showMessage("error", "결제 모듈(iamport.js)을 불러오지 못했습니다.");
    // The access token is only in memory: after a reload (or the mobile redirect) the httpOnly
    // refresh cookie gets a new one.
    if (await restore()) {
      try { await refresh(); } catch (e) { showError(e); }
    }
    if (!state.user) signedOut();
    if (redirected) {
      if (state.user) await showRedirectResult(redirected);
      else showMessage("warn", "결제 결과를 확인하려면 다시 로그인해 주세요.");
    }
  }

  window.PointchargeDemo = {
    gql: gql, showMessage: showMessage, showError: showError, setBusy: setBusy, refresh: refresh,
    fmt: fmt, when: when, state: state, on: on, GqlError: GqlError
  };

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
  else boot();
})();
