import { type FormEvent, useRef, useState } from "react";
import { useApolloClient, useMutation } from "@apollo/client/react";
import { won } from "../errors";
import { CANCEL } from "../operations";
import { useNotify } from "../notice";
import { cancelAmount, isVirtualAccount, REFUND_BANKS, refundAccountInput } from "../refund";

/** 취소 → a small form → cancelPointTransaction: an amount (empty: all that is left), a reason, and
 * for a virtual-account charge the refund account PortOne needs (bank, number, holder). */
export function CancelCharge({ impUid, amount, payMethod }: { impUid: string; amount: number; payMethod: string | null }) {
  const notify = useNotify();
  const client = useApolloClient();
  const [cancel] = useMutation(CANCEL);
  const [open, setOpen] = useState(false);
  const [part, setPart] = useState("");
  const [reason, setReason] = useState("");
  const [bank, setBank] = useState("");
  const [number, setNumber] = useState("");
  const [holder, setHolder] = useState("");
  const [busy, setBusy] = useState(false);
  const inFlight = useRef(false);
  const vbank = isVirtualAccount(payMethod);

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    if (inFlight.current) return;
    inFlight.current = true;
    setBusy(true);
    try {
      const refundAccount = vbank ? refundAccountInput({ bank, number, holder }) : null;
      const { data } = await cancel({
        variables: { impUid, amount: cancelAmount(part), reason: reason.trim() || null, refundAccount },
      });
      const tx = data!.cancelPointTransaction;
      const where = vbank ? " 입력한 계좌로 환불됩니다." : "";
      notify.show({ kind: "success", text: `${won(-tx.amount)}P 충전을 취소했습니다. 잔액 ${won(tx.balance)}P${where}` });
      setOpen(false);
    } catch (error) {
      notify.fail(error, "cancelPointTransaction");
    } finally {
      inFlight.current = false;
      setBusy(false);
      await client.refetchQueries({ include: "active" }).catch(() => undefined);
    }
  }

  if (!open) {
    return (
      <button type="button" className="small secondary nowrap cancel-charge" aria-label={`${won(amount)}P 충전 취소`} onClick={() => setOpen(true)}>
        취소
      </button>
    );
  }
  const shown = cancelAmount(part);
  return (
    <form className="cancel-form" onSubmit={(e) => void onSubmit(e)} data-pay-method={payMethod ?? undefined}>
      <label>
        금액{" "}
        <input name="amount" type="number" inputMode="numeric" min={1} max={amount} step={1} value={part}
          onChange={(e) => setPart(e.target.value)} placeholder={`전액 ${won(amount)}`} />
      </label>
      <label>
        사유 <input name="reason" value={reason} maxLength={200} onChange={(e) => setReason(e.target.value)} placeholder="선택" />
      </label>
      {vbank && (
        <fieldset className="refund-account">
          <legend>환불 계좌 (가상계좌 환불)</legend>
          <label>
            은행{" "}
            <select name="refund-bank" value={bank} onChange={(e) => setBank(e.target.value)}>
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
              onChange={(e) => setNumber(e.target.value)} placeholder="숫자만" />
          </label>
          <label>
            예금주 <input name="refund-holder" autoComplete="off" maxLength={40} value={holder} onChange={(e) => setHolder(e.target.value)} />
          </label>
        </fieldset>
      )}
      <div className="row">
        <button type="submit" className="small nowrap confirm-cancel" disabled={busy}>
          {won(shown !== null && Number.isInteger(shown) && shown > 0 ? shown : amount)}P 환불
        </button>
        <button type="button" className="small secondary nowrap" disabled={busy} onClick={() => setOpen(false)}>
          닫기
        </button>
      </div>
    </form>
  );
}
