import { useEffect, useMemo, useState } from "react";
import { Route, Routes } from "react-router-dom";
import { restoreSession } from "./apollo";
import { type Notice, NoticeContext, type Notify, noticeOf } from "./notice";
import { Auth } from "./components/Auth";
import { Account } from "./components/Account";
import { Charge } from "./components/Charge";
import { Pending } from "./components/Pending";
import { History } from "./components/History";
import { PaymentResult } from "./components/PaymentResult";

export default function App() {
  // null: still asking the refresh cookie for a session (restoreAccessToken).
  const [signedIn, setSignedIn] = useState<boolean | null>(null);
  const [notice, setNotice] = useState<Notice | null>(null);
  const notify = useMemo<Notify>(
    () => ({ show: setNotice, fail: (error, operation) => setNotice(noticeOf(error, operation)) }),
    [],
  );

  useEffect(() => {
    let live = true;
    void restoreSession().then((ok) => live && setSignedIn(ok));
    return () => {
      live = false;
    };
  }, []);

  return (
    <NoticeContext.Provider value={notify}>
      <main className="app">
        <h1>포인트 충전 <small>React 예제</small></h1>
        {notice && (
          <p id="message" className={`message ${notice.kind}`} role={notice.kind === "error" ? "alert" : "status"} data-code={notice.code}>
            {notice.text}
            {notice.code && notice.kind === "error" && <code className="code">{notice.code}</code>}
          </p>
        )}
        {signedIn === null && <p className="muted">불러오는 중…</p>}
        {signedIn === false && <Auth onSignedIn={() => setSignedIn(true)} />}
        {signedIn && (
          <>
            <Account onSignedOut={() => setSignedIn(false)} />
            <Routes>
              <Route path="/payments/result" element={<PaymentResult />} />
              <Route
                path="*"
                element={
                  <>
                    <Charge />
                    <Pending />
                    <History />
                  </>
                }
              />
            </Routes>
          </>
        )}
      </main>
    </NoticeContext.Provider>
  );
}
