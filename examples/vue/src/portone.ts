// The PortOne (I'mport) V1 browser SDK, loaded at runtime from VITE_IAMPORT_SDK_URL: the sandbox's
// emulator in sandbox mode (/sandbox/portone/iamport.js, proxied to the API),
// https://cdn.iamport.kr/v1/iamport.js in production. Both answer IMP.init / IMP.request_pay the
// same way. (A classic <script> in index.html is one Vite cannot bundle and warns about.)
import { API_URL } from "./apollo";

export interface RequestPayParams {
  pg: string;
  pay_method: "card" | "trans" | "vbank";
  merchant_uid: string;
  name: string;
  amount: number;
  buyer_email?: string;
  buyer_name?: string;
  m_redirect_url?: string;
  /** 카드 등록 (빌링키 발급): the key is issued under customer_uid; amount 0 charges nothing. */
  customer_uid?: string;
  customer_id?: string;
}

export interface RequestPayResponse {
  success: boolean;
  imp_uid: string | null;
  merchant_uid: string;
  error_code?: string | null;
  error_msg?: string | null;
}

interface Iamport {
  init(merchantCode: string): void;
  request_pay(params: RequestPayParams, callback: (rsp: RequestPayResponse) => void): void;
  /** Sandbox SDK only: pay the way phones do (leave the page, come back through m_redirect_url). */
  sandbox_force_redirect?: boolean;
}

declare global {
  interface Window {
    IMP?: Iamport;
  }
}

let loading: Promise<Iamport> | null = null;

/** The SDK, loading its script once; a failed load (the API was down) is tried again next time. */
export function loadSdk(): Promise<Iamport> {
  if (window.IMP) return Promise.resolve(window.IMP);
  loading ??= new Promise<Iamport>((resolve, reject) => {
    const script = document.createElement("script");
    script.src = import.meta.env.VITE_IAMPORT_SDK_URL;
    script.async = true;
    script.onload = () => (window.IMP ? resolve(window.IMP) : reject(new Error("SDK_NOT_LOADED")));
    script.onerror = () => {
      script.remove();
      reject(new Error("SDK_NOT_LOADED"));
    };
    document.head.appendChild(script);
  }).catch((error: unknown) => {
    loading = null;
    throw error;
  });
  return loading;
}

/** Where PortOne sends a phone after paying: the API verifies and credits there, then sends the
 * browser back to this app's /payments/result (return_to: an origin the API allows). */
export function completeUrl(): string {
  const base = API_URL || window.location.origin;
  return `${base}/payments/complete?return_to=${encodeURIComponent(window.location.origin)}`;
}

export function requestPay(IMP: Iamport, params: RequestPayParams): Promise<RequestPayResponse> {
  return new Promise((resolve) => IMP.request_pay(params, resolve));
}
