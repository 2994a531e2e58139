// 카드 등록 through the picked 등록 방식's window, then registerPaymentCard with what it issued.
import { useMutation, useQuery } from "@apollo/client/react";
import { issueBootpayKey, PREPARE_CARD_BOOTPAY, REGISTER_CARD_BOOTPAY } from "./bootpayCards";
import { type Issued, issueBillingKey, issueBillingKeyV2 } from "./cards";
import type { PortOneVersion } from "./gql/graphql";
import { CONFIG, ME, PREPARE_CARD, PREPARE_CARD_V2, REGISTER_CARD } from "./operations";
import { useNotify } from "./notice";

/** PortOne V1 (IMP.request_pay), V2 (requestIssueBillingKey) or Bootpay (requestSubscription). */
export type CardMethod = PortOneVersion | "BOOTPAY";
type Registered = { _id: string; cardName?: string | null; cardNumber?: string | null };

export function useRegisterCard(): (method: CardMethod) => Promise<Registered | null> {
  const notify = useNotify();
  const cfg = useQuery(CONFIG).data?.fetchPointChargeConfig;
  const user = useQuery(ME).data?.fetchUserLoggedIn;
  const [prepareV1] = useMutation(PREPARE_CARD);
  const [prepareV2] = useMutation(PREPARE_CARD_V2);
  const [prepareBootpay] = useMutation(PREPARE_CARD_BOOTPAY);
  const [register] = useMutation(REGISTER_CARD);
  const [registerBootpay] = useMutation(REGISTER_CARD_BOOTPAY);

  async function issue(method: CardMethod): Promise<Issued> {
    if (method === "BOOTPAY") {
      const req = (await prepareBootpay()).data!.preparePaymentCard;
      return issueBootpayKey(cfg!.bootpayApplicationId ?? "", req, user!);
    }
    if (method === "V2") return issueBillingKeyV2((await prepareV2()).data!.preparePaymentCard, user!);
    return issueBillingKey(cfg!.merchantCode, (await prepareV1()).data!.preparePaymentCard, user!);
  }

  return async (method) => {
    if (!cfg || !user) return null;
    notify.show({ kind: "info", text: "결제창에서 등록할 카드를 확인해 주세요." }, "cards");
    const issued = await issue(method);
    if (!("key" in issued)) {
      const code = issued.code ?? undefined;
      notify.show(
        issued.cancelled
          ? { kind: "warn", text: "카드 등록을 취소했습니다.", code }
          : { kind: "error", text: `카드 등록에 실패했습니다. ${issued.message ?? ""}`.trim(), code },
        "cards",
      );
      return null;
    }
    notify.show({ kind: "info", text: "카드를 확인하는 중입니다…" }, "cards");
    if (method === "BOOTPAY") return (await registerBootpay({ variables: { receiptId: issued.key } })).data!.registerPaymentCard;
    const variables = method === "V2" ? { billingKey: issued.key } : { customerUid: issued.key };
    return (await register({ variables })).data!.registerPaymentCard;
  };
}
