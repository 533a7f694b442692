// Users: search and paging, create and invite; a user's page: edit,
// disable, passwords, the second factor, sessions.
import { useState } from "preact/hooks";
import { api, must, type Problem, type Schemas } from "../api";
import { go } from "../route";
import { Check, Field, Form, Outcome, Page, Problems, Select, Table, useChange, useForm, useLoad, usePages, when } from "../ui";

type User = Schemas["User"];
const PAGE = 20;

/** Users is the list, or the page of the user id. */
export function Users(p: { id?: string }) {
  const [search, setSearch] = useState("");
  const pages = usePages();
  const list = useLoad(
    () => must(api.GET("/v1/users", { params: { query: { limit: PAGE, cursor: pages.cursor, q: search || undefined } } })),
    [search, pages.cursor, p.id],
  );
  const form = useForm({ q: "" }, list.problem);
  if (p.id) return <UserDetail id={p.id} onClose={() => go("users")} />;
  return (
    <Page title="Users">
      <Form form={form} role="search" class="row" submit="Search" onSubmit={form.submit(async (v) => (pages.first(), setSearch(v.q)))}>
        <Field label="Search users" {...form.field("q")} />
      </Form>
      <Table of={{ data: list.data }} caption={`Users${search ? ` matching “${search}”` : ""}`} columns={["Username", "E-mail", "Role", "State", "Second factor"]}
        cells={(u) => [
          <button type="button" class="link" onClick={() => go("users", u.id)}>
            {u.username}
          </button>,
          u.email ?? "—",
          u.role,
          u.disabled ? "disabled" : "active",
          u.mfa_enabled ? "TOTP" : "none",
        ]}
      />
      {pages.controls(list.data?.next_cursor)}
      <CreateUser onCreated={list.reload} />
    </Page>
  );
}

function CreateUser(p: { onCreated: () => void }) {
  const form = useForm({ username: "", email: "", password: "", role: "user", invite: false });
  const { username, invite } = form.values;
  const create = form.submit(
    (v) => must(api.POST("/v1/users", { body: { username: v.username, email: v.email || undefined, password: v.password || undefined, role: v.role, invite: v.invite || undefined } })),
    `Created ${username}${invite ? " and sent an invitation" : ""}.`,
    () => (form.set({ username: "", email: "", password: "" }), p.onCreated()),
  );
  return (
    <Form form={form} title="Create a user" submit="Create user" onSubmit={create}>
      <Field label="Username" {...form.field("username")} required />
      <Field label="E-mail" {...form.field("email")} />
      <Field label="Password" type="password" {...form.field("password")} />
      <RoleSelect {...form.field("role")} />
      <Check label="Invite by e-mail (no password)" {...form.check("invite")} />
    </Form>
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
      <Table of={sessions} caption={`Sessions of ${u?.username ?? ""}`} columns={["Started", "Last used", "Expires", "IP", "User agent", "Signed in with", "Actions"]}
        cells={(s) => [
          when(s.created_at),
          when(s.last_used_at),
          when(s.expires_at),
          s.client_ip,
          s.user_agent,
          s.amr.join(", "),
          <button
            type="button"
            aria-label={`End session ${s.id}`}
            onClick={() => run("Session ended.", () => must(api.DELETE("/v1/users/{id}/sessions/{session_id}", { params: { path: { id: p.id, session_id: s.id } } })))}
          >
            End session
          </button>,
        ]}
      />
      <button type="button" onClick={() => run("Every session ended.", () => must(api.DELETE("/v1/users/{id}/sessions", path)))}>
        End all sessions
      </button>
    </Page>
  );
}

function EditUser(p: { user: User; onSaved: () => void }) {
  const u = p.user;
  const form = useForm({ email: u.email ?? "", first_name: u.first_name ?? "", last_name: u.last_name ?? "", role: u.role });
  const save = form.submit((v) => {
    const body: Schemas["UserUpdate"] = { first_name: v.first_name, last_name: v.last_name, role: v.role };
    if (v.email) body.email = v.email;
    return must(api.PATCH("/v1/users/{id}", { params: { path: { id: u.id } }, body }));
  }, "", p.onSaved);
  return (
    <Form form={form} title="Profile" submit="Save profile" onSubmit={save}>
      <Field label="E-mail" {...form.field("email")} />
      <Field label="First name" {...form.field("first_name")} />
      <Field label="Last name" {...form.field("last_name")} />
      <RoleSelect {...form.field("role")} />
    </Form>
  );
}

function SetPassword(p: { id: string }) {
  const form = useForm({ new_password: "" });
  const set = form.submit(
    (v) => must(api.POST("/v1/users/{id}/password", { params: { path: { id: p.id } }, body: { new_password: v.new_password } })),
    "Password set.",
    () => form.set({ new_password: "" }),
  );
  return (
    <Form form={form} title="Set a password" submit="Set password" onSubmit={set}>
      <Field label="New password" type="password" {...form.field("new_password")} required />
    </Form>
  );
}

/** RoleSelect offers the roles GET /v1/roles lists. */
function RoleSelect(p: { name: string; value: string; onInput: (v: string) => void; problem: Problem | null }) {
  const roles = useLoad(() => must(api.GET("/v1/roles")), []);
  return (
    <>
      <Select label="Role" name={p.name} value={p.value} onChange={p.onInput} problem={p.problem} options={roles.data?.items.map((r) => r.name) ?? []} />
      <Problems problem={roles.problem} />
    </>
  );
}
