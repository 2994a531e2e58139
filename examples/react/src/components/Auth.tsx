import { type ChangeEvent, type FormEvent, useRef, useState } from "react";
import { useMutation } from "@apollo/client/react";
import { setAccessToken } from "../apollo";
import { LOGIN, SIGN_UP } from "../operations";
import { useNotify } from "../notice";
import { FieldError } from "./FieldError";
import { NoticeLine } from "./NoticeLine";

type Field = "email" | "password" | "name";
type FieldErrors = Partial<Record<Field, string>>;
const FIELDS: readonly Field[] = ["email", "password", "name"];

export function Auth({ onSignedIn }: { onSignedIn: () => void }) {
  const notify = useNotify();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [name, setName] = useState("");
  const [errors, setErrors] = useState<FieldErrors>({});
  const [busy, setBusy] = useState(false);
  const inFlight = useRef(false); // a second click before React re-renders the disabled button
  const [signUp] = useMutation(SIGN_UP);
  const [login] = useMutation(LOGIN);

  async function run(action: "login" | "signup") {
    if (inFlight.current) return;
    const missing: FieldErrors = {};
    if (!email.trim()) missing.email = "이메일을 입력해 주세요.";
    if (!password) missing.password = "비밀번호를 입력해 주세요.";
    if (action === "signup" && !name.trim()) missing.name = "이름을 입력해 주세요.";
    setErrors(missing);
    if (Object.keys(missing).length) {
      notify.show(null);
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
      const problem = notify.fail(error, op, "auth");
      const field = FIELDS.find((f) => f === problem.field);
      if (field) {
        // The server names the input it refused: said under that input.
        setErrors({ [field]: problem.text });
        notify.show(null);
      }
    } finally {
      inFlight.current = false;
      setBusy(false);
    }
  }

  function onSubmit(event: FormEvent) {
    event.preventDefault();
    void run("login");
  }

  const input = (f: Field, set: (v: string) => void) => ({
    id: f,
    "aria-invalid": !!errors[f],
    "aria-describedby": errors[f] ? `${f}-error` : undefined,
    onChange: (e: ChangeEvent<HTMLInputElement>) => {
      set(e.target.value);
      setErrors((now) => ({ ...now, [f]: undefined })); // typing again: the old reason is gone
    },
  });
  return (
    <form id="auth" className="card" onSubmit={onSubmit} noValidate>
      <h2>로그인 / 회원가입</h2>
      <label>
        이메일{" "}
        <input type="email" autoComplete="username" value={email} {...input("email", setEmail)} />
      </label>
      <FieldError id="email-error" text={errors.email} />
      <label>
        비밀번호{" "}
        <input type="password" autoComplete="current-password" value={password} {...input("password", setPassword)} />
      </label>
      <FieldError id="password-error" text={errors.password} />
      <label>
        이름 (회원가입) <input autoComplete="name" value={name} {...input("name", setName)} />
      </label>
      <FieldError id="name-error" text={errors.name} />
      <NoticeLine place="auth" />
      <div className="row">
        <button id="btn-login" type="submit" disabled={busy}>로그인</button>
        <button id="btn-signup" type="button" className="secondary" disabled={busy} onClick={() => void run("signup")}>회원가입</button>
      </div>
    </form>
  );
}
