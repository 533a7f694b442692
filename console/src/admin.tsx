// Roles, applications, API keys, signing keys and the audit log.
import { useState } from "preact/hooks";
import { api, must, type Problem } from "./api";
import { Check, Field, Notice, Problems, act, useLoad, when } from "./ui";

const split = (s: string) => s.split(/[\s,]+/).filter(Boolean);

export function Roles() {
  const roles = useLoad(() => must(api.GET("/v1/roles")), []);
  const [name, setName] = useState("");
  const [code, setCode] = useState("");
  const [scopes, setScopes] = useState("");
  const [mfa, setMfa] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  return (
    <section aria-labelledby="roles-h">
      <h2 id="roles-h">Roles and scopes</h2>
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
                <button type="button" class="danger" onClick={() => act(setProblem, () => must(api.DELETE("/v1/roles/{name}", { params: { path: { name: r.name } } }))).then(roles.reload)}>
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
          if (await act(setProblem, () => must(api.PUT("/v1/roles/{name}", { params: { path: { name } }, body })))) roles.reload();
        }}
      >
        <h3 id="role-form-h">Create or change a role</h3>
        <Field label="Role name" name="name" value={name} onInput={setName} problem={problem} required />
        <Field label="Code" name="code" type="number" value={code} onInput={setCode} problem={problem} required />
        <Field label="Scopes (separated by spaces)" name="scopes" value={scopes} onInput={setScopes} problem={problem} />
        <Check label="Second factor required" name="mfa_required" checked={mfa} onChange={setMfa} />
        <Problems problem={problem} shown={["name", "code", "scopes"]} />
        <button type="submit">Save role</button>
      </form>
    </section>
  );
}

