import { useEffect, useRef, useState } from "react";
import { useApolloClient, useQuery } from "@apollo/client/react";
import { API_URL } from "../apollo";
import { markOffline, unreachable } from "../connection";
import { paymentIdOf, sandboxDepositUrl } from "../bootpay";
import { when, won } from "../errors";
import type { PaymentGateway } from "../gql/graphql";
import { useNotify } from "../notice";
import { CONFIG, ME, ORDERS } from "../operations";
import { NoticeLine } from "./NoticeLine";

const POLL_MS = 3_000;

/** Virtual accounts issued and not paid yet: the deposit's webhook credits them. While one is
 * pending the orders and the balance are asked again every few seconds, so that a deposit shows
 * without a reload; with none pending nothing polls. */
export function Pending() {
  const client = useApolloClient();
  const notify = useNotify();
  const { data } = useQuery(ORDERS);
  const testMode = useQuery(CONFIG).data?.fetchPointChargeConfig.testMode ?? false;
  const [depositing, setDepositing] = useState<string | null>(null);
  const orders = data?.fetchPointChargeOrders ?? [];
  const ready = orders.filter((o) => o.status === "ready" && o.virtualAccount);
  const waiting = ready.length > 0;

  useEffect(() => {
    if (!waiting) return;
    const timer = setInterval(() => {
      client.refetchQueries({ include: [ORDERS, ME] }).catch(() => undefined);
    }, POLL_MS);
    return () => clearInterval(timer);
  }, [waiting, client]);

  // An order that left "ready" and is paid was deposited: say so; the history and its counts
  // change too.
  const before = useRef(ready);
  useEffect(() => {
    const left = before.current.filter((b) => !ready.some((o) => o._id === b._id));
    before.current = ready;
    if (!left.length) return;
    for (const o of left) {
      if (orders.find((x) => x._id === o._id)?.status === "paid") {
        notify.show({ kind: "success", text: `가상계좌 입금이 확인되어 ${won(o.amount)}P가 충전되었습니다.` }, "charge");
      }
    }
    client.refetchQueries({ include: "active" }).catch(() => undefined);
  }, [ready, orders, client, notify]);

  /** Sandbox only: the buyer's deposit (the demo page's button), as the gateway's bank would make it. */
  async function deposit(gateway: PaymentGateway, id: string, amount: number) {
    if (depositing) return;
    setDepositing(id);
    try {
      const url = sandboxDepositUrl(API_URL, gateway, id);
      const res = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
      if (res.status >= 500) throw new TypeError(`deposit: HTTP ${res.status}`); // the proxy's 502: the API is down
      if (!res.ok) throw new Error(`deposit: HTTP ${res.status}`);
      notify.show({ kind: "info", text: `${won(amount)}원을 입금했습니다. 입금 확인(웹훅)을 기다리는 중입니다…` }, "charge");
      await client.refetchQueries({ include: [ORDERS, ME] });
    } catch (error) {
      if (unreachable(error)) markOffline();
      notify.fail(error, "deposit", "pending");
    } finally {
      setDepositing(null);
    }
  }

  if (!waiting) return null;
  return (
    <section id="pending" className="card">
      <h2>입금 대기 중인 가상계좌</h2>
      <NoticeLine place="pending" />
      <ul>
        {ready.map((o) => {
          const id = paymentIdOf(o);
          return (
            <li key={o._id} data-gateway={o.gateway} data-imp-uid={o.impUid ?? undefined} data-receipt-id={o.receiptId ?? undefined}>
              <span>
                {won(o.amount)}원 · {o.virtualAccount?.bankName} <span className="id">{o.virtualAccount?.accountNumber}</span>
                {o.virtualAccount?.holder && ` (예금주 ${o.virtualAccount.holder})`}
                {o.virtualAccount?.dueAt && ` · ${when(o.virtualAccount.dueAt)}까지`}
              </span>
              {testMode && id && (
                <button type="button" className="small secondary nowrap deposit" disabled={!!depositing}
                  onClick={() => void deposit(o.gateway, id, o.amount)}>
                  입금하기 (테스트)
                </button>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
