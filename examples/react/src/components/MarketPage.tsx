import { useQuery } from "@apollo/client/react";
import { Link } from "react-router-dom";
import { won } from "../errors";
import { imageUrl } from "../market";
import { FILE_CONFIG, ITEMS } from "../operations";
import { Listed } from "./Listed";
import { NewItemForm } from "./NewItemForm";

/** 상점: the items for sale (page 1, newest first) and a form to put one up. */
export function MarketPage() {
  // Asked again on each visit: others put items up and buy them meanwhile.
  const items = useQuery(ITEMS, { variables: { page: 1 }, fetchPolicy: "cache-and-network" });
  const publicBase = useQuery(FILE_CONFIG).data?.fetchFileConfig.publicBase;
  const list = items.data?.fetchUseditems ?? [];
  return (
    <>
      <section id="market" className="card">
        <h2>상점</h2>
        <Listed loading={items.loading} error={items.error} count={list.length} failed="상품을 불러오지 못했습니다."
          empty={<p id="items-empty" className="muted">판매 중인 상품이 없습니다.</p>}>
          <ul id="items" className="items">
            {list.map((item) => {
              const src = imageUrl(publicBase, item.images?.[0]);
              return (
                <li key={item._id} className="item" data-id={item._id}>
                  <Link to={`/market/${item._id}`} className="item-link">
                    {src ? (
                      <img className="thumb" src={src} alt={item.name} loading="lazy" />
                    ) : (
                      <span className="thumb empty" aria-hidden="true" />
                    )}
                    <span className="item-text">
                      <strong className="item-name">{item.name}</strong>
                      <small className="muted">{item.remarks}</small>
                      <span className="item-price">{won(item.price ?? 0)}P</span>
                      <small className="muted">판매자 {item.seller?.name ?? ""}</small>
                    </span>
                  </Link>
                </li>
              );
            })}
          </ul>
        </Listed>
      </section>
      <NewItemForm />
    </>
  );
}
