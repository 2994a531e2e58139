// 카드 등록 through the picked 등록 방식's window, then registerPaymentCard with what it issued.
import { computed } from "vue";
import { useMutation, useQuery } from "@vue/apollo-composable";
import { issueBootpayKey, PREPARE_CARD_BOOTPAY, REGISTER_CARD_BOOTPAY } from "./bootpayCards";
import { type Issued, issueBillingKey, issueBillingKeyV2 } from "./cards";
import type { PortOneVersion } from "./gql/graphql";
import { CONFIG, ME, PREPARE_CARD, PREPARE_CARD_V2, REGISTER_CARD } from "./operations";
import { show } from "./notice";

/** PortOne V1 (IMP.request_pay), V2 (requestIssueBillingKey) or Bootpay (requestSubscription). */
export type CardMethod = PortOneVersion | "BOOTPAY";
type Registered = { _id: string; cardName?: string | null; cardNumber?: string | null };

export function useRegisterCard(): (method: CardMethod) => Promise<Registered | null> {
  const config = useQuery(CONFIG);
  const me = useQuery(ME);
  const cfg = computed(() => config.result.value?.fetchPointChargeConfig);
  const user = computed(() => me.result.value?.fetchUserLoggedIn);
  const { mutate: prepareV1 } = useMutation(PREPARE_CARD);
  const { mutate: prepareV2 } = useMutation(PREPARE_CARD_V2);
  const { mutate: prepareBootpay } = useMutation(PREPARE_CARD_BOOTPAY);
  const { mutate: register } = useMutation(REGISTER_CARD);
  const { mutate: registerBootpay } = useMutation(REGISTER_CARD_BOOTPAY);

  async function issue(method: CardMethod): Promise<Issued> {
    const u = user.value!;
    if (method === "BOOTPAY") {
      const req = (await prepareBootpay())!.data!.preparePaymentCard;
      return issueBootpayKey(cfg.value!.bootpayApplicationId ?? "", req, u);
    }
    if (method === "V2") return issueBillingKeyV2((await prepareV2())!.data!.preparePaymentCard, u);
    return issueBillingKey(cfg.value!.merchantCode, (await prepareV1())!.data!.preparePaymentCard, u);
  }

  return async (method) => {
    if (!cfg.value || !user.value) return null;
    show({ kind: "info", text: "결제창에서 등록할 카드를 확인해 주세요." }, "cards");
    const issued = await issue(method);
    if (!("key" in issued)) {
      const code = issued.code ?? undefined;
      show(
        issued.cancelled
          ? { kind: "warn", text: "카드 등록을 취소했습니다.", code }
          : { kind: "error", text: `카드 등록에 실패했습니다. ${issued.message ?? ""}`.trim(), code },
        "cards",
      );
      return null;
    }
    show({ kind: "info", text: "카드를 확인하는 중입니다…" }, "cards");
    if (method === "BOOTPAY") return (await registerBootpay({ receiptId: issued.key }))!.data!.registerPaymentCard;
    return (await register(method === "V2" ? { billingKey: issued.key } : { customerUid: issued.key }))!.data!
      .registerPaymentCard;
  };
}
