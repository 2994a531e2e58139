import { useState } from "react";
import { useQuery } from "@apollo/client/react";
import { paymentIdOf } from "../bootpay";
import { signed, when, won } from "../errors";
import { HISTORY_ALL, HISTORY_BUYING, HISTORY_COUNTS, HISTORY_LOADING, HISTORY_SELLING, ORDERS } from "../operations";
import { CancelCharge } from "./CancelCharge";
import { NoticeLine } from "./NoticeLine";

const PAGE_SIZE = 10; // the API's page size
const TABS = [
  { key: "all", label: "전체" },
  { key: "loading", label: "충전" },
  { key: "buying", label: "구매" },
  { key: "selling", label: "판매" },
] as const;
type Tab = (typeof TABS)[number]["key"];

export function History() {
  const [tab, setTab] = useState<Tab>("all");
  const [page, setPage] = useState(1);
  const [cancelling, setCancelling] = useState<string | null>(null); // the entry whose cancel form is open
  const all = useQuery(HISTORY_ALL, { variables: { page }, skip: tab !== "all" });
  const loadingTab = useQuery(HISTORY_LOADING, { variables: { page }, skip: tab !== "loading" });
  const buying = useQuery(HISTORY_BUYING, { variables: { page }, skip: tab !== "buying" });
  const selling = useQuery(HISTORY_SELLING, { variables: { page }, skip: tab !== "selling" });
  const counts = useQuery(HISTORY_COUNTS).data;
  const orders = useQuery(ORDERS).data?.fetchPointChargeOrders ?? [];

  const current = { all, loading: loadingTab, buying, selling }[tab];
  const { loading, error } = current;
  const items =
    (tab === "all"
      ? all.data?.fetchPointTransactions
      : tab === "loading"
        ? loadingTab.data?.fetchPointTransactionsOfLoading
        : tab === "buying"
          ? buying.data?.fetchPointTransactionsOfBuying
          : selling.data?.fetchPointTransactionsOfSelling) ?? [];
  const total =
    tab === "loading"
      ? counts?.fetchPointTransactionsCountOfLoading
      : tab === "buying"
        ? counts?.fetchPointTransactionsCountOfBuying
        : tab === "selling"
          ? counts?.fetchPointTransactionsCountOfSelling
          : undefined;
  const hasNext = total !== undefined ? page * PAGE_SIZE < total : items.length === PAGE_SIZE;

  return (
    <section id="history" className="card">
      <h2>포인트 내역</h2>
      <div className="tabs" role="tablist">
        {TABS.map((t) => (
          <button
            key={t.key}
            type="button"
            role="tab"
            aria-selected={t.key === tab}
            onClick={() => {
              setTab(t.key);
              setPage(1);
            }}
          >
            {t.label}
          </button>
        ))}
      </div>
      <NoticeLine place="history" />
      {error && !items.length && <p className="muted">내역을 불러오지 못했습니다.</p>}
      {!loading && !error && items.length === 0 && <p id="history-empty" className="muted">아직 내역이 없습니다.</p>}
      {items.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>일시</th>
              <th>구분</th>
              <th className="num">금액</th>
              <th className="num">잔액</th>
              <th />
            </tr>
          </thead>
          <tbody id="history-rows">
            {items.map((e) => {
              // A charge's impUid is the gateway's id of its payment: PortOne's imp_uid or Bootpay's receipt_id.
              const order = e.impUid ? orders.find((o) => paymentIdOf(o) === e.impUid) : undefined;
              const left = order ? order.paidAmount - order.cancelledAmount : 0;
              const cancellable = e.status === "충전" && !!order && left > 0 && ["paid", "partially_cancelled"].includes(order.status);
              return (
                <tr key={e._id} data-status={e.status} data-gateway={e.gateway ?? undefined} data-imp-uid={e.impUid ?? undefined}>
                  <td className="when">{when(e.createdAt)}</td>
                  <td className="kind">
                    <span className={`status ${e.status === "취소" ? "cancel" : ""}`}>{e.status}</span>{" "}
                    <small className="muted">{e.statusDetail}</small>
                  </td>
                  <td className={`num amount ${e.amount < 0 ? "minus" : "plus"}`}>{signed(e.amount)}P</td>
                  <td className="num balance">{won(e.balance)}P</td>
                  <td className={`action ${cancelling === e._id ? "open" : ""}`}>
                    {cancellable && order ? (
                      <CancelCharge
                        paymentId={e.impUid!}
                        gateway={order.gateway}
                        amount={left}
                        payMethod={order.payMethod}
                        open={cancelling === e._id}
                        onOpen={() => setCancelling(e._id)}
                        onClose={() => setCancelling(null)}
                      />
                    ) : e.status === "충전" && order ? (
                      <small className="muted nowrap">취소됨</small>
                    ) : null}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {(items.length > 0 || page > 1) && (
        <nav className="pager" aria-label="페이지">
          <button type="button" className="secondary" disabled={page === 1} onClick={() => setPage(page - 1)}>
            이전
          </button>
          <span id="page">{page}</span>
          <button type="button" className="secondary" disabled={!hasNext} onClick={() => setPage(page + 1)}>
            다음
          </button>
        </nav>
      )}
    </section>
  );
}
