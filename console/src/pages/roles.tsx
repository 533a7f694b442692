// Roles and the scopes they grant: create, change, delete.
import { api, must } from "../api";
import { Check, Field, Form, Outcome, Page, split, Table, useChange, useForm, useLoad } from "../ui";

export function Roles() {
  const roles = useLoad(() => must(api.GET("/v1/roles")), []);
  const form = useForm({ name: "", code: "", scopes: "", mfa_required: false });
  const deletion = useChange();
  const save = form.submit(
    (v) => must(api.PUT("/v1/roles/{name}", { params: { path: { name: v.name } }, body: { code: Number(v.code), scopes: split(v.scopes), mfa_required: v.mfa_required } })),
    `Saved the role ${form.values.name}.`,
    roles.reload,
  );
  return (
    <Page title="Roles and scopes">
      <Table of={roles} caption="Roles" columns={["Name", "Code", "Scopes", "Second factor required", "Actions"]} rowKey={(r) => r.name}
        cells={(r) => [
          r.name,
          r.code,
          r.scopes.join(" "),
          r.mfa_required ? "yes" : "no",
          <>
            <button type="button" onClick={() => form.set({ name: r.name, code: String(r.code), scopes: r.scopes.join(" "), mfa_required: r.mfa_required })}>
              Edit {r.name}
            </button>
            <button type="button" class="danger" onClick={() => deletion.run(() => must(api.DELETE("/v1/roles/{name}", { params: { path: { name: r.name } } })), `Deleted the role ${r.name}.`).then(roles.reload)}>
              Delete {r.name}
            </button>
          </>,
        ]}
      />
      <Outcome change={deletion} />
      <Form form={form} title="Create or change a role" submit="Save role" onSubmit={save}>
        <Field label="Role name" {...form.field("name")} required />
        <Field label="Code" type="number" {...form.field("code")} required />
        <Field label="Scopes (separated by spaces)" {...form.field("scopes")} />
        <Check label="Second factor required" {...form.check("mfa_required")} />
      </Form>
    </Page>
  );
}
