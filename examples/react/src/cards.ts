// 카드 등록 (정기결제 billing keys). V1: IMP.request_pay({customer_uid, amount: 0, …}) issues a key under
// the customer_uid the server made for this user (preparePaymentCard); V2:
// PortOne.requestIssueBillingKey({storeId, channelKey, issueId, …}) issues one PortOne names. The
// server then checks it with PortOne (registerPaymentCard). No card number ever reaches our code.
import type { PointSubscriptionStatus, PrepareCardMutation, PrepareCardV2Mutation } from "./gql/graphql";
import { loadSdk, requestPay, type RequestPayResponse } from "./portone";
import { loadV2Sdk } from "./portoneV2";

type Buyer = { email: string; name: string };
type Request = PrepareCardMutation["preparePaymentCard"];
type RequestV2 = PrepareCardV2Mutation["preparePaymentCard"];
/** What came of a window: the key to register, or what to tell the buyer. */
export type Issued = { key: string } | { cancelled: boolean; message?: string | null; code?: string | null };

/** The sandbox's (or PortOne's) card window; resolves when the buyer is done with it. */
export async function issueBillingKey(merchantCode: string, req: Request, buyer: Buyer): Promise<Issued> {
  const rsp = await issueV1(merchantCode, req, buyer);
  if (rsp.success) return { key: req.customerUid ?? "" };
  return { cancelled: rsp.error_code === "F1002", message: rsp.error_msg, code: rsp.error_code };
}

/** PortOne V2's window (PortOne.requestIssueBillingKey): the billingKey it issued. */
export async function issueBillingKeyV2(req: RequestV2, buyer: Buyer): Promise<Issued> {
  const PortOne = await loadV2Sdk();
  const rsp = await PortOne.requestIssueBillingKey({
    storeId: req.storeId ?? "",
    channelKey: req.channelKey ?? "",
    billingKeyMethod: req.billingKeyMethod ?? "CARD",
    issueId: req.issueId ?? undefined,
    issueName: req.issueName ?? undefined,
    customer: { customerId: req.customerId, fullName: buyer.name, email: buyer.email },
  });
  if (rsp?.billingKey && rsp.code === undefined) return { key: rsp.billingKey };
  return { cancelled: rsp?.pgCode === "F1002", message: rsp?.pgMessage ?? rsp?.message, code: rsp?.code };
}

async function issueV1(merchantCode: string, req: Request, buyer: Buyer): Promise<RequestPayResponse> {
  const IMP = await loadSdk();
  IMP.init(merchantCode);
  IMP.sandbox_force_redirect = false; // a registration answers in this page, never through m_redirect_url
  return requestPay(IMP, {
    customer_uid: req.customerUid ?? "",
    customer_id: req.customerId,
    merchant_uid: req.merchantUid ?? "",
    pg: req.pg ?? "",
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
