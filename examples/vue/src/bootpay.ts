// The Bootpay (부트페이) browser SDK, the @bootpay/client-js 5.x surface, loaded at runtime from
// VITE_BOOTPAY_SDK_URL like the PortOne one (portone.ts): the sandbox's emulator in sandbox mode
// (/sandbox/bootpay/bootpay.js, proxied to the API), https://js.bootpay.co.kr/bootpay-<5.x>.min.js
// in production. Both answer Bootpay.requestPayment the same way.
import type { PaymentGateway } from "./gql/graphql";

export type BootpayMethod = "card" | "vbank";

export interface RequestPaymentParams {
  application_id: string;
  price: number;
  order_id: string;
  order_name: string;
  method?: BootpayMethod;
  user?: { id?: string; username?: string; email?: string };
  extra?: { open_type?: "iframe" | "popup" | "redirect"; separately_confirmed?: boolean };
}

/** done: captured; confirm: approved by the buyer, captured by our server; issued: a virtual account. */
interface RequestPaymentResult {
  event: "done" | "confirm" | "issued";
  receipt_id?: string;
  data?: { receipt_id?: string };
}

interface Bootpay {
  requestPayment(params: RequestPaymentParams): Promise<RequestPaymentResult>;
  /** 카드 등록 (정기결제): resolves {event: "done", data: {receipt_id}}; the key stays with Bootpay. */
  requestSubscription(params: Record<string, unknown>): Promise<RequestPaymentResult>;
}

declare global {
  interface Window {
    Bootpay?: Bootpay;
  }
}

let loading: Promise<Bootpay> | null = null;

/** The SDK, its script added once; a failed load (e.g. the API was down) is tried again next time. */
export function loadBootpay(): Promise<Bootpay> {
  loading ??= new Promise<Bootpay>((resolve, reject) => {
    if (window.Bootpay) return resolve(window.Bootpay);
    const script = document.createElement("script");
    script.src = import.meta.env.VITE_BOOTPAY_SDK_URL;
    script.onload = () => (window.Bootpay ? resolve(window.Bootpay) : reject(new Error("BOOTPAY_SDK_NOT_LOADED")));
    script.onerror = () => {
      script.remove();
      reject(new Error("BOOTPAY_SDK_NOT_LOADED"));
    };
    document.head.appendChild(script);
  }).catch((error: unknown) => {
    loading = null;
    throw error;
  });
  return loading;
}

export type BootpayOutcome =
  | { ok: true; event: RequestPaymentResult["event"]; receiptId: string }
  | { ok: false; cancelled: boolean; code?: string; message?: string };

/** Bootpay.requestPayment as an outcome, like IMP.request_pay's rsp.success: the SDK rejects with
 * {event: "cancel" | "error", error_code, message}, which is no exception of ours. A card payment is
 * only approved in the window (separately_confirmed): the server confirms it once it has checked
 * the amount and the owner, so the browser never calls Bootpay.confirm(). */
export async function requestBootpay(sdk: Bootpay, params: RequestPaymentParams): Promise<BootpayOutcome> {
  const card = params.method !== "vbank";
  try {
    const result = await sdk.requestPayment({
      ...params,
      extra: { open_type: "iframe", ...params.extra, ...(card ? { separately_confirmed: true } : {}) },
    });
    const receiptId = result.receipt_id ?? result.data?.receipt_id;
    if (!receiptId) return { ok: false, cancelled: false, message: "결제 결과에 receipt_id가 없습니다." };
    return { ok: true, event: result.event, receiptId };
  } catch (reason) {
    const r = (reason ?? {}) as { event?: string; error_code?: string; message?: string };
    if (r.event !== "cancel" && r.event !== "error") throw reason;
    return { ok: false, cancelled: r.event === "cancel", code: r.error_code, message: r.message };
  }
}

/** The id the gateway knows a payment by: PortOne's imp_uid or Bootpay's receipt_id (a
 * transaction's impUid holds either; an order keeps them apart). */
export function paymentIdOf(order: { gateway: PaymentGateway; impUid?: string | null; receiptId?: string | null }) {
  return (order.gateway === "BOOTPAY" ? order.receiptId : order.impUid) ?? null;
}

/** createPointTransactionOfLoading's and cancelPointTransaction's argument for that id. */
export function paymentArgs(gateway: PaymentGateway | null | undefined, id: string) {
  return gateway === "BOOTPAY" ? { receiptId: id } : { impUid: id };
}

/** Sandbox only: the buyer's deposit into an issued virtual account, as the bank would make it. */
export function sandboxDepositUrl(api: string, gateway: PaymentGateway, id: string): string {
  return gateway === "BOOTPAY"
    ? `${api}/sandbox/bootpay/_control/receipts/${encodeURIComponent(id)}/deposit`
    : `${api}/sandbox/portone/_control/payments/${encodeURIComponent(id)}/deposit`;
}

export const GATEWAY_LABELS: Record<PaymentGateway, string> = { PORTONE: "PortOne", BOOTPAY: "부트페이" };
