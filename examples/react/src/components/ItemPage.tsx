import { type FormEvent, useRef, useState } from "react";
import { Link, useParams } from "react-router-dom";
import { useApolloClient, useMutation, useQuery } from "@apollo/client/react";
import { describe, INFO_CODES, when, won } from "../errors";
import { imageUrl } from "../market";
import { useNotify } from "../notice";
import { BUY, FILE_CONFIG, ITEM, ME, UPDATE_PRICE } from "../operations";
import { ItemQuestions } from "./ItemQuestions";
import { NoticeLine } from "./NoticeLine";

/** One item: its photo, price and seller. 구매하기 sends the price shown (expectedPrice), so a price
 * changed meanwhile is refused (PRICE_CHANGED, nothing moves) and shown with the new price. */
export function ItemPage() {
  const { id = "" } = useParams();
  const notify = useNotify();
  const client = useApolloClient();
  const item = useQuery(ITEM, { variables: { id }, fetchPolicy: "cache-and-network" }); // price and sale change
  const myId = useQuery(ME).data?.fetchUserLoggedIn._id;
  const publicBase = useQuery(FILE_CONFIG).data?.fetchFileConfig.publicBase;
  const [buy] = useMutation(BUY);
  const [updatePrice] = useMutation(UPDATE_PRICE);
  const [busy, setBusy] = useState(false);
  const inFlight = useRef(false);
  const [newPrice, setNewPrice] = useState("");
  const data = item.data?.fetchUseditem;
  const photo = imageUrl(publicBase, data?.images?.[0]);
  const mine = !!data && !!myId && data.seller?._id === myId;

  async function run(action: () => Promise<void>) {
    if (inFlight.current) return;
    inFlight.current = true;
    setBusy(true);
    try {
      await action();
    } finally {
      inFlight.current = false;
      setBusy(false);
    }
  }

  const purchase = (name: string, shown: number) =>
    run(async () => {
      try {
        await buy({ variables: { id, expectedPrice: shown } });
        notify.show({ kind: "success", text: `"${name}" 구매를 완료했습니다. ${won(shown)}P를 사용했습니다.` }, "item");
      } catch (error) {
        const problem = describe(error, "createPointTransactionOfBuyingAndSelling");
        const price = problem.extensions?.price;
        notify.show(
          problem.code === "PRICE_CHANGED" && typeof price === "number"
            ? { kind: "warn", text: `가격이 ${won(shown)}P에서 ${won(price)}P로 바뀌었습니다. 새 가격을 확인하고 다시 구매해 주세요.`, code: problem.code }
            : { kind: INFO_CODES.has(problem.code) ? "info" : "error", text: problem.message, code: problem.code },
          "item",
        );
      }
      // The item (its new price, or its buyer) and the balance.
      await client.refetchQueries({ include: "active" }).catch(() => undefined);
    });

  const changePrice = (event: FormEvent) => {
    event.preventDefault();
    return run(async () => {
      try {
        const { data: updated } = await updatePrice({ variables: { id, price: Number(newPrice) } });
        notify.show({ kind: "success", text: `가격을 ${won(updated!.updateUseditem.price ?? 0)}P로 바꿨습니다.` }, "item");
        setNewPrice("");
      } catch (error) {
        notify.fail(error, "updateUseditem", "item");
      }
    });
  };

  return (
    <>
      <p>
        <Link id="back-to-market" to="/market">← 상점</Link>
      </p>
      {item.error && !data && <p className="muted">상품을 불러오지 못했습니다.</p>}
      {data && (
        <section id="item" className="card" data-id={data._id}>
          {photo && <img id="item-photo-view" className="photo" src={photo} alt={data.name} />}
          <h2 id="item-title">{data.name}</h2>
          <p className="muted">{data.remarks}</p>
          <p>
            <strong id="item-price-view" className="item-price">{won(data.price ?? 0)}P</strong>
            {" · 판매자 "}
            <span id="item-seller">{data.seller?.name ?? ""}</span>
            <small className="muted"> · {when(data.createdAt)}</small>
          </p>
          <p className="contents">{data.contents}</p>
          <NoticeLine place="item" />
          {data.soldAt ? (
            <p id="item-sold" className="muted">
              판매 완료{data.buyer && ` · 구매자 ${data.buyer.name}`}
            </p>
          ) : mine ? (
            <form id="edit-price" className="row" onSubmit={(e) => void changePrice(e)}>
              <label className="inline">
                새 가격 (P)
                <input name="price" type="number" inputMode="numeric" min={1} step={1} required value={newPrice}
                  onChange={(e) => setNewPrice(e.target.value)} />
              </label>
              <button type="submit" className="secondary" disabled={busy}>가격 수정</button>
            </form>
          ) : (
            <button id="btn-buy" type="button" disabled={busy} onClick={() => void purchase(data.name, data.price ?? 0)}>
              {won(data.price ?? 0)}P 구매하기
            </button>
          )}
        </section>
      )}
      {data && <ItemQuestions itemId={data._id} isSeller={mine} />}
    </>
  );
}
