import { useRef, useState } from "react";
import { useApolloClient, useMutation, useQuery } from "@apollo/client/react";
import { cardLabel, type Issued, issueBillingKey, issueBillingKeyV2 } from "../cards";
import { won } from "../errors";
import type { PortOneVersion } from "../gql/graphql";
import { CARDS, CONFIG, ME, PREPARE_CARD, PREPARE_CARD_V2, REGISTER_CARD } from "../operations";
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
  const [prepareCardV2] = useMutation(PREPARE_CARD_V2);
  const [register] = useMutation(REGISTER_CARD);
  const [picked, setPicked] = useState<string | null>(null);
  const [amount, setAmount] = useState<number | null>(null);
  const [version, setVersion] = useState<PortOneVersion>("V1");
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

  /** The window of the picked 등록 방식; the key it issued, or null (said why). */
  async function issue(): Promise<{ customerUid?: string; billingKey?: string } | null> {
    notify.show({ kind: "info", text: "결제창에서 등록할 카드를 확인해 주세요." }, "cards");
    const v2 = version === "V2";
    const issued: Issued = v2
      ? await issueBillingKeyV2((await prepareCardV2()).data!.preparePaymentCard, user!)
      : await issueBillingKey(cfg!.merchantCode, (await prepareCard()).data!.preparePaymentCard, user!);
    if ("key" in issued) return v2 ? { billingKey: issued.key } : { customerUid: issued.key };
    const code = issued.code ?? undefined;
    notify.show(
      issued.cancelled
        ? { kind: "warn", text: "카드 등록을 취소했습니다.", code }
        : { kind: "error", text: `카드 등록에 실패했습니다. ${issued.message ?? ""}`.trim(), code },
      "cards",
    );
    return null;
  }

  const addCard = () =>
    run("preparePaymentCard", async () => {
      if (!cfg || !user) return;
      const key = await issue();
      if (!key) return;
      notify.show({ kind: "info", text: "카드를 확인하는 중입니다…" }, "cards");
      const card = (await register({ variables: key })).data!.registerPaymentCard;
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
      {cfg?.storeId && (
        // V1 always; V2 (PortOne.requestIssueBillingKey) when the API has a V2 store.
        <div className="choices" id="card-versions" role="radiogroup" aria-label="카드 등록 방식">
          <span className="choices-label muted">등록 방식</span>
          {(["V1", "V2"] as const).map((v) => (
            <button key={v} type="button" role="radio" aria-checked={v === version} className="choice card-version"
              data-version={v} disabled={busy} onClick={() => setVersion(v)}>
              PortOne {v}
            </button>
          ))}
        </div>
      )}
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
      <OneClickCharge card={selected} amount={amount} busy={busy} run={run} />
      <Subscriptions cardId={selected?._id ?? null} amount={amount} busy={busy} run={run} />
    </section>
  );
}
