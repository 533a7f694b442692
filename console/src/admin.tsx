// Roles, applications, API keys, signing keys and the audit log.
import { useState } from "preact/hooks";
import { api, must, type Problem, type Schemas } from "./api";
import { Check, Field, Notice, Outcome, Page, Problems, TextArea, useChange, useLoad, when } from "./ui";

const split = (s: string) => s.split(/[\s,]+/).filter(Boolean);

export function Roles() {
  const roles = useLoad(() => must(api.GET("/v1/roles")), []);
  const [name, setName] = useState("");
  const [code, setCode] = useState("");
  const [scopes, setScopes] = useState("");
  const [mfa, setMfa] = useState(false);
  const change = useChange();
  const { problem } = change;
  return (
    <Page title="Roles and scopes">
      <Problems problem={roles.problem} />
      <table>
        <caption>Roles</caption>
        <thead>
          <tr><th scope="col">Name</th><th scope="col">Code</th><th scope="col">Scopes</th><th scope="col">Second factor required</th><th scope="col">Actions</th></tr>
        </thead>
        <tbody>
          {roles.data?.items.map((r) => (
            <tr key={r.name}>
              <td>{r.name}</td>
              <td>{r.code}</td>
              <td>{r.scopes.join(" ")}</td>
              <td>{r.mfa_required ? "yes" : "no"}</td>
              <td>
                <button type="button" onClick={() => (setName(r.name), setCode(String(r.code)), setScopes(r.scopes.join(" ")), setMfa(r.mfa_required))}>
                  Edit {r.name}
                </button>
                <button type="button" class="danger" onClick={() => change.run(() => must(api.DELETE("/v1/roles/{name}", { params: { path: { name: r.name } } })), `Deleted the role ${r.name}.`).then(roles.reload)}>
                  Delete {r.name}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form
        aria-labelledby="role-form-h"
        onSubmit={async (e) => {
          e.preventDefault();
          const body = { code: Number(code), scopes: split(scopes), mfa_required: mfa };
          if (await change.run(() => must(api.PUT("/v1/roles/{name}", { params: { path: { name } }, body })), `Saved the role ${name}.`)) roles.reload();
        }}
      >
        <h3 id="role-form-h">Create or change a role</h3>
        <Field label="Role name" name="name" value={name} onInput={setName} problem={problem} required />
        <Field label="Code" name="code" type="number" value={code} onInput={setCode} problem={problem} required />
        <Field label="Scopes (separated by spaces)" name="scopes" value={scopes} onInput={setScopes} problem={problem} />
        <Check label="Second factor required" name="mfa_required" checked={mfa} onChange={setMfa} />
        <Outcome change={change} shown={["name", "code", "scopes"]} />
        <button type="submit">Save role</button>
      </form>
    </Page>
  );
}

export function Applications() {
  const apps = useLoad(() => must(api.GET("/v1/applications", { params: { query: { limit: 100 } } })), []);
  const [selected, setSelected] = useState<string | null>(null);
  const [created, setCreated] = useState(0);
  if (selected) return <Application id={selected} onClose={() => (setSelected(null), apps.reload())} />;
  return (
    <Page title="Applications">
      <Problems problem={apps.problem} />
      <table>
        <caption>Applications</caption>
        <thead>
          <tr><th scope="col">Name</th><th scope="col">Audience</th><th scope="col">Access token TTL (s)</th><th scope="col">Scopes</th><th scope="col">Default</th></tr>
        </thead>
        <tbody>
          {apps.data?.items.map((a) => (
            <tr key={a.id}>
              <td><button type="button" class="link" onClick={() => setSelected(a.id)}>{a.name}</button></td>
              <td>{a.audience}</td>
              <td>{a.access_token_ttl}</td>
              <td>{a.scopes.join(" ")}</td>
              <td>{a.is_default ? "yes" : "no"}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <AppForm
        key={created}
        title="Create an application"
        submit="Create application"
        save={async (body) => {
          await must(api.POST("/v1/applications", { body: { ...body, name: body.name ?? "" } }));
          setCreated(created + 1);
          apps.reload();
        }}
      />
    </Page>
  );
}

/** AppForm edits what POST and PATCH /v1/applications take; empty fields are left out. */
function AppForm(p: { app?: Schemas["Application"]; title: string; submit: string; save: (body: Schemas["ApplicationUpdate"]) => Promise<void> }) {
  const a = p.app;
  const [name, setName] = useState(a?.name ?? "");
  const [audience, setAudience] = useState(a?.audience ?? "");
  const [accessTTL, setAccessTTL] = useState(a ? String(a.access_token_ttl) : "");
  const [refreshTTL, setRefreshTTL] = useState(a ? String(a.refresh_token_ttl) : "");
  const [scopes, setScopes] = useState(a?.scopes.join(" ") ?? "");
  const change = useChange();
  const { problem } = change;
  const id = `app-form-${a?.id ?? "new"}`;
  return (
    <form
      aria-labelledby={id}
      onSubmit={async (e) => {
        e.preventDefault();
        const body: Schemas["ApplicationUpdate"] = {
          name: name || undefined,
          audience: audience || undefined,
          access_token_ttl: accessTTL ? Number(accessTTL) : undefined,
          refresh_token_ttl: refreshTTL ? Number(refreshTTL) : undefined,
          scopes: split(scopes),
        };
        change.run(() => p.save(body), "Saved.");
      }}
    >
      <h3 id={id}>{p.title}</h3>
      <Field label="Application name" name="name" value={name} onInput={setName} problem={problem} required />
      <Field label="Audience" name="audience" value={audience} onInput={setAudience} problem={problem} />
      <Field label="Access token TTL (seconds)" name="access_token_ttl" type="number" value={accessTTL} onInput={setAccessTTL} problem={problem} />
      <Field label="Refresh token TTL (seconds)" name="refresh_token_ttl" type="number" value={refreshTTL} onInput={setRefreshTTL} problem={problem} />
      <Field label="Client scopes (separated by spaces)" name="scopes" value={scopes} onInput={setScopes} problem={problem} />
      <Outcome change={change} shown={["name", "audience", "access_token_ttl", "refresh_token_ttl", "scopes"]} />
      <button type="submit">{p.submit}</button>
    </form>
  );
}

function Application(p: { id: string; onClose: () => void }) {
  const path = { params: { path: { id: p.id } } };
  const app = useLoad(() => must(api.GET("/v1/applications/{id}", path)), [p.id]);
  const members = useLoad(() => must(api.GET("/v1/applications/{id}/members", { params: { path: { id: p.id }, query: { limit: 100 } } })), [p.id]);
  const secrets = useLoad(() => must(api.GET("/v1/applications/{id}/secrets", path)), [p.id]);
  const [member, setMember] = useState("");
  const [secret, setSecret] = useState("");
  const change = useChange();
  const a = app.data;
  return (
    <Page title={`Application ${a?.name ?? ""}`}>
      <button type="button" onClick={p.onClose}>Back to applications</button>
      <Problems problem={app.problem ?? members.problem ?? secrets.problem} />
      {a && (
        <p>
          Id (the client_id): <code>{a.id}</code>
        </p>
      )}
      {a && (
        <AppForm
          app={a}
          title="Settings"
          submit="Save application"
          save={async (body) => {
            await must(api.PATCH("/v1/applications/{id}", { ...path, body }));
          }}
        />
      )}
      <JWKS id={p.id} />
      <h3>Members</h3>
      <ul aria-label="Members">
        {members.data?.items.map((u) => (
          <li key={u.id}>
            {u.username}{" "}
            <button type="button" onClick={() => change.run(() => must(api.DELETE("/v1/applications/{id}/members/{user_id}", { params: { path: { id: p.id, user_id: u.id } } })), `Removed ${u.username}.`).then(members.reload)}>
              Remove {u.username}
            </button>
          </li>
        ))}
      </ul>
      <form
        aria-label="Add a member"
        onSubmit={async (e) => {
          e.preventDefault();
          const add = async () => must(api.PUT("/v1/applications/{id}/members/{user_id}", { params: { path: { id: p.id, user_id: await userIDOf(member) } } }));
          if (await change.run(add, "Member added.")) {
            setMember("");
            members.reload();
          }
        }}
      >
        <Field label="Username or user id to add" name="user_id" value={member} onInput={setMember} problem={change.problem} required />
        <button type="submit">Add member</button>
      </form>
      <h3>Client secrets</h3>
      <ul aria-label="Client secrets">
        {secrets.data?.items.map((s) => (
          <li key={s.id}>
            created {when(s.created_at)}, expires {when(s.expires_at)}{" "}
            <button type="button" aria-label={`Delete secret ${s.id}`} onClick={() => change.run(() => must(api.DELETE("/v1/applications/{id}/secrets/{secret_id}", { params: { path: { id: p.id, secret_id: s.id } } })), "Secret deleted.").then(secrets.reload)}>
              Delete secret
            </button>
          </li>
        ))}
      </ul>
      <button
        type="button"
        onClick={async () => {
          setSecret("");
          if (await change.run(async () => setSecret((await must(api.POST("/v1/applications/{id}/secrets", { ...path, body: {} }))).secret))) secrets.reload();
        }}
      >
        Create a secret
      </button>
      {secret && <Notice>The new secret, shown this once: <code data-testid="new-secret">{secret}</code></Notice>}
      <Outcome change={change} shown={["user_id"]} />
      <h3>Delete</h3>
      <button
        type="button"
        class="danger"
        disabled={a?.is_default}
        onClick={async () => {
          if (confirm(`Delete the application ${a?.name}?`) && (await change.run(() => must(api.DELETE("/v1/applications/{id}", path))))) p.onClose();
        }}
      >
        Delete application
      </button>
      {a?.is_default && <p>The default application cannot be deleted.</p>}
    </Page>
  );
}

/** JWKS reads and replaces the application's public keys for private_key_jwt. */
function JWKS(p: { id: string }) {
  const path = { params: { path: { id: p.id } } };
  const [text, setText] = useState("");
  const change = useChange();
  const set = useLoad(async () => {
    const s = await must(api.GET("/v1/applications/{id}/jwks", path));
    setText(JSON.stringify(s, null, 2));
    return s;
  }, [p.id]);
  return (
    <form
      aria-labelledby="jwks-h"
      onSubmit={async (e) => {
        e.preventDefault();
        let body: Schemas["ClientJWKSet"];
        try {
          body = JSON.parse(text);
        } catch (err) {
          change.setProblem({ message: "The key set is not JSON.", fields: { keys: String(err) } });
          return;
        }
        if (await change.run(() => must(api.PUT("/v1/applications/{id}/jwks", { ...path, body })), `Saved: ${body.keys?.length ?? 0} key(s).`)) set.reload();
      }}
    >
      <h3 id="jwks-h">Public keys for private_key_jwt</h3>
      <Problems problem={set.problem} />
      <TextArea label="JWK Set (JSON)" name="keys" value={text} onInput={setText} problem={change.problem} rows={8} />
      <Outcome change={change} shown={["keys"]} />
      <button type="submit">Save keys</button>
    </form>
  );
}

export function ApiKeys() {
  const keys = useLoad(() => must(api.GET("/v1/api-keys", { params: { query: { limit: 100 } } })), []);
  const [name, setName] = useState("");
  const [created, setCreated] = useState("");
  const change = useChange();
  return (
    <Page title="Your API keys">
      <Problems problem={keys.problem} />
      <table>
        <caption>API keys</caption>
        <thead>
          <tr><th scope="col">Name</th><th scope="col">Hint</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col">Actions</th></tr>
        </thead>
        <tbody>
          {keys.data?.items.map((k) => (
            <tr key={k.id}>
              <td>{k.name}</td>
              <td>{k.key_hint}</td>
              <td>{when(k.created_at)}</td>
              <td>{when(k.last_used_at)}</td>
              <td>
                <button type="button" class="danger" onClick={() => change.run(() => must(api.DELETE("/v1/api-keys/{id}", { params: { path: { id: k.id } } })), `Deleted ${k.name}.`).then(keys.reload)}>
                  Delete {k.name}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form
        aria-labelledby="key-create-h"
        onSubmit={async (e) => {
          e.preventDefault();
          setCreated("");
          if (await change.run(async () => setCreated((await must(api.POST("/v1/api-keys", { body: { name } }))).key))) {
            setName("");
            keys.reload();
          }
        }}
      >
        <h3 id="key-create-h">Create an API key</h3>
        <Field label="Key name" name="name" value={name} onInput={setName} problem={change.problem} required />
        <Outcome change={change} shown={["name"]} />
        <button type="submit">Create API key</button>
      </form>
      {created && <Notice>The new key, shown this once: <code>{created}</code></Notice>}
    </Page>
  );
}

export function SigningKeys() {
  const keys = useLoad(() => must(api.GET("/v1/signing-keys")), []);
  const [immediate, setImmediate] = useState(false);
  const change = useChange();
  return (
    <Page title="Signing keys">
      <Problems problem={keys.problem} />
      <table>
        <caption>Signing keys</caption>
        <thead>
          <tr><th scope="col">Key id</th><th scope="col">Algorithm</th><th scope="col">Created</th><th scope="col">Active from</th><th scope="col">Retired</th></tr>
        </thead>
        <tbody>
          {keys.data?.items.map((k) => (
            <tr key={k.kid}>
              <td><code>{k.kid}</code></td>
              <td>{k.alg}</td>
              <td>{when(k.created_at)}</td>
              <td>{when(k.active_from)}</td>
              <td>{when(k.retired_at)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <Check label="Sign with the new key at once" name="immediate" checked={immediate} onChange={setImmediate} />
      <button
        type="button"
        onClick={async () => {
          const rotate = () => must(api.POST("/v1/signing-keys/rotate", { params: { query: { immediate } } }));
          if (await change.run(rotate, (k) => `Rotated: the new key is ${k.kid}.`)) keys.reload();
        }}
      >
        Rotate signing key
      </button>
      <Outcome change={change} />
    </Page>
  );
}

export function Audit() {
  const [actor, setActor] = useState("");
  const [subject, setSubject] = useState("");
  const [action, setAction] = useState("");
  const [since, setSince] = useState("");
  const [until, setUntil] = useState("");
  const [filter, setFilter] = useState<Record<string, string>>({});
  const [cursors, setCursors] = useState<string[]>([]);
  const [cursor, setCursor] = useState<string | undefined>();
  const iso = (s?: string) => (s ? new Date(s).toISOString() : undefined);
  const events = useLoad(
    () =>
      must(
        api.GET("/v1/audit-events", {
          params: {
            query: {
              limit: 50,
              cursor,
              actor_id: filter.actor || undefined,
              subject_id: filter.subject || undefined,
              action: filter.action || undefined,
              since: iso(filter.since),
              until: iso(filter.until),
            },
          },
        }),
      ),
    [filter, cursor],
  );
  return (
    <Page title="Audit log">
      <form
        aria-label="Filter the audit log"
        class="row"
        onSubmit={(e) => {
          e.preventDefault();
          setCursors([]);
          setCursor(undefined);
          setFilter({ actor, subject, action, since, until });
        }}
      >
        <Field label="Actor id" name="actor_id" value={actor} onInput={setActor} problem={events.problem} />
        <Field label="Subject id" name="subject_id" value={subject} onInput={setSubject} problem={events.problem} />
        <Field label="Action" name="action" value={action} onInput={setAction} problem={events.problem} placeholder="login" />
        <Field label="Since" name="since" type="datetime-local" value={since} onInput={setSince} problem={events.problem} />
        <Field label="Until" name="until" type="datetime-local" value={until} onInput={setUntil} problem={events.problem} />
        <button type="submit">Filter</button>
      </form>
      <Problems problem={events.problem} shown={["actor_id", "subject_id", "action", "since", "until"]} />
      <table>
        <caption>Audit events</caption>
        <thead>
          <tr><th scope="col">Time</th><th scope="col">Action</th><th scope="col">Outcome</th><th scope="col">Actor</th><th scope="col">Subject</th><th scope="col">IP</th><th scope="col">Detail</th></tr>
        </thead>
        <tbody>
          {events.data?.items.map((ev) => (
            <tr key={ev.id}>
              <td>{when(ev.time)}</td>
              <td>{ev.action}</td>
              <td>{ev.outcome}</td>
              <td>{ev.actor_id ?? "—"}</td>
              <td>{ev.subject_id ?? "—"}</td>
              <td>{ev.client_ip ?? ""}</td>
              <td>{ev.detail ?? ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div class="row">
        <button type="button" disabled={cursors.length === 0} onClick={() => (setCursor(cursors[cursors.length - 1] || undefined), setCursors(cursors.slice(0, -1)))}>
          Previous page
        </button>
        <button type="button" disabled={!events.data?.next_cursor} onClick={() => (setCursors([...cursors, cursor ?? ""]), setCursor(events.data?.next_cursor ?? undefined))}>
          Next page
        </button>
      </div>
    </Page>
  );
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** userIDOf is the id of the user named login (a username or e-mail, or an id as it is). */
async function userIDOf(login: string): Promise<string> {
  const name = login.trim();
  if (uuidPattern.test(name)) return name;
  const found = await must(api.GET("/v1/users", { params: { query: { q: name, limit: 100 } } }));
  const folded = name.toLowerCase();
  const u = found.items.find((u) => u.username.toLowerCase() === folded || u.email?.toLowerCase() === folded);
  if (!u) {
    const message = `no user is named ${name}`;
    throw { message, fields: { user_id: message } } satisfies Problem;
  }
  return u.id;
}
