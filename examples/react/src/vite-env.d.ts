/// <reference types="vite/client" />

interface ImportMetaEnv {
  readonly VITE_POINTCHARGE_API_URL?: string;
  readonly VITE_IAMPORT_SDK_URL: string;
  /** The PortOne V2 SDK (requestIssueBillingKey): the sandbox's /sandbox/portone/browser-sdk.js or cdn.portone.io's. */
  readonly VITE_PORTONE_V2_SDK_URL: string;
  /** The Bootpay SDK (client-js 5.x): the sandbox's /sandbox/bootpay/bootpay.js or js.bootpay.co.kr's. */
  readonly VITE_BOOTPAY_SDK_URL: string;
  /** Where the project's README is published (linked when a cross-site build loses the login). */
  readonly VITE_README_URL?: string;
}
