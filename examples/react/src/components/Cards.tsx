import { useRef, useState } from "react";
import { useApolloClient, useQuery } from "@apollo/client/react";
import { CARD_GATEWAYS } from "../bootpayCards";
import { cardLabel } from "../cards";
import { won } from "../errors";
import { CARDS, CONFIG, ME } from "../operations";
import { useNotify } from "../notice";
import { type CardMethod, useRegisterCard } from "../useRegisterCard";
import { CardList } from "./CardList";
import { NoticeLine } from "./NoticeLine";
import { OneClickCharge } from "./OneClickCharge";
import { Subscriptions } from "./Subscriptions";

/** Runs one card action at a time: a second click before React re-renders the disabled buttons
 * does nothing (the server would charge an order once anyway). */
export type Run = (operation: string, work: () => Promise<void>) => Promise<void>;

/** 카드 / 정기 충전: 카드 등록 (useRegisterCard: the 등록 방식's window → registerPaymentCard), the
 * cards, 원클릭 충전 and 정기 충전 with the picked card. */
export function Cards() {
  const notify = useNotify();
  const client = useApolloClient();
  const cfg = useQuery(CONFIG).data?.fetchPointChargeConfig;
  const user = useQuery(ME).data?.fetchUserLoggedIn;
  const cards = useQuery(CARDS);
  const gateways = useQuery(CARD_GATEWAYS).data?.fetchPaymentCards ?? []; // none: an API without Bootpay cards
  const registerCard = useRegisterCard();
  const [picked, setPicked] = useState<string | null>(null);
  const [amount, setAmount] = useState<number | null>(null);
  const [method, setMethod] = useState<CardMethod>("V1");
  const [busy, setBusy] = useState(false);
  const inFlight = useRef(false);

  const list = (cards.data?.fetchPaymentCards ?? []).map((c) => ({
    ...c,
    gateway: gateways.find((g) => g._id === c._id)?.gateway ?? "PORTONE",
  }));
  // 등록 방식: PortOne V1 always; V2 with a V2 store (storeId); 부트페이 when the API has Bootpay on.
  const methods: CardMethod[] = ["V1", ...(cfg?.storeId ? ["V2" as const] : []),
    ...(cfg?.gateways.includes("BOOTPAY") ? ["BOOTPAY" as const] : [])];
  const selected = list.find((c) => c._id === picked) ?? list[0] ?? null;

  const run: Run = async (operation, work) => {
    if (inFlight.current) return;
    inFlight.current = true;
    setBusy(true);
    try {
      await work();
    } catch (error) {
      notify.fail(error, operation, "cards");
    } finally {
      // The balance, the history, the cards: busy until they are in, so that the next click acts on
      // the list as it now is (a card just registered is the picked one, not the one before it).
      await client.refetchQueries({ include: "active" }).catch(() => undefined);
      inFlight.current = false;
      setBusy(false);
    }
  };

  const addCard = () =>
    run("registerPaymentCard", async () => {
      const card = await registerCard(method);
      if (!card) return;
      setPicked(card._id);
      notify.show({ kind: "success", text: `카드를 등록했습니다: ${cardLabel(card)}` }, "cards");
    });

  if (cards.error && !cards.data) return <p className="muted">등록된 카드를 불러오지 못했습니다.</p>;
  return (
    <section id="cards" className="card" aria-labelledby="cards-title">
      <h2 id="cards-title">
        카드 / 정기 충전 <small className="muted">등록한 카드로 결제창 없이 충전합니다</small>
      </h2>
      <CardList cards={list} selected={selected?._id ?? null} busy={busy} onPick={setPicked} run={run} />
      {methods.length > 1 && (
        <div className="choices" id="card-versions" role="radiogroup" aria-label="카드 등록 방식">
          <span className="choices-label muted">등록 방식</span>
          {methods.map((m) => (
            <button key={m} type="button" role="radio" aria-checked={m === method} className="choice card-version"
              data-version={m} disabled={busy} onClick={() => setMethod(m)}>
              {m === "BOOTPAY" ? "부트페이" : `PortOne ${m}`}
            </button>
          ))}
        </div>
      )}
      <button id="btn-add-card" type="button" className="secondary" disabled={busy || !cfg || !user}
        onClick={() => void addCard()}>
        카드 등록
      </button>
      <h3>원클릭 충전</h3>
      <div className="packages" role="radiogroup" aria-label="카드 충전 금액">
        {cfg?.packages.map((p) => (
          <button key={p} type="button" role="radio" aria-checked={amount === p} className="card-package"
            data-amount={p} disabled={busy} onClick={() => setAmount(p)}>
            {won(p)}원
          </button>
        ))}
      </div>
      <NoticeLine place="cards" />
      <OneClickCharge card={selected} amount={amount} busy={busy} run={run} />
      <Subscriptions cardId={selected?._id ?? null} amount={amount} busy={busy} run={run} />
    </section>
  );
}
