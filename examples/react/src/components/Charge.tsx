import { useEffect, useRef, useState } from "react";
import { useApolloClient, useMutation, useQuery } from "@apollo/client/react";
import { won } from "../errors";
import type { PaymentGateway } from "../gql/graphql";
import { CHARGE, CONFIG, ME, PREPARE } from "../operations";
import { type Notice, useNotify } from "../notice";
import { type BootpayMethod, GATEWAY_LABELS, loadBootpay, paymentArgs, requestBootpay } from "../bootpay";
import { completeUrl, loadSdk, requestPay } from "../portone";
import { NoticeLine } from "./NoticeLine";

type Order = { merchantUid: string; amount: number };

/** What the checkout window's end says when no payment came of it (the same words for both gateways). */
function unpaid(cancelled: boolean, code?: string | null, message?: string | null): Notice {
  return cancelled
    ? { kind: "warn", text: "결제를 취소했습니다.", code: code ?? undefined }
    : { kind: "error", text: `결제에 실패했습니다. ${message ?? ""}`.trim(), code: code ?? undefined };
}

/** config → preparePointCharge → IMP.request_pay or Bootpay.requestPayment → createPointTransactionOfLoading. */
export function Charge() {
  const notify = useNotify();
  const client = useApolloClient();
  const config = useQuery(CONFIG);
  const me = useQuery(ME);
  const [prepare] = useMutation(PREPARE);
  const [charge] = useMutation(CHARGE);
  const [amount, setAmount] = useState<number | null>(null);
  const [phone, setPhone] = useState(false);
  const [picked, setPicked] = useState<PaymentGateway | null>(null);
  const [method, setMethod] = useState<BootpayMethod>("card");
  const [busy, setBusy] = useState(false);
  // A second click lands before React re-renders the disabled button: without this guard it
  // prepares a second order and the SDK answers "이미 결제창이 열려 있습니다."
  const inFlight = useRef(false);

  const cfg = config.data?.fetchPointChargeConfig;
  const user = me.data?.fetchUserLoggedIn;
  const gateways = cfg?.gateways ?? [];
  const gateway: PaymentGateway = picked && gateways.includes(picked) ? picked : (gateways[0] ?? "PORTONE");
  const bootpay = gateway === "BOOTPAY";
  const bootpayOn = gateways.includes("BOOTPAY");

  useEffect(() => {
    loadSdk().catch(() => undefined); // early, so that 충전하기 opens the checkout at once
  }, []);
  useEffect(() => {
    if (bootpayOn) loadBootpay().catch(() => undefined);
  }, [bootpayOn]);

  /** PortOne's window; the imp_uid it paid, or null (said why). */
  async function portOne(order: Order): Promise<string | null> {
    const IMP = await loadSdk();
    IMP.init(cfg!.merchantCode);
    IMP.sandbox_force_redirect = phone; // the sandbox SDK's "pay like a phone"; PortOne's ignores it
    notify.show({ kind: "info", text: "결제창에서 결제를 진행해 주세요." }, "charge");
    const rsp = await requestPay(IMP, {
      pg: cfg!.pg,
      pay_method: "card",
      merchant_uid: order.merchantUid,
      name: `포인트 ${won(order.amount)}P 충전`,
      amount: order.amount,
      buyer_email: user!.email,
      buyer_name: user!.name,
      m_redirect_url: completeUrl(),
    });
    if (rsp.success && rsp.imp_uid) return rsp.imp_uid;
    notify.show(unpaid(rsp.error_code === "F1002", rsp.error_code, rsp.error_msg), "charge");
    return null;
  }

  /** Bootpay's window; the receipt_id it approved (confirm), paid (done) or issued an account for. */
  async function bootpayWindow(order: Order): Promise<string | null> {
    const sdk = await loadBootpay();
    notify.show({ kind: "info", text: "결제창에서 결제를 진행해 주세요." }, "charge");
    const rsp = await requestBootpay(sdk, {
      application_id: cfg!.bootpayApplicationId ?? "",
      price: order.amount,
      order_id: order.merchantUid,
      order_name: "포인트 충전",
      method,
      user: { id: user!._id, username: user!.name, email: user!.email },
    });
    if (rsp.ok) return rsp.receiptId;
    notify.show(unpaid(rsp.cancelled, rsp.code, rsp.message), "charge");
    return null;
  }

  async function pay() {
    if (inFlight.current || !cfg || !user || !amount) return;
    inFlight.current = true;
    setBusy(true);
    let keepBusy = false;
    let op = "preparePointCharge";
    try {
      if (bootpay) await loadBootpay();
      else await loadSdk(); // a missing SDK is said before an order is made
      const { data } = await prepare({ variables: { amount, gateway } });
      const order = data!.preparePointCharge;
      if (!bootpay && phone) keepBusy = true; // the page leaves for the checkout
      const paid = bootpay ? await bootpayWindow(order) : await portOne(order);
      if (!paid) return;
      op = "createPointTransactionOfLoading";
      notify.show({ kind: "info", text: "결제를 확인하는 중입니다…" }, "charge");
      const { data: charged } = await charge({ variables: paymentArgs(gateway, paid) });
      const tx = charged!.createPointTransactionOfLoading;
      notify.show({ kind: "success", text: `${won(tx.amount)}P 충전이 완료되었습니다. 잔액 ${won(tx.balance)}P` }, "charge");
    } catch (error) {
      keepBusy = false;
      notify.fail(error, op, "charge"); // a virtual account: PAYMENT_PENDING, shown as information
    } finally {
      if (!keepBusy) {
        inFlight.current = false;
        setBusy(false);
        await client.refetchQueries({ include: "active" }).catch(() => undefined);
      }
    }
  }

  if (config.error && !cfg) return <p className="muted">충전 설정을 불러오지 못했습니다.</p>;
  return (
    <section id="charge" className="card">
      <h2>
        포인트 충전 {cfg?.testMode && <span className="badge" id="mode-badge">테스트 결제</span>}
      </h2>
      <div className="packages" role="radiogroup" aria-label="충전 금액">
        {cfg?.packages.map((p) => (
          <button
            key={p}
            type="button"
            role="radio"
            aria-checked={amount === p}
            className="package"
            data-amount={p}
            disabled={busy}
            onClick={() => setAmount(p)}
          >
            {won(p)}원
          </button>
        ))}
      </div>
      {gateways.length > 1 && (
        <div className="choices" id="gateways" role="radiogroup" aria-label="결제사">
          <span className="choices-label muted">결제사</span>
          {gateways.map((g) => (
            <button key={g} type="button" role="radio" aria-checked={g === gateway} className="choice gateway"
              data-gateway={g} disabled={busy} onClick={() => setPicked(g)}>
              {GATEWAY_LABELS[g]}
            </button>
          ))}
        </div>
      )}
      {bootpay ? (
        // Bootpay's card window is approved by the buyer and captured by our server
        // (separately_confirmed), a flow virtual accounts do not take: the buyer picks one first.
        <div className="choices" id="bootpay-methods" role="radiogroup" aria-label="결제 수단">
          <span className="choices-label muted">결제 수단</span>
          {(["card", "vbank"] as const).map((m) => (
            <button key={m} type="button" role="radio" aria-checked={m === method} className="choice pay-method"
              data-method={m} disabled={busy} onClick={() => setMethod(m)}>
              {m === "card" ? "카드" : "가상계좌"}
            </button>
          ))}
        </div>
      ) : (
        <label className="check">
          <input id="mobile-redirect" type="checkbox" checked={phone} onChange={(e) => setPhone(e.target.checked)} /> 휴대폰처럼
          결제 (m_redirect_url)
        </label>
      )}
      <NoticeLine place="charge" />
      <button id="btn-pay" type="button" className="nowrap" disabled={busy || !amount || !user} onClick={() => void pay()}>
        {amount ? `${won(amount)}원 충전하기` : "금액을 선택하세요"}
      </button>
    </section>
  );
}
