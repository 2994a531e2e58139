import { useMutation } from "@apollo/client/react";
import { won } from "../errors";
import type { CardFieldsFragment, PaymentGateway } from "../gql/graphql";
import { CHARGE_WITH_CARD, PREPARE_FOR_CARD } from "../operations";
import { useNotify } from "../notice";
import type { Run } from "./Cards";

type Props = { card: (CardFieldsFragment & { gateway: PaymentGateway }) | null; amount: number | null; busy: boolean; run: Run };

/** preparePointCharge → createPointTransactionOfLoadingWithCard: no window. The order is the
 * idempotency key (a retry of the same order charges once); a decline is CARD_DECLINED with the
 * card company's reason. */
export function OneClickCharge({ card, amount, busy, run }: Props) {
  const notify = useNotify();
  const [prepare] = useMutation(PREPARE_FOR_CARD);
  const [charge] = useMutation(CHARGE_WITH_CARD);
  const pay = () =>
    run("createPointTransactionOfLoadingWithCard", async () => {
      if (!card || !amount) return;
      notify.show({ kind: "info", text: "등록한 카드로 결제하는 중입니다…" }, "cards");
      const order = (await prepare({ variables: { amount, version: card.version, gateway: card.gateway } })).data!.preparePointCharge;
      const { data } = await charge({ variables: { cardId: card._id, merchantUid: order.merchantUid } });
      const tx = data!.createPointTransactionOfLoadingWithCard;
      notify.show({ kind: "success", text: `${won(tx.amount)}P 충전이 완료되었습니다. 잔액 ${won(tx.balance)}P` }, "cards");
    });

  return (
    <button id="btn-card-charge" type="button" className="wide nowrap" disabled={busy || !card || !amount}
      onClick={() => void pay()}>
      {amount ? `${won(amount)}원 카드로 충전하기` : "카드로 충전하기"}
    </button>
  );
}
