// Applications: create; an application's page: its settings, public keys,
// members, client secrets, deletion.
import { useState } from "preact/hooks";
import { api, must, type Schemas } from "../api";
import { userIDOf } from "../names";
import { go } from "../route";
import { Check, Field, Form, Notice, Outcome, Page, Problems, Select, split, Table, TextArea, useChange, useForm, useLoad, when } from "../ui";

/** Applications is the list, or the page of the application id. */
export function Applications(p: { id?: string }) {
  const apps = useLoad(() => must(api.GET("/v1/applications", { params: { query: { limit: 100 } } })), [p.id]);
  const [created, setCreated] = useState(0);
  if (p.id) return <Application id={p.id} onClose={() => go("applications")} />;
  return (
    <Page title="Applications">
      <Table of={apps} caption="Applications" columns={["Name", "Audience", "Access token TTL (s)", "Scopes", "Client type", "Default"]}
        cells={(a) => [
          <button type="button" class="link" onClick={() => go("applications", a.id)}>
            {a.name}
          </button>,
          a.audience,
          a.access_token_ttl,
          a.scopes.join(" "),
          a.client_type,
          a.is_default ? "yes" : "no",
        ]}
      />
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
  const form = useForm({
    name: a?.name ?? "",
    audience: a?.audience ?? "",
    access_token_ttl: a ? String(a.access_token_ttl) : "",
    refresh_token_ttl: a ? String(a.refresh_token_ttl) : "",
    scopes: a?.scopes.join(" ") ?? "",
    redirect_uris: a?.redirect_uris.join("\n") ?? "",
    post_logout_redirect_uris: a?.post_logout_redirect_uris.join("\n") ?? "",
    client_type: a?.client_type ?? "public",
    first_party: a?.first_party ?? false,
  });
  const lines = (s: string) => s.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  const number = (s: string) => (s ? Number(s) : undefined);
  const save = form.submit(
    (v) =>
      p.save({
        name: v.name || undefined,
        audience: v.audience || undefined,
        access_token_ttl: number(v.access_token_ttl),
        refresh_token_ttl: number(v.refresh_token_ttl),
        scopes: split(v.scopes),
        redirect_uris: lines(v.redirect_uris),
        post_logout_redirect_uris: lines(v.post_logout_redirect_uris),
        // Sent only when changed: credentials put since the form loaded
        // may have made the application confidential.
        client_type: v.client_type !== (a?.client_type ?? "public") ? (v.client_type as Schemas["ClientType"]) : undefined,
        first_party: v.first_party,
      }),
    "Saved.",
  );
  return (
    <Form form={form} title={p.title} submit={p.submit} onSubmit={save}>
      <Field label="Application name" {...form.field("name")} required />
      <Field label="Audience" {...form.field("audience")} />
      <Field label="Access token TTL (seconds)" type="number" {...form.field("access_token_ttl")} />
      <Field label="Refresh token TTL (seconds)" type="number" {...form.field("refresh_token_ttl")} />
      <Field label="Client scopes (separated by spaces)" {...form.field("scopes")} />
      <TextArea label="Redirect URIs (one a line)" {...form.field("redirect_uris")} rows={3} />
      <TextArea label="Post-logout redirect URIs (one a line)" {...form.field("post_logout_redirect_uris")} rows={2} />
      <Select label="Client type" name="client_type" value={form.values.client_type} onChange={(v) => form.set({ client_type: v })} problem={form.problem} options={["public", "confidential"]} />
      <Check label="First party (no consent page)" {...form.check("first_party")} />
    </Form>
  );
}

function Application(p: { id: string; onClose: () => void }) {
  const path = { params: { path: { id: p.id } } };
  const app = useLoad(() => must(api.GET("/v1/applications/{id}", path)), [p.id]);
  const members = useLoad(() => must(api.GET("/v1/applications/{id}/members", { params: { path: { id: p.id }, query: { limit: 100 } } })), [p.id]);
  const secrets = useLoad(() => must(api.GET("/v1/applications/{id}/secrets", path)), [p.id]);
  const [secret, setSecret] = useState("");
  const change = useChange();
  const member = useForm({ user_id: "" });
  const add = member.submit(
    async (v) => must(api.PUT("/v1/applications/{id}/members/{user_id}", { params: { path: { id: p.id, user_id: await userIDOf(v.user_id, "user_id") } } })),
    "Member added.",
    () => (member.set({ user_id: "" }), members.reload()),
  );
  const a = app.data;
  return (
    <Page title={`Application ${a?.name ?? ""}`}>
      <button type="button" onClick={p.onClose}>
        Back to applications
      </button>
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
      <Form form={member} label="Add a member" submit="Add member" onSubmit={add}>
        <Field label="Username or user id to add" {...member.field("user_id")} required />
      </Form>
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
      {secret && (
        <Notice>
          The new secret, shown this once: <code data-testid="new-secret">{secret}</code>
        </Notice>
      )}
      <Outcome change={change} />
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
  const form = useForm({ keys: "" });
  const set = useLoad(async () => {
    const s = await must(api.GET("/v1/applications/{id}/jwks", path));
    form.set({ keys: JSON.stringify(s, null, 2) });
    return s;
  }, [p.id]);
  const save = form.submit(
    async (v) => {
      let body: Schemas["ClientJWKSet"];
      try {
        body = JSON.parse(v.keys);
      } catch (err) {
        throw { message: "The key set is not JSON.", fields: { keys: String(err) } };
      }
      await must(api.PUT("/v1/applications/{id}/jwks", { ...path, body }));
      return body.keys?.length ?? 0;
    },
    (n) => `Saved: ${n} key(s).`,
    set.reload,
  );
  return (
    <Form form={form} title="Public keys for private_key_jwt" submit="Save keys" onSubmit={save}>
      <Problems problem={set.problem} />
      <TextArea label="JWK Set (JSON)" {...form.field("keys")} rows={8} />
    </Form>
  );
}
