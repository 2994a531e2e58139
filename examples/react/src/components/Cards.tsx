import { useRef, useState } from "react";
import { useApolloClient, useMutation, useQuery } from "@apollo/client/react";
import { cardLabel, issueBillingKey } from "../cards";
import { won } from "../errors";
import { CARDS, CONFIG, ME, PREPARE_CARD, REGISTER_CARD } from "../operations";
import { useNotify } from "../notice";
import { CardList } from "./CardList";
import { NoticeLine } from "./NoticeLine";
import { OneClickCharge } from "./OneClickCharge";
import { Subscriptions } from "./Subscriptions";

/** Runs one card action at a time: a second click before React re-renders the disabled buttons
 * does nothing (the server would charge an order once anyway). */
export type Run = (operation: string, work: () => Promise<void>) => Promise<void>;

/** 카드 / 정기 충전: 카드 등록 (preparePaymentCard → IMP.request_pay({customer_uid, amount: 0}) →
 * registerPaymentCard), the cards, 원클릭 충전 and 정기 충전 with the picked card. */
export function Cards() {
  const notify = useNotify();
  const client = useApolloClient();
  const cfg = useQuery(CONFIG).data?.fetchPointChargeConfig;
  const user = useQuery(ME).data?.fetchUserLoggedIn;
  const cards = useQuery(CARDS);
  const [prepareCard] = useMutation(PREPARE_CARD);
  const [register] = useMutation(REGISTER_CARD);
  const [picked, setPicked] = useState<string | null>(null);
  const [amount, setAmount] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);
  const inFlight = useRef(false);

  const list = cards.data?.fetchPaymentCards ?? [];
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
      inFlight.current = false;
      setBusy(false);
      await client.refetchQueries({ include: "active" }).catch(() => undefined); // the balance, the history
    }
  };

  const addCard = () =>
    run("preparePaymentCard", async () => {
      if (!cfg || !user) return;
      notify.show({ kind: "info", text: "결제창에서 등록할 카드를 확인해 주세요." }, "cards");
      const req = (await prepareCard()).data!.preparePaymentCard;
      const rsp = await issueBillingKey(cfg.merchantCode, req, user);
      if (!rsp.success) {
        const cancelled = rsp.error_code === "F1002";
        notify.show(
          cancelled
            ? { kind: "warn", text: "카드 등록을 취소했습니다.", code: rsp.error_code ?? undefined }
            : { kind: "error", text: `카드 등록에 실패했습니다. ${rsp.error_msg ?? ""}`.trim(), code: rsp.error_code ?? undefined },
          "cards",
        );
        return;
      }
      notify.show({ kind: "info", text: "카드를 확인하는 중입니다…" }, "cards");
      const card = (await register({ variables: { customerUid: req.customerUid } })).data!.registerPaymentCard;
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
      <button id="btn-add-card" type="button" className="secondary" disabled={busy || !cfg || !user} onClick={() => void addCard()}>
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
      <OneClickCharge cardId={selected?._id ?? null} amount={amount} busy={busy} run={run} />
      <Subscriptions cardId={selected?._id ?? null} amount={amount} busy={busy} run={run} />
    </section>
  );
}
