import { type FormEvent, useRef, useState } from "react";
import { useApolloClient, useMutation } from "@apollo/client/react";
import { won } from "../errors";
import { CANCEL } from "../operations";
import { useNotify } from "../notice";

/** 취소 → a small form → cancelPointTransaction. A virtual-account charge will also ask for the
 * refund account here (bank, number, holder, tel) once the API takes it (refundAccount). */
export function CancelCharge({ impUid, amount, payMethod }: { impUid: string; amount: number; payMethod: string | null }) {
  const notify = useNotify();
  const client = useApolloClient();
  const [cancel] = useMutation(CANCEL);
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const inFlight = useRef(false);

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    if (inFlight.current) return;
    inFlight.current = true;
    setBusy(true);
    try {
      const { data } = await cancel({ variables: { impUid, reason: reason.trim() || null } });
      const tx = data!.cancelPointTransaction;
      notify.show({ kind: "success", text: `${won(-tx.amount)}P 충전을 취소했습니다. 잔액 ${won(tx.balance)}P` });
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
  return (
    <form className="cancel-form" onSubmit={(e) => void onSubmit(e)} data-pay-method={payMethod ?? undefined}>
      <label>
        사유 <input name="reason" value={reason} maxLength={200} onChange={(e) => setReason(e.target.value)} placeholder="선택" />
      </label>
      <div className="row">
        <button type="submit" className="small nowrap confirm-cancel" disabled={busy}>
          {won(amount)}P 환불
        </button>
        <button type="button" className="small secondary nowrap" disabled={busy} onClick={() => setOpen(false)}>
          닫기
        </button>
      </div>
    </form>
  );
}
