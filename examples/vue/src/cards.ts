// 카드 등록 (정기결제 billing keys) with the PortOne V1 SDK: IMP.request_pay({customer_uid, amount: 0,
// …}) issues a key under the customer_uid the server made for this user (preparePaymentCard); the
// server then checks it with PortOne (registerPaymentCard). No card number ever reaches our code.
import type { PointSubscriptionStatus, PrepareCardMutation } from "./gql/graphql";
import { loadSdk, requestPay, type RequestPayResponse } from "./portone";

type Buyer = { email: string; name: string };
type Request = PrepareCardMutation["preparePaymentCard"];

/** The sandbox's (or PortOne's) card window; resolves when the buyer is done with it. */
export async function issueBillingKey(merchantCode: string, req: Request, buyer: Buyer): Promise<RequestPayResponse> {
  const IMP = await loadSdk();
  IMP.init(merchantCode);
  IMP.sandbox_force_redirect = false; // a registration answers in this page, never through m_redirect_url
  return requestPay(IMP, {
    customer_uid: req.customerUid,
    customer_id: req.customerId,
    merchant_uid: req.merchantUid,
    pg: req.pg,
    amount: req.amount,
    pay_method: "card",
    name: req.name,
    buyer_email: buyer.email,
    buyer_name: buyer.name,
  });
}

export const cardLabel = (c: { cardName?: string | null; cardNumber?: string | null }) =>
  [c.cardName ?? "카드", c.cardNumber ?? ""].join(" ").trim();

export const SUBSCRIPTION_STATUS: Record<PointSubscriptionStatus, string> = {
  ACTIVE: "이용 중",
  PAST_DUE: "결제 실패(재시도 예정)",
  SUSPENDED: "일시 중지",
  CANCELLED: "해지됨",
};

/** Runs one card action at a time (see CardsBox): the operation names the error's wording. */
export type Run = (operation: string, work: () => Promise<void>) => Promise<void>;
