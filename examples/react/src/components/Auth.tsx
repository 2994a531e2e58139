import { type FormEvent, useRef, useState } from "react";
import { useMutation } from "@apollo/client/react";
import { setAccessToken } from "../apollo";
import { LOGIN, SIGN_UP } from "../operations";
import { useNotify } from "../notice";

export function Auth({ onSignedIn }: { onSignedIn: () => void }) {
  const notify = useNotify();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);
  const inFlight = useRef(false); // a second click before React re-renders the disabled button
  const [signUp] = useMutation(SIGN_UP);
  const [login] = useMutation(LOGIN);

  async function run(action: "login" | "signup") {
    if (inFlight.current) return;
    if (!email.trim() || !password || (action === "signup" && !name.trim())) {
      notify.show({ kind: "error", text: action === "signup" ? "이메일, 비밀번호, 이름을 모두 입력해 주세요." : "이메일과 비밀번호를 입력해 주세요." });
      return;
    }
    inFlight.current = true;
    setBusy(true);
    let op = action === "signup" ? "createUser" : "loginUser";
    try {
      if (action === "signup") {
        await signUp({ variables: { input: { email: email.trim(), password, name: name.trim() } } });
        op = "loginUser";
      }
      const { data } = await login({ variables: { email: email.trim(), password } });
      setAccessToken(data!.loginUser.accessToken);
      notify.show({ kind: "success", text: action === "signup" ? "회원가입이 완료되었습니다." : "로그인했습니다." });
      onSignedIn();
    } catch (error) {
      notify.fail(error, op);
    } finally {
      inFlight.current = false;
      setBusy(false);
    }
  }

  function onSubmit(event: FormEvent) {
    event.preventDefault();
    void run("login");
  }

  return (
    <form id="auth" className="card" onSubmit={onSubmit}>
      <h2>로그인 / 회원가입</h2>
      <label>이메일 <input id="email" type="email" autoComplete="username" value={email} onChange={(e) => setEmail(e.target.value)} /></label>
      <label>비밀번호 <input id="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} /></label>
      <label>이름 (회원가입) <input id="name" autoComplete="name" value={name} onChange={(e) => setName(e.target.value)} /></label>
      <div className="row">
        <button id="btn-login" type="submit" disabled={busy}>로그인</button>
        <button id="btn-signup" type="button" className="secondary" disabled={busy} onClick={() => void run("signup")}>회원가입</button>
      </div>
    </form>
  );
}
