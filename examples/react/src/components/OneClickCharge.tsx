import { useMutation } from "@apollo/client/react";
import { won } from "../errors";
import { CHARGE_WITH_CARD, PREPARE } from "../operations";
import { useNotify } from "../notice";
import type { Run } from "./Cards";

type Props = { cardId: string | null; amount: number | null; busy: boolean; run: Run };

/** preparePointCharge → createPointTransactionOfLoadingWithCard: no window. The order is the
 * idempotency key (a retry of the same order charges once); a decline is CARD_DECLINED with the
 * card company's reason. */
export function OneClickCharge({ cardId, amount, busy, run }: Props) {
  const notify = useNotify();
  const [prepare] = useMutation(PREPARE);
  const [charge] = useMutation(CHARGE_WITH_CARD);
  const pay = () =>
    run("createPointTransactionOfLoadingWithCard", async () => {
      if (!cardId || !amount) return;
      notify.show({ kind: "info", text: "등록한 카드로 결제하는 중입니다…" }, "cards");
      const order = (await prepare({ variables: { amount, gateway: "PORTONE" } })).data!.preparePointCharge;
      const { data } = await charge({ variables: { cardId, merchantUid: order.merchantUid } });
      const tx = data!.createPointTransactionOfLoadingWithCard;
      notify.show({ kind: "success", text: `${won(tx.amount)}P 충전이 완료되었습니다. 잔액 ${won(tx.balance)}P` }, "cards");
    });

  return (
    <button id="btn-card-charge" type="button" className="wide nowrap" disabled={busy || !cardId || !amount}
      onClick={() => void pay()}>
      {amount ? `${won(amount)}원 카드로 충전하기` : "카드로 충전하기"}
    </button>
  );
}
