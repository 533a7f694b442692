// Your API keys: create (the key shown once), delete.
import { useState } from "preact/hooks";
import { api, must } from "../api";
import { Field, Form, Notice, Outcome, Page, Table, useChange, useForm, useLoad, when } from "../ui";

export function ApiKeys() {
  const keys = useLoad(() => must(api.GET("/v1/api-keys", { params: { query: { limit: 100 } } })), []);
  const [created, setCreated] = useState("");
  const form = useForm({ name: "" });
  const deletion = useChange();
  const create = form.submit(
    async (v) => {
      setCreated("");
      return (await must(api.POST("/v1/api-keys", { body: { name: v.name } }))).key;
    },
    "",
    (key) => (setCreated(key), form.set({ name: "" }), keys.reload()),
  );
  return (
    <Page title="Your API keys">
      <Table of={keys} caption="API keys" columns={["Name", "Hint", "Created", "Last used", "Actions"]}
        cells={(k) => [
          k.name,
          k.key_hint,
          when(k.created_at),
          when(k.last_used_at),
          <button type="button" class="danger" onClick={() => deletion.run(() => must(api.DELETE("/v1/api-keys/{id}", { params: { path: { id: k.id } } })), `Deleted ${k.name}.`).then(keys.reload)}>
            Delete {k.name}
          </button>,
        ]}
      />
      <Outcome change={deletion} />
      <Form form={form} title="Create an API key" submit="Create API key" onSubmit={create}>
        <Field label="Key name" {...form.field("name")} required />
      </Form>
      {created && (
        <Notice>
          The new key, shown this once: <code>{created}</code>
        </Notice>
      )}
    </Page>
  );
}
