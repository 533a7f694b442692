// The console's shell: sign-in (password, then a TOTP code when the
// server asks for one), the navigation and the pages.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { type Problem, signIn, signInOTP, signOut, whenSignedOut } from "./api";
import { Applications, ApiKeys, Audit, Roles, SigningKeys } from "./admin";
import { Field, Problems } from "./ui";
import { Users } from "./users";
import "./style.css";

const pages = {
  users: { title: "Users", view: Users },
  roles: { title: "Roles", view: Roles },
  applications: { title: "Applications", view: Applications },
  "api-keys": { title: "API keys", view: ApiKeys },
  "signing-keys": { title: "Signing keys", view: SigningKeys },
  audit: { title: "Audit log", view: Audit },
};
type Page = keyof typeof pages;

function SignIn(p: { onSignedIn: () => void }) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [otp, setOtp] = useState("");
  const [mfaToken, setMfaToken] = useState<string | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    try {
      if (mfaToken) {
        await signInOTP(mfaToken, otp);
        p.onSignedIn();
      } else {
        const r = await signIn(username, password);
        if (r.ok) p.onSignedIn();
        else setMfaToken(r.mfaToken);
      }
      setProblem(null);
    } catch (err) {
      setProblem(err as Problem);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="signin">
      <h1>gatehouse console</h1>
      <form aria-label="Sign in" onSubmit={submit}>
        {mfaToken ? (
          <>
            <p>Enter the code from your authenticator app.</p>
            <Field label="Authentication code" name="otp" value={otp} onInput={setOtp} problem={problem} required />
          </>
        ) : (
          <>
            <Field label="Username" name="username" value={username} onInput={setUsername} problem={problem} required />
            <Field label="Password" name="password" type="password" value={password} onInput={setPassword} problem={problem} required />
          </>
        )}
        <Problems problem={problem} shown={["username", "password", "otp"]} />
        <button type="submit" disabled={busy}>
          {mfaToken ? "Verify code" : "Sign in"}
        </button>
      </form>
    </main>
  );
}

function App() {
  const [signedIn, setSignedIn] = useState(false);
  const [page, setPage] = useState<Page>("users");
  useEffect(() => whenSignedOut(() => setSignedIn(false)), []);
  if (!signedIn) return <SignIn onSignedIn={() => setSignedIn(true)} />;
  const View = pages[page].view;
  return (
    <>
      <header>
        <h1>gatehouse console</h1>
        <nav aria-label="Pages">
          {(Object.keys(pages) as Page[]).map((k) => (
            <button type="button" key={k} aria-current={k === page ? "page" : undefined} onClick={() => setPage(k)}>
              {pages[k].title}
            </button>
          ))}
        </nav>
        <button type="button" onClick={() => signOut()}>
          Sign out
        </button>
      </header>
      <main>
        <View key={page} />
      </main>
    </>
  );
}

render(<App />, document.getElementById("app")!);
