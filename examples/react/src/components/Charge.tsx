import { useEffect, useRef, useState } from "react";
import { useApolloClient, useMutation, useQuery } from "@apollo/client/react";
import { won } from "../errors";
import { CHARGE, CONFIG, ME, PREPARE } from "../operations";
import { useNotify } from "../notice";
import { completeUrl, loadSdk, requestPay } from "../portone";
import { NoticeLine } from "./NoticeLine";

/** config → preparePointCharge → IMP.request_pay → createPointTransactionOfLoading. */
export function Charge() {
  const notify = useNotify();
  const client = useApolloClient();
  const config = useQuery(CONFIG);
  const me = useQuery(ME);
  const [prepare] = useMutation(PREPARE);
  const [charge] = useMutation(CHARGE);
  const [amount, setAmount] = useState<number | null>(null);
  const [phone, setPhone] = useState(false);
  const [busy, setBusy] = useState(false);
  // A second click lands before React re-renders the disabled button: without this guard it
  // prepares a second order and the SDK answers "이미 결제창이 열려 있습니다."
  const inFlight = useRef(false);

  const cfg = config.data?.fetchPointChargeConfig;
  const user = me.data?.fetchUserLoggedIn;

  useEffect(() => {
    loadSdk().catch(() => undefined); // early, so that 충전하기 opens the checkout at once
  }, []);

  async function pay() {
    if (inFlight.current || !cfg || !user || !amount) return;
    inFlight.current = true;
    setBusy(true);
    let keepBusy = false;
    let op = "preparePointCharge";
    try {
      const IMP = await loadSdk();
      const { data } = await prepare({ variables: { amount } });
      const order = data!.preparePointCharge;
      IMP.init(cfg.merchantCode);
      IMP.sandbox_force_redirect = phone; // the sandbox SDK's "pay like a phone"; PortOne's ignores it
      notify.show({ kind: "info", text: "결제창에서 결제를 진행해 주세요." }, "charge");
      if (phone) keepBusy = true; // the page leaves for the checkout
      const rsp = await requestPay(IMP, {
        pg: cfg.pg,
        pay_method: "card",
        merchant_uid: order.merchantUid,
        name: `포인트 ${won(order.amount)}P 충전`,
        amount: order.amount,
        buyer_email: user.email,
        buyer_name: user.name,
        m_redirect_url: completeUrl(),
      });
      if (!rsp.success || !rsp.imp_uid) {
        notify.show(
          rsp.error_code === "F1002"
            ? { kind: "warn", text: "결제를 취소했습니다.", code: rsp.error_code }
            : { kind: "error", text: `결제에 실패했습니다. ${rsp.error_msg ?? ""}`.trim(), code: rsp.error_code ?? undefined },
          "charge",
        );
        return;
      }
      op = "createPointTransactionOfLoading";
      notify.show({ kind: "info", text: "결제를 확인하는 중입니다…" }, "charge");
      const { data: charged } = await charge({ variables: { impUid: rsp.imp_uid } });
      const tx = charged!.createPointTransactionOfLoading;
      notify.show({ kind: "success", text: `${won(tx.amount)}P 충전이 완료되었습니다. 잔액 ${won(tx.balance)}P` }, "charge");
    } catch (error) {
      keepBusy = false;
      notify.fail(error, op, "charge");
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
      <label className="check">
        <input id="mobile-redirect" type="checkbox" checked={phone} onChange={(e) => setPhone(e.target.checked)} /> 휴대폰처럼
        결제 (m_redirect_url)
      </label>
      <NoticeLine place="charge" />
      <button id="btn-pay" type="button" className="nowrap" disabled={busy || !amount || !user} onClick={() => void pay()}>
        {amount ? `${won(amount)}원 충전하기` : "금액을 선택하세요"}
      </button>
    </section>
  );
}
