// Webhooks: create (the secret shown once); an endpoint's page: its
// settings, secret rotation, deliveries (with a retry each), deletion.
import { useState } from "preact/hooks";
import { api, must, type Schemas } from "../api";
import { go } from "../route";
import { Check, Field, Form, Notice, Outcome, Page, Problems, split, Table, useChange, useForm, useLoad, when } from "../ui";

/** Webhooks is the list of endpoints, or the page of the endpoint id. */
export function Webhooks(p: { id?: string }) {
  const hooks = useLoad(() => must(api.GET("/v1/webhooks", { params: { query: { limit: 100 } } })), [p.id]);
  const [secret, setSecret] = useState("");
  const form = useForm({ url: "", events: "", description: "" });
  const create = form.submit(
    async (v) => {
      setSecret("");
      return (await must(api.POST("/v1/webhooks", { body: { url: v.url, events: split(v.events), description: v.description || undefined } }))).secret;
    },
    "Endpoint created.",
    (s) => (setSecret(s), form.set({ url: "", events: "", description: "" }), hooks.reload()),
  );
  if (p.id) return <Webhook id={p.id} onClose={() => go("webhooks")} />;
  return (
    <Page title="Webhooks">
      <Table of={hooks} caption="Webhook endpoints" columns={["URL", "Events", "Description", "Disabled", "Created"]}
        cells={(w) => [
          <button type="button" class="link" onClick={() => go("webhooks", w.id)}>
            {w.url}
          </button>,
          w.events.join(" "),
          w.description,
          w.disabled ? "yes" : "no",
          when(w.created_at),
        ]}
      />
      <Form form={form} title="Create an endpoint" submit="Create endpoint" onSubmit={create}>
        <Field label="Endpoint URL" {...form.field("url")} required />
        <Field label="Events (audit actions, separated by spaces)" {...form.field("events")} required />
        <Field label="Description" {...form.field("description")} />
      </Form>
      {secret && (
        <Notice>
          The endpoint's signing secret, shown this once: <code data-testid="webhook-secret">{secret}</code>
        </Notice>
      )}
    </Page>
  );
}

function Webhook(p: { id: string; onClose: () => void }) {
  const path = { params: { path: { id: p.id } } };
  const hook = useLoad(() => must(api.GET("/v1/webhooks/{id}", path)), [p.id]);
  const deliveries = useLoad(() => must(api.GET("/v1/webhooks/{id}/deliveries", { params: { path: { id: p.id }, query: { limit: 100 } } })), [p.id]);
  const [secret, setSecret] = useState<Schemas["WebhookSecret"] | null>(null);
  const change = useChange();
  const w = hook.data;
  return (
    <Page title={`Webhook ${w?.url ?? ""}`}>
      <button type="button" onClick={p.onClose}>
        Back to webhooks
      </button>
      <Problems problem={hook.problem} />
      {w && <Settings hook={w} saved={hook.reload} />}
      <h3>Signing secret</h3>
      {w?.previous_secret_expires_at && <p>The previous secret signs too until {when(w.previous_secret_expires_at)}.</p>}
      <button
        type="button"
        onClick={async () => {
          setSecret(null);
          if (await change.run(async () => setSecret(await must(api.POST("/v1/webhooks/{id}/secret", path))), "Secret rotated.")) (hook.reload(), deliveries.reload());
        }}
      >
        Rotate the secret
      </button>
      {secret && (
        <Notice>
          The new secret, shown this once: <code data-testid="webhook-secret">{secret.secret}</code> (the old one signs beside it until {when(secret.previous_secret_expires_at)})
        </Notice>
      )}
      <Table of={deliveries} caption="Deliveries" columns={["Event", "Delivery id", "State", "Attempts", "Last status", "Last error", "Next attempt", "Created", "Actions"]}
        cells={(d) => [
          d.event,
          <code>{d.id}</code>,
          d.state,
          d.attempts,
          d.last_status ?? "",
          d.last_error ?? "",
          when(d.next_attempt_at),
          when(d.created_at),
          <button type="button" aria-label={`Retry delivery ${d.id}`} onClick={() => change.run(() => must(api.POST("/v1/webhooks/{id}/deliveries/{delivery_id}/retry", { params: { path: { id: p.id, delivery_id: d.id } } })), "Delivery retried.").then(deliveries.reload)}>
            Retry
          </button>,
        ]}
      />
      <Outcome change={change} />
      <h3>Delete</h3>
      <button
        type="button"
        class="danger"
        onClick={async () => {
          if (confirm(`Delete the endpoint ${w?.url}?`) && (await change.run(() => must(api.DELETE("/v1/webhooks/{id}", path))))) p.onClose();
        }}
      >
        Delete endpoint
      </button>
    </Page>
  );
}

/** Settings changes an endpoint's URL, events, description and disabled flag. */
function Settings(p: { hook: Schemas["Webhook"]; saved: () => void }) {
  const w = p.hook;
  const form = useForm({ url: w.url, events: w.events.join(" "), description: w.description, disabled: w.disabled });
  const save = form.submit(
    (v) => must(api.PATCH("/v1/webhooks/{id}", { params: { path: { id: w.id } }, body: { url: v.url, events: split(v.events), description: v.description, disabled: v.disabled } })),
    "Saved.",
    p.saved,
  );
  return (
    <Form form={form} title="Settings" submit="Save endpoint" onSubmit={save}>
      <Field label="Endpoint URL" {...form.field("url")} required />
      <Field label="Events (audit actions, separated by spaces)" {...form.field("events")} required />
      <Field label="Description" {...form.field("description")} />
      <Check label="Disabled (nothing new is sent)" {...form.check("disabled")} />
    </Form>
  );
}
