// Errors are shown from extensions.code (stable); the server's Korean message is the fallback.
import { CombinedGraphQLErrors } from "@apollo/client";

const MESSAGES: Record<string, string> = {
  UNAUTHENTICATED: "로그인이 필요합니다. 다시 로그인해 주세요.",
  FORBIDDEN: "이 작업을 할 권한이 없습니다.",
  NOT_FOUND: "요청한 내역을 찾을 수 없습니다.",
  CONFLICT: "이미 가입된 이메일입니다. 로그인해 주세요.",
  BAD_USER_INPUT: "입력값을 확인해 주세요.",
  RATE_LIMITED: "요청이 너무 많습니다. 잠시 후 다시 시도해 주세요.",
  PAYMENT_NOT_FOUND: "결제 내역을 찾을 수 없습니다. 결제가 완료되었는지 확인해 주세요.",
  PAYMENT_NOT_PAID: "결제가 완료되지 않아 포인트를 충전하지 않았습니다.",
  PAYMENT_PENDING: "가상계좌 입금을 기다리고 있습니다. 입금이 확인되면 포인트가 자동으로 충전됩니다.",
  AMOUNT_MISMATCH: "결제 금액이 주문 금액과 달라 결제를 자동으로 취소했습니다.",
  PAYMENT_ALREADY_CLAIMED: "이미 다른 계정에서 사용한 결제입니다.",
  PORTONE_UNAVAILABLE: "결제사(PortOne)와 연결이 원활하지 않습니다. 잠시 후 다시 시도해 주세요.",
  BOOTPAY_UNAVAILABLE: "결제사(부트페이)와 연결이 원활하지 않습니다. 잠시 후 다시 시도해 주세요.",
  INSUFFICIENT_POINTS: "포인트가 부족합니다.",
  ALREADY_CANCELLED: "이미 취소된 결제입니다.",
  ITEM_SOLD_OUT: "이미 판매된 상품입니다.",
  CANNOT_BUY_OWN_ITEM: "자신의 상품은 구매할 수 없습니다.",
  PRICE_CHANGED: "상품 가격이 바뀌었습니다. 새 가격을 확인하고 다시 구매해 주세요.",
  BALANCE_LIMIT_EXCEEDED: "보유할 수 있는 포인트 한도를 넘습니다.",
  UNSUPPORTED_FILE_TYPE: "이미지 파일(PNG, JPEG, GIF, WebP)만 올릴 수 있습니다.",
  QUERY_TOO_COMPLEX: "요청이 너무 복잡합니다.",
  SERVICE_UNAVAILABLE: "서버가 바쁩니다. 잠시 후 다시 시도해 주세요.",
  INTERNAL_SERVER_ERROR: "일시적인 오류가 발생했습니다. 잠시 후 다시 시도해 주세요.",
  NETWORK: "서버에 연결할 수 없습니다. 네트워크 상태를 확인해 주세요.",
  SDK_NOT_LOADED: "결제 모듈(iamport.js)을 불러오지 못했습니다.",
  BOOTPAY_SDK_NOT_LOADED: "결제 모듈(bootpay.js)을 불러오지 못했습니다.",
  CARD_DECLINED: "카드 결제가 거절되었습니다. 다른 카드로 다시 시도해 주세요.",
  V2_SDK_NOT_LOADED: "결제 모듈(browser-sdk.js)을 불러오지 못했습니다.",
};
const SDK_ERRORS = new Set(["SDK_NOT_LOADED", "BOOTPAY_SDK_NOT_LOADED", "V2_SDK_NOT_LOADED"]);
// The same code can mean something more precise in one operation.
const OVERRIDES: Record<string, Record<string, string>> = {
  loginUser: { UNAUTHENTICATED: "이메일 또는 비밀번호가 일치하지 않습니다." },
  cancelPointTransaction: { INSUFFICIENT_POINTS: "이미 사용한 포인트는 취소할 수 없습니다." },
};
// Codes whose server message is more precise than any fixed text (it names the field).
const SERVER_WORDED: Record<string, ReadonlySet<string>> = {
  cancelPointTransaction: new Set(["BAD_USER_INPUT"]),
};
/** Not failures: shown as information. */
export const INFO_CODES = new Set(["PAYMENT_PENDING"]);

