import { useQuery } from "@apollo/client/react";
import { when, won } from "../errors";
import { ORDERS } from "../operations";

/** Virtual accounts issued and not paid yet: the deposit's webhook credits them. */
export function Pending() {
  const { data } = useQuery(ORDERS);
  const ready = (data?.fetchPointChargeOrders ?? []).filter((o) => o.status === "ready" && o.virtualAccount);
  if (!ready.length) return null;
  return (
    <section id="pending" className="card">
      <h2>입금 대기 중인 가상계좌</h2>
      <ul>
        {ready.map((o) => (
          <li key={o._id} data-imp-uid={o.impUid ?? undefined}>
            {won(o.amount)}원 · {o.virtualAccount?.bankName} {o.virtualAccount?.accountNumber}
            {o.virtualAccount?.holder && ` (예금주 ${o.virtualAccount.holder})`}
            {o.virtualAccount?.dueAt && ` · ${when(o.virtualAccount.dueAt)}까지`}
          </li>
        ))}
      </ul>
    </section>
  );
}
