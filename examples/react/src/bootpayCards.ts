// 카드 등록 on Bootpay: preparePaymentCard(gateway: BOOTPAY) → Bootpay.requestSubscription({application_id,
// subscription_id, order_name, price: 0, method, …}) → registerPaymentCard(receiptId). The window answers
// a receipt_id, never the key: the server reads the key by it and binds it by the subscription_id it made.
//
// These documents use arguments the committed schema.graphql gets from the Bootpay branch (gateway on
// preparePaymentCard, receiptId on registerPaymentCard, PaymentCard.gateway), so they are typed here by
// hand and left out of codegen (codegen.ts); once schema.graphql has them, move them to operations.ts.
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { parse } from "graphql";
import type { PaymentGateway } from "./gql/graphql";
import { loadBootpay } from "./bootpay";
import type { Issued } from "./cards";

type Card = { _id: string; cardName?: string | null; cardNumber?: string | null; version: "V1" | "V2"; createdAt: string };
type BootpayRequest = { subscriptionId?: string | null; orderName?: string | null; price?: number | null; pg?: string | null; method?: string | null };

export const PREPARE_CARD_BOOTPAY: TypedDocumentNode<{ preparePaymentCard: BootpayRequest }, Record<string, never>> = parse(`
  mutation PrepareCardBootpay { preparePaymentCard(gateway: BOOTPAY) { subscriptionId orderName price pg method } }
`);
export const REGISTER_CARD_BOOTPAY: TypedDocumentNode<{ registerPaymentCard: Card }, { receiptId: string }> = parse(`
  mutation RegisterCardBootpay($receiptId: ID) { registerPaymentCard(receiptId: $receiptId) { _id cardName cardNumber version createdAt } }
`);
/** Each card's gateway (a Bootpay card pays a Bootpay order); an API without it answers a validation error. */
export const CARD_GATEWAYS: TypedDocumentNode<{ fetchPaymentCards: { _id: string; gateway: PaymentGateway }[] }, Record<string, never>> = parse(`
  query PaymentCardGateways { fetchPaymentCards { _id gateway } }
`);

type User = { _id: string; name: string; email: string };

/** Bootpay's card window (the sandbox's, or Bootpay's in production). */
export async function issueBootpayKey(applicationId: string, req: BootpayRequest, user: User): Promise<Issued> {
  const sdk = await loadBootpay();
  try {
    const rsp = await sdk.requestSubscription({
      application_id: applicationId,
      subscription_id: req.subscriptionId,
      order_name: req.orderName,
      price: req.price ?? 0,
      method: req.method,
      ...(req.pg ? { pg: req.pg } : {}),
      user: { id: user._id, username: user.name, email: user.email },
      extra: { open_type: "iframe" },
    });
    const receiptId = rsp.receipt_id ?? rsp.data?.receipt_id;
    return receiptId ? { key: receiptId } : { cancelled: false, message: "카드 등록 결과에 receipt_id가 없습니다." };
  } catch (reason) {
    const r = (reason ?? {}) as { event?: string; error_code?: string; message?: string };
    if (r.event !== "cancel" && r.event !== "error") throw reason;
    return { cancelled: r.event === "cancel", code: r.error_code, message: r.message };
  }
}
