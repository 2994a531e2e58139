/*
 * 카드 등록 windows of the demo page (cards.js calls them): each prepares the registration with the
 * server (preparePaymentCard), opens its gateway's window and answers what registerPaymentCard
 * takes — {customerUid} (PortOne V1), {billingKey} (PortOne V2), {receiptId} (Bootpay) — or
 * {failed: {cancelled, message}} when no key came of it.
 *
 *   V1: IMP.request_pay({customer_uid, merchant_uid, pg, amount: 0, pay_method: "card", customer_id, name})
 *   V2: PortOne.requestIssueBillingKey({storeId, channelKey, billingKeyMethod, issueId, issueName, customer})
 *   부트페이: Bootpay.requestSubscription({application_id, subscription_id, order_name, price: 0, pg, method})
 *       resolves {event: "done", data: {receipt_id}} (never the key: the server reads it by receipt_id)
 */
(function () {
  "use strict";

  var demo = window.PointchargeDemo;
  if (!demo) return;
  var gql = demo.gql, state = demo.state;

  function failed(cancelled, message) { return { failed: { cancelled: cancelled, message: message || "" } }; }

  async function v1() {
    if (typeof window.IMP === "undefined") return failed(false, "결제 모듈(iamport.js)을 불러오지 못했습니다");
    var req = (await gql("preparePaymentCard",
      "mutation PrepareCard { preparePaymentCard { customerUid customerId merchantUid pg amount name payMethod } }"
    )).preparePaymentCard;
    IMP.init(state.config.merchantCode);
    demo.showMessage("info", "결제창에서 등록할 카드를 확인해 주세요.");
    var rsp = await new Promise(function (resolve) {
      IMP.request_pay({
        customer_uid: req.customerUid, merchant_uid: req.merchantUid, pg: req.pg, amount: req.amount,
        pay_method: req.payMethod, customer_id: req.customerId, name: req.name,
        buyer_email: state.user.email, buyer_name: state.user.name
      }, resolve);
    });
    if (!rsp.success) return failed(rsp.error_code === "F1002", rsp.error_msg);
    return { customerUid: req.customerUid };
  }

  // PortOne V2: the key is PortOne's (unknown until issued); the server binds it by the issueId it made.
  async function v2() {
    if (typeof window.PortOne === "undefined") return failed(false, "결제 모듈(browser-sdk.js)을 불러오지 못했습니다");
    var req = (await gql("preparePaymentCard",
      "mutation PrepareCardV2 { preparePaymentCard(version: V2) { customerId storeId channelKey issueId issueName billingKeyMethod } }"
    )).preparePaymentCard;
    demo.showMessage("info", "결제창에서 등록할 카드를 확인해 주세요.");
    var rsp = await window.PortOne.requestIssueBillingKey({
      storeId: req.storeId, channelKey: req.channelKey, billingKeyMethod: req.billingKeyMethod,
      issueId: req.issueId, issueName: req.issueName,
      customer: { customerId: req.customerId, fullName: state.user.name, email: state.user.email }
    });
    if (!rsp || rsp.code !== undefined || !rsp.billingKey) {
      return failed(!!rsp && rsp.pgCode === "F1002", rsp && (rsp.pgMessage || rsp.message));
    }
    return { billingKey: rsp.billingKey };
  }

  // Bootpay: the server made the subscription_id for this user; the window answers its receipt_id.
  async function bootpay() {
    if (typeof window.Bootpay === "undefined") return failed(false, "결제 모듈(bootpay.js)을 불러오지 못했습니다");
    var req = (await gql("preparePaymentCard",
      "mutation PrepareCardBootpay { preparePaymentCard(gateway: BOOTPAY) { subscriptionId orderName price pg method } }"
    )).preparePaymentCard;
    demo.showMessage("info", "결제창에서 등록할 카드를 확인해 주세요.");
    var params = {
      application_id: state.config.bootpayApplicationId, subscription_id: req.subscriptionId,
      order_name: req.orderName, price: req.price, method: req.method,
      user: { id: state.user._id, username: state.user.name, email: state.user.email },
      extra: { open_type: "iframe" }
    };
    if (req.pg) params.pg = req.pg;
    try {
      var rsp = await window.Bootpay.requestSubscription(params);
      var receiptId = rsp && (rsp.receipt_id || (rsp.data && rsp.data.receipt_id));
      return receiptId ? { receiptId: receiptId } : failed(false, "");
    } catch (r) {
      if (!r || (r.event !== "cancel" && r.event !== "error")) throw r;
      return failed(r.event === "cancel", r.message);
    }
  }

  window.PointchargeCardWindows = { V1: v1, V2: v2, BOOTPAY: bootpay };
})();