export interface Problem {
  code: string;
  message: string;
  /** extensions.field: the input the server's message is about (its message then names it). */
  field?: string;
  /** The rest of extensions (PRICE_CHANGED's price…). */
  extensions?: Record<string, unknown>;
}

export function describe(error: unknown, operation?: string): Problem {
  let code = "INTERNAL_SERVER_ERROR";
  let serverMessage = "";
  let field: string | undefined;
  let extensions: Record<string, unknown> | undefined;
  if (CombinedGraphQLErrors.is(error)) {
    const first = error.errors[0];
    code = typeof first?.extensions?.code === "string" ? first.extensions.code : code;
    field = typeof first?.extensions?.field === "string" ? first.extensions.field : undefined;
    serverMessage = first?.message ?? "";
    extensions = first?.extensions;
  } else if (error instanceof Error && SDK_ERRORS.has(error.message)) {
    code = error.message;
  } else if (error instanceof Error) {
    code = "NETWORK";
  }
  // A message about one field is the server's own words ("비밀번호는 8자 이상이어야 합니다.").
  // charged: false — a Bootpay payment held for the server's confirm that it refused (AMOUNT_MISMATCH,
  // BALANCE_LIMIT_EXCEEDED) was never captured: the server says so, not "자동으로 취소했습니다".
  const preferServer =
    !!serverMessage &&
    ((!!field && code === "BAD_USER_INPUT") ||
      (!!operation && !!SERVER_WORDED[operation]?.has(code)) ||
      extensions?.charged === false);
  const message =
    (preferServer && serverMessage) ||
    declined(code, extensions) ||
    (operation && OVERRIDES[operation]?.[code]) ||
    MESSAGES[code] ||
    serverMessage ||
    MESSAGES.INTERNAL_SERVER_ERROR;
  return { code, message, field, extensions };
}

/** A card the card company refused says why, in the company's words (extensions.failReason: 한도초과…). */
function declined(code: string, extensions?: Record<string, unknown>): string | null {
  const reason = extensions?.failReason;
  if (code !== "CARD_DECLINED" || typeof reason !== "string" || !reason) return null;
  return `카드 결제가 거절되었습니다: ${reason}. 다른 카드로 다시 시도해 주세요.`;
}

/** The mobile redirect's ?outcome=failed&reason=… (PortOne error codes or the API's outcomes). */
export const REDIRECT_REASONS: Record<string, string> = {
  no_payment: "결제를 취소했습니다.",
  F1002: "결제를 취소했습니다.",
  F1001: "카드사에서 결제를 거절했습니다.",
  not_paid: "결제가 완료되지 않았습니다.",
  amount_mismatch: MESSAGES.AMOUNT_MISMATCH,
  // A Bootpay payment held for the server's confirm and refused: never captured, nothing to refund.
  amount_mismatch_not_charged: "결제 금액이 주문 금액과 다릅니다. 결제를 승인하지 않았으므로 청구되지 않습니다.",
  balance_limit_not_charged: "보유 포인트 한도를 넘어 결제를 승인하지 않았습니다. 청구되지 않습니다.",
  forbidden: "다른 사용자의 주문입니다.",
  already_claimed: MESSAGES.PAYMENT_ALREADY_CLAIMED,
  cancelled: "취소된 결제입니다.",
  PAYMENT_NOT_FOUND: MESSAGES.PAYMENT_NOT_FOUND,
};

export const won = (n: number) => n.toLocaleString("ko-KR");
export const signed = (n: number) => (n > 0 ? "+" : n < 0 ? "-" : "") + won(Math.abs(n));
export function when(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}.${p(d.getMonth() + 1)}.${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}
