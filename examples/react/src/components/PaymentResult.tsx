import { useEffect, useRef, useState } from "react";
import { Link, useSearchParams } from "react-router-dom";
import { useApolloClient, useMutation } from "@apollo/client/react";
import { noticeOf, type Notice } from "../notice";
import { REDIRECT_REASONS, won } from "../errors";
import { CHARGE } from "../operations";

/** Back from the mobile redirect: the API verified the payment at /payments/complete and sent
 * the browser here with ?outcome=credited|pending|failed&imp_uid=…&amount=…&reason=… */
export function PaymentResult() {
  const [params] = useSearchParams();
  const client = useApolloClient();
  const [charge] = useMutation(CHARGE);
  const [result, setResult] = useState<Notice>({ kind: "info", text: "결제 결과를 확인하는 중입니다…" });
  const handled = useRef(false);
  const outcome = params.get("outcome") ?? "failed";

  useEffect(() => {
    if (handled.current) return; // StrictMode runs effects twice in development
    handled.current = true;
    const amount = Number(params.get("amount") ?? 0);
    const reason = params.get("reason") ?? "";
    const impUid = params.get("imp_uid");
    void (async () => {
      if (outcome === "credited") {
        setResult({ kind: "success", text: `모바일 결제로 ${amount ? `${won(amount)}P ` : ""}충전이 완료되었습니다.` });
      } else if (outcome === "pending" && reason === "vbank_ready") {
        setResult({ kind: "info", text: "가상계좌가 발급되었습니다. 입금이 확인되면 포인트가 자동으로 충전됩니다." });
      } else if (outcome === "pending" && impUid) {
        // Not credited yet (no prepared order, or PortOne was unreachable): claim it now.
        try {
          const { data } = await charge({ variables: { impUid } });
          const tx = data!.createPointTransactionOfLoading;
          setResult({ kind: "success", text: `${won(tx.amount)}P 충전이 완료되었습니다. 잔액 ${won(tx.balance)}P` });
        } catch (error) {
          setResult(noticeOf(error, "createPointTransactionOfLoading"));
        }
      } else {
        setResult({
          kind: reason === "F1002" || reason === "no_payment" ? "warn" : "error",
          text: REDIRECT_REASONS[reason] ?? params.get("message") ?? "결제에 실패했습니다.",
          code: reason || undefined,
        });
      }
      await client.refetchQueries({ include: "active" }).catch(() => undefined);
    })();
  }, [params, outcome, charge, client]);

  return (
    <section id="result" className="card" data-outcome={outcome}>
      <h2>결제 결과</h2>
      <p id="result-message" className={`message ${result.kind}`} data-code={result.code}>
        {result.text}
      </p>
      <Link id="back" to="/">충전 화면으로</Link>
    </section>
  );
}
