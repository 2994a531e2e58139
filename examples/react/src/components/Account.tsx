import { useState } from "react";
import { useApolloClient, useMutation, useQuery } from "@apollo/client/react";
import { forgetSignedIn, setAccessToken } from "../apollo";
import { won } from "../errors";
import { LOGOUT, ME } from "../operations";
import { useNotify } from "../notice";

export function Account({ onSignedOut }: { onSignedOut: () => void }) {
  const notify = useNotify();
  const client = useApolloClient();
  const { data, error } = useQuery(ME);
  const [logout] = useMutation(LOGOUT);
  const [busy, setBusy] = useState(false);

  async function signOut() {
    if (busy) return;
    setBusy(true);
    forgetSignedIn();
    try {
      await logout();
    } catch {
      // signed out locally anyway
    }
    setAccessToken(null);
    await client.clearStore();
    notify.show({ kind: "info", text: "로그아웃했습니다." });
    onSignedOut();
  }

  if (error && !data) return <p className="muted">계정 정보를 불러오지 못했습니다.</p>;
  const me = data?.fetchUserLoggedIn;
  return (
    <section id="account" className="card account">
      <div className="who">
        <strong id="user-name">{me?.name ?? ""}</strong> <span id="user-email" className="muted id">{me?.email}</span>
        <div>
          잔액 <strong id="balance">{me ? won(me.userPoint?.amount ?? 0) : "…"}</strong>P
        </div>
      </div>
      <button id="btn-logout" type="button" className="secondary nowrap" disabled={busy} onClick={() => void signOut()}>
        로그아웃
      </button>
    </section>
  );
}
