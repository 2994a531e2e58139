import { useMutation } from "@apollo/client/react";
import { cardLabel } from "../cards";
import type { CardFieldsFragment, PaymentGateway } from "../gql/graphql";
import { DELETE_CARD } from "../operations";
import { useNotify } from "../notice";
import type { Run } from "./Cards";

type Card = CardFieldsFragment & { gateway: PaymentGateway };
type Props = {
  cards: Card[];
  selected: string | null;
  busy: boolean;
  onPick: (id: string) => void;
  run: Run;
};

/** The user's cards (masked numbers only): one is picked for 원클릭 충전 and 정기 충전; 삭제 deletes
 * the key at PortOne first (and, server-side, the card's subscriptions). */
export function CardList({ cards, selected, busy, onPick, run }: Props) {
  const notify = useNotify();
  const [remove] = useMutation(DELETE_CARD);

  const deleteCard = (card: CardFieldsFragment) => {
    if (!window.confirm(`${cardLabel(card)} 카드를 삭제할까요? 이 카드의 정기 충전도 해지됩니다.`)) return;
    void run("deletePaymentCard", async () => {
      await remove({ variables: { id: card._id } });
      notify.show({ kind: "success", text: `카드를 삭제했습니다: ${cardLabel(card)}` }, "cards");
    });
  };

  if (!cards.length) return <p id="cards-empty" className="muted">등록된 카드가 없습니다.</p>;
  return (
    <ul id="card-list" className="card-list" aria-label="등록된 카드">
      {cards.map((card) => (
        <li key={card._id} data-card-id={card._id}>
          <label className="card-pick">
            <input type="radio" name="payment-card" checked={card._id === selected} disabled={busy}
              onChange={() => onPick(card._id)} />
            <span className="card-name">{card.cardName ?? "카드"}</span>
            <span className="card-number muted">{card.cardNumber}</span>
            {(card.gateway === "BOOTPAY" || card.version === "V2") && (
              <span className="card-tag">{card.gateway === "BOOTPAY" ? "부트페이" : "V2"}</span>
            )}
          </label>
          <button type="button" className="small secondary delete-card" disabled={busy}
            aria-label={`${cardLabel(card)} 삭제`} onClick={() => deleteCard(card)}>
            삭제
          </button>
        </li>
      ))}
    </ul>
  );
}
