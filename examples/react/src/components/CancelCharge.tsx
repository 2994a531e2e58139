import { type FormEvent, useRef, useState } from "react";
import { useApolloClient, useMutation } from "@apollo/client/react";
import { paymentArgs } from "../bootpay";
import { won } from "../errors";
import type { PaymentGateway } from "../gql/graphql";
import { CANCEL } from "../operations";
import { useNotify } from "../notice";
import { cancelAmount, isVirtualAccount, REFUND_BANKS, refundAccountInput } from "../refund";
import { NoticeLine } from "./NoticeLine";

interface Props {
  /** The charge's payment at its gateway: PortOne's imp_uid or Bootpay's receipt_id. */
  paymentId: string;
  gateway: PaymentGateway;
  /** What is left to cancel: the form's default and its maximum. */
  amount: number;
  payMethod: string | null;
  /** One form at a time (History keeps which); each opening starts empty. */
  open: boolean;
  onOpen: () => void;
  onClose: () => void;
}

/** 취소 → a small form → cancelPointTransaction: an amount (empty: all that is left), a reason, and
 * for a virtual-account charge the refund account the gateway needs (bank, number, holder). Errors are
 * said in the form, at its inputs. */
export function CancelCharge({ open, onOpen, ...form }: Props) {
  const notify = useNotify();
  if (!open) {
    const start = () => {
      notify.show(null);
      onOpen();
    };
    return (
      <button type="button" className="small secondary nowrap cancel-charge" aria-label={`${won(form.amount)}P 충전 취소`} onClick={start}>
        취소
      </button>
    );
  }
  return <CancelForm key={form.paymentId} {...form} />; // mounted afresh: empty on each opening
}

function CancelForm({ paymentId, gateway, amount, payMethod, onClose }: Omit<Props, "open" | "onOpen">) {
  const notify = useNotify();
  const client = useApolloClient();
  const [cancel] = useMutation(CANCEL);
  const [part, setPart] = useState("");
  const [reason, setReason] = useState("");
  const [bank, setBank] = useState("");
  const [number, setNumber] = useState("");
  const [holder, setHolder] = useState("");
  const [invalid, setInvalid] = useState<string | undefined>(); // the API's extensions.field
  const [busy, setBusy] = useState(false);
  const inFlight = useRef(false);
  const vbank = isVirtualAccount(payMethod);
  const place = `cancel:${paymentId}`;
  const isInvalid = (field: string) => !!invalid && (invalid === field || invalid === field.split(".")[0]);

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    if (inFlight.current) return;
    inFlight.current = true;
    setBusy(true);
    setInvalid(undefined);
    try {
      const refundAccount = vbank ? refundAccountInput({ bank, number, holder }) : null;
      const { data } = await cancel({
        variables: { ...paymentArgs(gateway, paymentId), amount: cancelAmount(part), reason: reason.trim() || null, refundAccount },
      });
      const tx = data!.cancelPointTransaction;
      const where = vbank ? " 입력한 계좌로 환불됩니다." : "";
      notify.show({ kind: "success", text: `${won(-tx.amount)}P 충전을 취소했습니다.${where} 잔액 ${won(tx.balance)}P` }, "history");
      onClose();
    } catch (error) {
      setInvalid(notify.fail(error, "cancelPointTransaction", place).field);
    } finally {
      inFlight.current = false;
      setBusy(false);
      await client.refetchQueries({ include: "active" }).catch(() => undefined);
    }
  }

  const typed = cancelAmount(part);
  const shown = typed !== null && Number.isInteger(typed) && typed > 0 && typed <= amount ? typed : amount;
  return (
    <form className="cancel-form" onSubmit={(e) => void onSubmit(e)} data-pay-method={payMethod ?? undefined}>
      <label>
        금액 <small className="muted">(최대 {won(amount)}원)</small>
        <input name="amount" type="number" inputMode="numeric" min={1} max={amount} step={1} value={part}
          onChange={(e) => setPart(e.target.value)} placeholder={`전액 ${won(amount)}`} aria-invalid={isInvalid("amount")} />
      </label>
      <label>
        사유 <input name="reason" value={reason} maxLength={200} onChange={(e) => setReason(e.target.value)} placeholder="선택" />
      </label>
      {vbank && (
        <fieldset className="refund-account">
          <legend>환불 계좌 (가상계좌 환불)</legend>
          <label>
            은행{" "}
            <select name="refund-bank" value={bank} onChange={(e) => setBank(e.target.value)} aria-invalid={isInvalid("refundAccount.bank")}>
              <option value="">선택</option>
              {REFUND_BANKS.map((b) => (
                <option key={b.code} value={b.code}>
                  {b.name} ({b.code})
                </option>
              ))}
            </select>
          </label>
          <label>
            계좌번호{" "}
            <input name="refund-number" inputMode="numeric" autoComplete="off" maxLength={20} value={number}
              onChange={(e) => setNumber(e.target.value)} placeholder="숫자만" aria-invalid={isInvalid("refundAccount.number")} />
          </label>
          <label>
            예금주{" "}
            <input name="refund-holder" autoComplete="off" maxLength={40} value={holder}
              onChange={(e) => setHolder(e.target.value)} aria-invalid={isInvalid("refundAccount.holder")} />
          </label>
        </fieldset>
      )}
      <NoticeLine place={place} />
      <div className="row">
        <button type="submit" className="small nowrap confirm-cancel" disabled={busy}>
          {won(shown)}P 환불
        </button>
        <button type="button" className="small secondary nowrap" disabled={busy} onClick={onClose}>
          닫기
        </button>
      </div>
    </form>
  );
}
