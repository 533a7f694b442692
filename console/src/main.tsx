// The console's shell: sign-in, the navigation and the pages, one file
// each in pages/; where it is lives in the URL's fragment (route.ts).
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { signOut, whenSignedOut } from "./api";
import { ApiKeys } from "./pages/api-keys";
import { Applications } from "./pages/applications";
import { Audit } from "./pages/audit";
import { Overview } from "./pages/overview";
import { Roles } from "./pages/roles";
import { SignIn } from "./pages/signin";
import { SigningKeys } from "./pages/signing-keys";
import { Users } from "./pages/users";
import { Webhooks } from "./pages/webhooks";
import { go, useRoute } from "./route";
import "./style.css";

const pages: Record<string, { title: string; view: (p: { id?: string }) => preact.JSX.Element }> = {
  overview: { title: "Overview", view: Overview },
  users: { title: "Users", view: Users },
  roles: { title: "Roles", view: Roles },
  applications: { title: "Applications", view: Applications },
  "api-keys": { title: "API keys", view: ApiKeys },
  "signing-keys": { title: "Signing keys", view: SigningKeys },
  webhooks: { title: "Webhooks", view: Webhooks },
  audit: { title: "Audit log", view: Audit },
};
const first = "overview";

function App() {
  const [signedIn, setSignedIn] = useState(false);
  const route = useRoute();
  useEffect(() => whenSignedOut(() => setSignedIn(false)), []);
  if (!signedIn) return <SignIn onSignedIn={() => setSignedIn(true)} />;
  const page = pages[route.page] ? route.page : first;
  const View = pages[page].view;
  return (
    <>
      <header>
        <h1>gatehouse console</h1>
        <nav aria-label="Pages">
          {Object.keys(pages).map((k) => (
            <button type="button" key={k} aria-current={k === page ? "page" : undefined} onClick={() => go(k)}>
              {pages[k].title}
            </button>
          ))}
        </nav>
        <button type="button" onClick={() => signOut()}>
          Sign out
        </button>
      </header>
      <main>
        <View key={page} id={route.id} />
      </main>
    </>
  );
}

render(<App />, document.getElementById("app")!);
