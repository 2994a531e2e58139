// The PortOne V2 browser SDK (global `PortOne`), loaded at runtime from VITE_PORTONE_V2_SDK_URL for
// 카드 등록 on V2 only: the sandbox's emulator in sandbox mode (/sandbox/portone/browser-sdk.js,
// proxied to the API), https://cdn.portone.io/v2/browser-sdk.js in production.

export interface IssueBillingKeyParams {
  storeId: string;
  channelKey: string;
  billingKeyMethod: string;
  issueId?: string;
  issueName?: string;
  customer?: { customerId?: string; fullName?: string; email?: string };
}

/** billingKey on success; code (and the PG's pgCode/pgMessage) when no key came of the window. */
export interface IssueBillingKeyResponse {
  transactionType?: string;
  billingKey?: string;
  code?: string;
  message?: string;
  pgCode?: string;
  pgMessage?: string;
}

interface PortOneV2 {
  requestIssueBillingKey(params: IssueBillingKeyParams): Promise<IssueBillingKeyResponse | undefined>;
}

declare global {
  interface Window {
    PortOne?: PortOneV2;
  }
}

let loading: Promise<PortOneV2> | null = null;

/** The SDK, its script added once; a failed load is tried again next time. */
export function loadV2Sdk(): Promise<PortOneV2> {
  loading ??= new Promise<PortOneV2>((resolve, reject) => {
    if (window.PortOne) return resolve(window.PortOne);
    const script = document.createElement("script");
    script.src = import.meta.env.VITE_PORTONE_V2_SDK_URL;
    script.onload = () => (window.PortOne ? resolve(window.PortOne) : reject(new Error("V2_SDK_NOT_LOADED")));
    script.onerror = () => {
      script.remove();
      reject(new Error("V2_SDK_NOT_LOADED"));
    };
    document.head.appendChild(script);
  }).catch((error: unknown) => {
    loading = null;
    throw error;
  });
  return loading;
}
