// Sign-in: a password, then a TOTP code when the server asks for one.
import { useState } from "preact/hooks";
import { signIn, signInOTP } from "../api";
import { Field, Form, useForm } from "../ui";

export function SignIn(p: { onSignedIn: () => void }) {
  const [mfaToken, setMfaToken] = useState<string | null>(null);
  const form = useForm({ username: "", password: "", otp: "" });
  const submit = form.submit(
    async (v) => {
      if (mfaToken) {
        await signInOTP(mfaToken, v.otp);
        return true;
      }
      const r = await signIn(v.username, v.password);
      if (!r.ok) setMfaToken(r.mfaToken);
      return r.ok;
    },
    "",
    (signedIn) => signedIn && p.onSignedIn(),
  );
  return (
    <main class="signin">
      <h1>gatehouse console</h1>
      <Form form={form} label="Sign in" onSubmit={submit} submit={mfaToken ? "Verify code" : "Sign in"}>
        {mfaToken ? (
          <>
            <p>Enter the code from your authenticator app.</p>
            <Field label="Authentication code" {...form.field("otp")} required />
          </>
        ) : (
          <>
            <Field label="Username" {...form.field("username")} required />
            <Field label="Password" type="password" {...form.field("password")} required />
          </>
        )}
      </Form>
    </main>
  );
}
