import { ref } from "vue";

// A deposited virtual account is refunded by bank transfer, so PortOne needs the buyer's account
// (cancelPointTransaction's refundAccount). Codes are PortOne's (KFTC) bank codes; the API checks
// them and the number before PortOne is called, and never stores the account.
export const REFUND_BANKS: ReadonlyArray<{ code: string; name: string }> = [
  { code: "004", name: "KB국민은행" },
  { code: "088", name: "신한은행" },
  { code: "020", name: "우리은행" },
  { code: "081", name: "하나은행" },
  { code: "011", name: "NH농협은행" },
  { code: "003", name: "IBK기업은행" },
  { code: "090", name: "카카오뱅크" },
  { code: "092", name: "토스뱅크" },
  { code: "089", name: "케이뱅크" },
  { code: "071", name: "우체국" },
];

export const isVirtualAccount = (payMethod: string | null | undefined) => payMethod === "vbank";

export interface RefundFields {
  bank: string;
  number: string;
  holder: string;
}

/** null when nothing was entered: the API then answers BAD_USER_INPUT ("환불 계좌를 입력해 주세요.")
 * rather than the browser guessing which field is missing; a partly filled form is sent as is so
 * the API names the wrong field. */
export function refundAccountInput(f: RefundFields): RefundFields | null {
  const v = { bank: f.bank.trim(), number: f.number.trim(), holder: f.holder.trim() };
  return v.bank || v.number || v.holder ? v : null;
}

/** "" → the whole remaining amount (amount omitted); otherwise a whole number of won. */
export function cancelAmount(text: string): number | null {
  const t = text.replace(/[,\s]/g, "");
  return t === "" ? null : Number(t);
}

/** The one open cancel form (its charge's imp_uid or receipt_id): opening another row's closes this one. */
export const openCancel = ref<string | null>(null);
