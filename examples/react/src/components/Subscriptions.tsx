import { useMutation, useQuery } from "@apollo/client/react";
import { cardLabel, SUBSCRIPTION_STATUS } from "../cards";
import { describe, when, won } from "../errors";
import type { SubscriptionFieldsFragment } from "../gql/graphql";
import { CANCEL_SUBSCRIPTION, SUBSCRIBE, SUBSCRIPTIONS } from "../operations";
import { useNotify } from "../notice";
import type { Run } from "./Cards";

type Props = { cardId: string | null; amount: number | null; busy: boolean; run: Run };

/** 정기 충전: createPointSubscription charges the first month now, then monthly on the same day;
 * the list (newest first) with its state, next charge and the card company's last refusal; 해지. */
export function Subscriptions({ cardId, amount, busy, run }: Props) {
  const notify = useNotify();
  const subs = useQuery(SUBSCRIPTIONS);
  const [subscribe] = useMutation(SUBSCRIBE);
  const [cancel] = useMutation(CANCEL_SUBSCRIPTION);

  // An API without subscriptions yet (the query does not validate): the part is left out.
  if (subs.error && describe(subs.error).code === "GRAPHQL_VALIDATION_FAILED") return null;
  const list = subs.data?.fetchPointSubscriptions ?? [];

  const start = () =>
    run("createPointSubscription", async () => {
      if (!cardId || !amount) return;
      notify.show({ kind: "info", text: "첫 달 충전을 결제하는 중입니다…" }, "cards");
      const sub = (await subscribe({ variables: { cardId, amount } })).data!.createPointSubscription;
      notify.show({
        kind: "success",
        text: `정기 충전을 시작했습니다. 첫 달 ${won(sub.amount)}P가 충전되었고, 매월 ${sub.billingDay}일에 충전됩니다.`,
      }, "cards");
    });

  const stop = (sub: SubscriptionFieldsFragment) => {
    if (!window.confirm(`매월 ${won(sub.amount)}원 정기 충전을 해지할까요?`)) return;
    void run("cancelPointSubscription", async () => {
      await cancel({ variables: { id: sub._id } });
      notify.show({ kind: "success", text: "정기 충전을 해지했습니다. 다음 달부터 충전되지 않습니다." }, "cards");
    });
  };

  return (
    <div id="subs">
      <h3>
        정기 충전 <small className="muted">첫 달은 바로, 이후 매월 같은 날 선택한 카드로 충전합니다</small>
      </h3>
      <button id="btn-subscribe" type="button" className="wide secondary nowrap" disabled={busy || !cardId || !amount}
        onClick={() => void start()}>
        {amount ? `매월 ${won(amount)}원 정기 충전 신청` : "정기 충전 신청"}
      </button>
      {list.length === 0 ? (
        <p id="subs-empty" className="muted">신청한 정기 충전이 없습니다.</p>
      ) : (
        <ul id="sub-list" className="sub-list" aria-label="정기 충전 목록">
          {list.map((sub) => (
            <li key={sub._id} data-subscription-id={sub._id} data-status={sub.status}>
              <div className="sub-head">
                <strong>매월 {won(sub.amount)}원</strong>
                <span className={`status sub-status${sub.status === "ACTIVE" ? "" : " cancel"}`}>
                  {SUBSCRIPTION_STATUS[sub.status]}
                </span>
                {sub.status !== "CANCELLED" && (
                  <button type="button" className="small secondary cancel-sub" disabled={busy}
                    aria-label={`매월 ${won(sub.amount)}원 정기 충전 해지`} onClick={() => stop(sub)}>
                    해지
                  </button>
                )}
              </div>
              <span className="detail muted">{details(sub)}</span>
              {sub.lastFailureReason && sub.status !== "ACTIVE" && (
                <span className="detail sub-failure">최근 실패 사유: {sub.lastFailureReason}</span>
              )}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function details(sub: SubscriptionFieldsFragment): string {
  const parts: string[] = [];
  if (sub.nextChargeAt) parts.push(`다음 충전 ${when(sub.nextChargeAt)}`);
  if (sub.lastChargedAt) parts.push(`최근 충전 ${when(sub.lastChargedAt)}`);
  if (sub.cancelledAt) parts.push(`해지 ${when(sub.cancelledAt)}`);
  parts.push(sub.paymentCard ? cardLabel(sub.paymentCard) : "삭제된 카드");
  return parts.join(" · ");
}
