// Users: search and paging, create and invite, edit, disable, passwords,
// the second factor, sessions.
import { useState } from "preact/hooks";
import { api, must, type Problem, type Schemas } from "./api";
import { Check, Field, Outcome, Page, Problems, Select, useChange, useLoad, when } from "./ui";

type User = Schemas["User"];
const PAGE = 20;

export function Users() {
  const [q, setQ] = useState("");
  const [search, setSearch] = useState("");
  const [cursors, setCursors] = useState<string[]>([]); // the cursors of the pages before
  const [cursor, setCursor] = useState<string | undefined>();
  const [selected, setSelected] = useState<string | null>(null);
  const list = useLoad(
    () => must(api.GET("/v1/users", { params: { query: { limit: PAGE, cursor, q: search || undefined } } })),
    [search, cursor],
  );
  if (selected) {
    return <UserDetail id={selected} onClose={() => (setSelected(null), list.reload())} />;
  }
  return (
    <Page title="Users">
      <form
        role="search"
        class="row"
        onSubmit={(e) => {
          e.preventDefault();
          setCursors([]);
          setCursor(undefined);
          setSearch(q);
        }}
      >
        <Field label="Search users" name="q" value={q} onInput={setQ} problem={list.problem} />
        <button type="submit">Search</button>
      </form>
      <Problems problem={list.problem} shown={["q"]} />
      <table>
        <caption>Users{search ? ` matching “${search}”` : ""}</caption>
        <thead>
          <tr>
            <th scope="col">Username</th>
            <th scope="col">E-mail</th>
            <th scope="col">Role</th>
            <th scope="col">State</th>
            <th scope="col">Second factor</th>
          </tr>
        </thead>
        <tbody>
          {list.data?.items.map((u) => (
            <tr key={u.id}>
              <td>
                <button type="button" class="link" onClick={() => setSelected(u.id)}>
                  {u.username}
                </button>
              </td>
              <td>{u.email ?? "—"}</td>
              <td>{u.role}</td>
              <td>{u.disabled ? "disabled" : "active"}</td>
              <td>{u.mfa_enabled ? "TOTP" : "none"}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div class="row">
        <button
          type="button"
          disabled={cursors.length === 0}
          onClick={() => {
            const before = cursors.slice(0, -1);
            setCursor(cursors[cursors.length - 1] || undefined);
            setCursors(before);
          }}
        >
          Previous page
        </button>
        <button
          type="button"
          disabled={!list.data?.next_cursor}
          onClick={() => {
            setCursors([...cursors, cursor ?? ""]);
            setCursor(list.data?.next_cursor ?? undefined);
          }}
        >
          Next page
        </button>
      </div>
      <CreateUser onCreated={list.reload} />
    </Page>
  );
}

function CreateUser(p: { onCreated: () => void }) {
  const [username, setUsername] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [role, setRole] = useState("user");
  const [invite, setInvite] = useState(false);
  const change = useChange();
  const { problem } = change;
  return (
    <form
      aria-labelledby="create-user-h"
      onSubmit={async (e) => {
        e.preventDefault();
        const ok = await change.run(
          () =>
            must(
            api.POST("/v1/users", {
              body: {
                username,
                email: email || undefined,
                password: password || undefined,
                role,
                invite: invite || undefined,
              },
            }),
          ),
          `Created ${username}${invite ? " and sent an invitation" : ""}.`,
        );
        if (ok) {
          setUsername("");
          setEmail("");
          setPassword("");
          p.onCreated();
        }
      }}
    >
      <h3 id="create-user-h">Create a user</h3>
      <Field label="Username" name="username" value={username} onInput={setUsername} problem={problem} required />
      <Field label="E-mail" name="email" value={email} onInput={setEmail} problem={problem} />
      <Field label="Password" name="password" type="password" value={password} onInput={setPassword} problem={problem} />
      <RoleSelect value={role} onChange={setRole} problem={problem} />
      <Check label="Invite by e-mail (no password)" name="invite" checked={invite} onChange={setInvite} />
      <Outcome change={change} shown={["username", "email", "password", "role"]} />
      <button type="submit">Create user</button>
    </form>
  );
}

function UserDetail(p: { id: string; onClose: () => void }) {
  const path = { params: { path: { id: p.id } } };
  const user = useLoad(() => must(api.GET("/v1/users/{id}", path)), [p.id]);
  const sessions = useLoad(() => must(api.GET("/v1/users/{id}/sessions", path)), [p.id]);
  const change = useChange();
  const run = async (what: string, f: () => Promise<unknown>) => {
    if (await change.run(f, what)) {
      user.reload();
      sessions.reload();
    }
  };
  const u = user.data;
  return (
    <Page title={`User ${u?.username ?? ""}`}>
      <button type="button" onClick={p.onClose}>
        Back to users
      </button>
      <Problems problem={user.problem} />
      {u && (
        <dl>
          <dt>Id</dt>
          <dd>
            <code data-testid="user-id">{u.id}</code>
          </dd>
          <dt>State</dt>
          <dd data-testid="user-state">{u.disabled ? "disabled" : "active"}</dd>
          <dt>Role</dt>
          <dd>{u.role}</dd>
          <dt>Second factor</dt>
          <dd>{u.mfa_enabled ? "TOTP" : "none"}</dd>
          <dt>Password expires</dt>
          <dd>{when(u.password_expires_at)}</dd>
        </dl>
      )}
      {u && <EditUser key={u.updated_at} user={u} onSaved={() => run("Saved.", async () => {})} />}
      <SetPassword id={p.id} />
      <h3>Account</h3>
      <div class="row">
        {u && (
          <button type="button" onClick={() => run(u.disabled ? "Enabled." : "Disabled.", () => must(api.PATCH("/v1/users/{id}", { ...path, body: { disabled: !u.disabled } })))}>
            {u.disabled ? "Enable user" : "Disable user"}
          </button>
        )}
        <button type="button" onClick={() => run("The password expires now.", () => must(api.PATCH("/v1/users/{id}", { ...path, body: { password_expires_at: new Date().toISOString() } })))}>
          Expire password now
        </button>
        <button type="button" onClick={() => run("Invitation sent.", () => must(api.POST("/v1/users/{id}/invite", path)))}>
          Send invitation
        </button>
        <button type="button" disabled={!u?.mfa_enabled} onClick={() => run("Second factor removed.", () => must(api.DELETE("/v1/users/{id}/mfa", path)))}>
          Remove second factor
        </button>
        <button
          type="button"
          class="danger"
          onClick={async () => {
            if (confirm(`Delete ${u?.username}?`) && (await change.run(() => must(api.DELETE("/v1/users/{id}", path))))) p.onClose();
          }}
        >
          Delete user
        </button>
      </div>
      <Outcome change={change} />
      <h3>Sessions</h3>
      <Problems problem={sessions.problem} />
      <table>
        <caption>Sessions of {u?.username}</caption>
        <thead>
          <tr>
            <th scope="col">Started</th>
            <th scope="col">Last used</th>
            <th scope="col">Expires</th>
            <th scope="col">IP</th>
            <th scope="col">User agent</th>
            <th scope="col">Signed in with</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {sessions.data?.items.map((s) => (
            <tr key={s.id}>
              <td>{when(s.created_at)}</td>
              <td>{when(s.last_used_at)}</td>
              <td>{when(s.expires_at)}</td>
              <td>{s.client_ip}</td>
              <td>{s.user_agent}</td>
              <td>{s.amr.join(", ")}</td>
              <td>
                <button
                  type="button"
                  aria-label={`End session ${s.id}`}
                  onClick={() => run("Session ended.", () => must(api.DELETE("/v1/users/{id}/sessions/{session_id}", { params: { path: { id: p.id, session_id: s.id } } })))}
                >
                  End session
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <button type="button" onClick={() => run("Every session ended.", () => must(api.DELETE("/v1/users/{id}/sessions", path)))}>
        End all sessions
      </button>
    </Page>
  );
}

function EditUser(p: { user: User; onSaved: () => void }) {
  const [email, setEmail] = useState(p.user.email ?? "");
  const [first, setFirst] = useState(p.user.first_name ?? "");
  const [last, setLast] = useState(p.user.last_name ?? "");
  const [role, setRole] = useState(p.user.role);
  const change = useChange();
  const { problem } = change;
  return (
    <form
      aria-labelledby="edit-user-h"
      onSubmit={async (e) => {
        e.preventDefault();
        const body: Schemas["UserUpdate"] = { first_name: first, last_name: last, role };
        if (email) body.email = email;
        if (await change.run(() => must(api.PATCH("/v1/users/{id}", { params: { path: { id: p.user.id } }, body })))) p.onSaved();
      }}
    >
      <h3 id="edit-user-h">Profile</h3>
      <Field label="E-mail" name="email" value={email} onInput={setEmail} problem={problem} />
      <Field label="First name" name="first_name" value={first} onInput={setFirst} problem={problem} />
      <Field label="Last name" name="last_name" value={last} onInput={setLast} problem={problem} />
      <RoleSelect value={role} onChange={setRole} problem={problem} />
      <Problems problem={problem} shown={["email", "first_name", "last_name", "role"]} />
      <button type="submit">Save profile</button>
    </form>
  );
}

function SetPassword(p: { id: string }) {
  const [pw, setPw] = useState("");
  const change = useChange();
  return (
    <form
      aria-labelledby="set-password-h"
      onSubmit={async (e) => {
        e.preventDefault();
        const set = () => must(api.POST("/v1/users/{id}/password", { params: { path: { id: p.id } }, body: { new_password: pw } }));
        if (await change.run(set, "Password set.")) setPw("");
      }}
    >
      <h3 id="set-password-h">Set a password</h3>
      <Field label="New password" name="new_password" type="password" value={pw} onInput={setPw} problem={change.problem} required />
      <Outcome change={change} shown={["new_password"]} />
      <button type="submit">Set password</button>
    </form>
  );
}

/** RoleSelect offers the roles GET /v1/roles lists. */
function RoleSelect(p: { value: string; onChange: (v: string) => void; problem: Problem | null }) {
  const roles = useLoad(() => must(api.GET("/v1/roles")), []);
  return (
    <>
      <Select label="Role" name="role" value={p.value} onChange={p.onChange} problem={p.problem} options={roles.data?.items.map((r) => r.name) ?? []} />
      <Problems problem={roles.problem} />
    </>
  );
}
