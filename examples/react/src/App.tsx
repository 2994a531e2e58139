import { useEffect, useMemo, useRef, useState } from "react";
import { NavLink, Route, Routes } from "react-router-dom";
import { useApolloClient } from "@apollo/client/react";
import { probe, restoreSession } from "./apollo";
import { onReconnect, retryNow, useOffline } from "./connection";
import { CurrentNotice, NoticeContext, type Notify, noticeOf, type Placed } from "./notice";
import { Auth } from "./components/Auth";
import { Account } from "./components/Account";
import { Cards } from "./components/Cards";
import { Charge } from "./components/Charge";
import { NoticeLine } from "./components/NoticeLine";
import { Pending } from "./components/Pending";
import { History } from "./components/History";
import { ItemPage } from "./components/ItemPage";
import { MarketPage } from "./components/MarketPage";
import { PaymentResult } from "./components/PaymentResult";

type Session = "restoring" | "in" | "out";

// The README's section on it, where the project's README is published (VITE_README_URL).
const README = import.meta.env.VITE_README_URL;
const CROSS_SITE_DOC = "README: Cross-site, when you cannot proxy";

export default function App() {
  const client = useApolloClient();
  // restoring: still asking the refresh cookie for a session (restoreAccessToken); an API that
  // does not answer keeps it there (retried) rather than showing the login form.
  const [session, setSession] = useState<Session>("restoring");
  const sessionRef = useRef(session);
  sessionRef.current = session;
  const offline = useOffline();
  const [notice, setNotice] = useState<Placed | null>(null);
  const notify = useMemo<Notify>(
    () => ({
      show: (value, place = "top") => setNotice(value && { ...value, place }),
      fail: (error, operation, place = "top") => {
        const value = noticeOf(error, operation);
        setNotice({ ...value, place });
        return value;
      },
    }),
    [],
  );

  useEffect(() => {
    let live = true;
    async function restore() {
      const state = await restoreSession();
      if (!live || state === "unreachable") return; // the banner is up; the retry comes back here
      setSession(state === "in" ? "in" : "out");
      if (state === "no-cookie") {
        notify.show({
          kind: "warn",
          text:
            "이 탭에서 로그인했지만 새로고침 후 로그인을 이어가지 못했습니다. API가 다른 사이트에 있어 " +
            "브라우저가 로그인 쿠키(refresh cookie)를 보내지 않았습니다. 같은 사이트로 프록시하거나 " +
            "SameSite=None; Secure 쿠키를 HTTPS로 설정하세요.",
          code: "CROSS_SITE_COOKIE",
          link: { href: README ? `${README}#cross-site-when-you-cannot-proxy` : "", text: CROSS_SITE_DOC },
        });
      }
    }
    onReconnect(async () => {
      if (sessionRef.current === "restoring") return restore();
      if (await probe()) await client.refetchQueries({ include: "active" });
    });
    void restore();
    return () => {
      live = false;
    };
  }, [client, notify]);

  return (
    <NoticeContext.Provider value={notify}>
      <CurrentNotice.Provider value={notice}>
        <main className="app">
          <h1>포인트 충전 <small>React 예제</small></h1>
          {offline && (
            <div id="offline" className="message warn offline" role="alert">
              <span className="text">서버에 연결할 수 없습니다. 다시 연결되면 자동으로 불러옵니다.</span>
              <button type="button" className="small secondary" onClick={() => void retryNow()}>
                다시 시도
              </button>
            </div>
          )}
          <NoticeLine place="top" />
          {session === "restoring" && <p className="muted">불러오는 중…</p>}
          {session === "out" && <Auth onSignedIn={() => setSession("in")} />}
          {session === "in" && (
            <>
              <nav className="top-nav" aria-label="메뉴">
                <NavLink id="nav-charge" to="/" end>포인트 충전</NavLink>
                <NavLink id="nav-market" to="/market">상점</NavLink>
              </nav>
              <Account onSignedOut={() => setSession("out")} />
              <Routes>
                <Route path="/payments/result" element={<PaymentResult />} />
                <Route path="/market" element={<MarketPage />} />
                <Route path="/market/:id" element={<ItemPage />} />
                <Route
                  path="*"
                  element={
                    <>
                      <Charge />
                      <Cards />
                      <Pending />
                      <History />
                    </>
                  }
                />
              </Routes>
            </>
          )}
        </main>
      </CurrentNotice.Provider>
    </NoticeContext.Provider>
  );
}