export function Applications() {
  const apps = useLoad(() => must(api.GET("/v1/applications", { params: { query: { limit: 100 } } })), []);
  const [selected, setSelected] = useState<string | null>(null);
  const [name, setName] = useState("");
  const [audience, setAudience] = useState("");
  const [problem, setProblem] = useState<Problem | null>(null);
  if (selected) return <Application id={selected} onClose={() => (setSelected(null), apps.reload())} />;
  return (
    <section aria-labelledby="apps-h">
      <h2 id="apps-h">Applications</h2>
      <Problems problem={apps.problem} />
      <table>
        <caption>Applications</caption>
        <thead>
          <tr><th scope="col">Name</th><th scope="col">Audience</th><th scope="col">Access token TTL (s)</th><th scope="col">Default</th></tr>
        </thead>
        <tbody>
          {apps.data?.items.map((a) => (
            <tr key={a.id}>
              <td><button type="button" class="link" onClick={() => setSelected(a.id)}>{a.name}</button></td>
              <td>{a.audience}</td>
              <td>{a.access_token_ttl}</td>
              <td>{a.is_default ? "yes" : "no"}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <form
        aria-labelledby="app-create-h"
        onSubmit={async (e) => {
          e.preventDefault();
          if (await act(setProblem, () => must(api.POST("/v1/applications", { body: { name, audience: audience || undefined } })))) {
            setName("");
            setAudience("");
            apps.reload();
          }
        }}
      >
        <h3 id="app-create-h">Create an application</h3>
        <Field label="Application name" name="name" value={name} onInput={setName} problem={problem} required />
        <Field label="Audience" name="audience" value={audience} onInput={setAudience} problem={problem} />
        <Problems problem={problem} shown={["name", "audience"]} />
        <button type="submit">Create application</button>
      </form>
    </section>
  );
}

function Application(p: { id: string; onClose: () => void }) {
  const path = { params: { path: { id: p.id } } };
  const app = useLoad(() => must(api.GET("/v1/applications/{id}", path)), [p.id]);
  const members = useLoad(() => must(api.GET("/v1/applications/{id}/members", { params: { path: { id: p.id }, query: { limit: 100 } } })), [p.id]);
  const secrets = useLoad(() => must(api.GET("/v1/applications/{id}/secrets", path)), [p.id]);
  const [userID, setUserID] = useState("");
  const [secret, setSecret] = useState("");
  const [problem, setProblem] = useState<Problem | null>(null);
  return (
    <section aria-labelledby="app-h">
      <h2 id="app-h">Application {app.data?.name}</h2>
      <button type="button" onClick={p.onClose}>Back to applications</button>
      <Problems problem={app.problem ?? members.problem ?? secrets.problem} />
      <p>Audience: {app.data?.audience}</p>
      <h3>Members</h3>
      <ul>
        {members.data?.items.map((u) => (
          <li key={u.id}>
            {u.username}{" "}
            <button type="button" onClick={() => act(setProblem, () => must(api.DELETE("/v1/applications/{id}/members/{user_id}", { params: { path: { id: p.id, user_id: u.id } } }))).then(members.reload)}>
              Remove {u.username}
            </button>
          </li>
        ))}
      </ul>
      <form
        aria-label="Add a member"
        onSubmit={async (e) => {
          e.preventDefault();
          if (await act(setProblem, () => must(api.PUT("/v1/applications/{id}/members/{user_id}", { params: { path: { id: p.id, user_id: userID } } })))) {
            setUserID("");
            members.reload();
          }
        }}
      >
        <Field label="User id to add" name="user_id" value={userID} onInput={setUserID} problem={problem} required />
        <button type="submit">Add member</button>
      </form>
      <h3>Client secrets</h3>
      <ul>
        {secrets.data?.items.map((s) => (
          <li key={s.id}>
            created {when(s.created_at)}, expires {when(s.expires_at)}{" "}
            <button type="button" onClick={() => act(setProblem, () => must(api.DELETE("/v1/applications/{id}/secrets/{secret_id}", { params: { path: { id: p.id, secret_id: s.id } } }))).then(secrets.reload)}>
              Delete secret
            </button>
          </li>
        ))}
      </ul>
      <button
        type="button"
        onClick={async () => {
          try {
            const s = await must(api.POST("/v1/applications/{id}/secrets", { ...path, body: {} }));
            setSecret(s.secret);
            setProblem(null);
            secrets.reload();
          } catch (e) {
            setProblem(e as Problem);
          }
        }}
      >
        Create a secret
      </button>
      {secret && <Notice>The new secret, shown this once: <code>{secret}</code></Notice>}
      <Problems problem={problem} shown={["user_id"]} />
    </section>
  );
}

export function ApiKeys() {
  const keys = useLoad(() => must(api.GET("/v1/api-keys", { params: { query: { limit: 100 } } })), []);
  const [name, setName] = useState("");
  const [created, setCreated] = useState("");
  const [problem, setProblem] = useState<Problem | null>(null);
  return (
    <section aria-labelledby="keys-h">
      <h2 id="keys-h">Your API keys</h2>
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
                <button type="button" class="danger" onClick={() => act(setProblem, () => must(api.DELETE("/v1/api-keys/{id}", { params: { path: { id: k.id } } }))).then(keys.reload)}>
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
          try {
            const k = await must(api.POST("/v1/api-keys", { body: { name } }));
            setCreated(k.key);
            setName("");
            setProblem(null);
            keys.reload();
          } catch (err) {
            setProblem(err as Problem);
          }
        }}
      >
        <h3 id="key-create-h">Create an API key</h3>
        <Field label="Key name" name="name" value={name} onInput={setName} problem={problem} required />
        <Problems problem={problem} shown={["name"]} />
        <button type="submit">Create API key</button>
      </form>
      {created && <Notice>The new key, shown this once: <code>{created}</code></Notice>}
    </section>
  );
}

export function SigningKeys() {
  const keys = useLoad(() => must(api.GET("/v1/signing-keys")), []);
  const [immediate, setImmediate] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [done, setDone] = useState("");
  return (
    <section aria-labelledby="sk-h">
      <h2 id="sk-h">Signing keys</h2>
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
          setDone("");
          try {
            const k = await must(api.POST("/v1/signing-keys/rotate", { params: { query: { immediate } } }));
            setDone(`Rotated: the new key is ${k.kid}.`);
            setProblem(null);
            keys.reload();
          } catch (e) {
            setProblem(e as Problem);
          }
        }}
      >
        Rotate signing key
      </button>
      <Problems problem={problem} />
      {done && <Notice>{done}</Notice>}
    </section>
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
    <section aria-labelledby="audit-h">
      <h2 id="audit-h">Audit log</h2>
      <form
        aria-label="Filter the audit log"
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
    </section>
  );
}
