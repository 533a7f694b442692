// The audit log: filters by actor and subject (a username, an
// application's name or an id), action and time; the actors and subjects
// shown by name, each a link to its page; paging.
import { useState } from "preact/hooks";
import { api, must } from "../api";
import { idOf, type Named, useNames } from "../names";
import { href } from "../route";
import { Field, Form, Page, Table, useForm, useLoad, usePages, when } from "../ui";

type Query = { actor_id?: string; subject_id?: string; action?: string; since?: string; until?: string };

/** Who is an actor or subject: its name as a link to its page, or the id as it is. */
function Who(p: { id?: string; names: Map<string, Named | null> }) {
  if (!p.id) return <>—</>;
  const n = p.names.get(p.id);
  return n ? <a href={href(n.page, p.id)}>{n.name}</a> : <>{p.id}</>;
}

export function Audit() {
  const [query, setQuery] = useState<Query>({});
  const pages = usePages();
  const events = useLoad(() => must(api.GET("/v1/audit-events", { params: { query: { limit: 50, cursor: pages.cursor, ...query } } })), [query, pages.cursor]);
  const items = events.data?.items ?? [];
  const names = useNames(items.flatMap((ev) => [ev.actor_id, ev.subject_id]));
  const form = useForm({ actor_id: "", subject_id: "", action: "", since: "", until: "" }, events.problem);
  const iso = (s: string) => (s ? new Date(s).toISOString() : undefined);
  const filter = form.submit(async (v) => {
    // An actor is a user or an application; a subject may also be a
    // role's name or a key's id, taken as it is.
    const [actor_id, subject_id] = await Promise.all([idOf(v.actor_id, "actor_id", false), idOf(v.subject_id, "subject_id", true)]);
    pages.first();
    setQuery({ actor_id, subject_id, action: v.action || undefined, since: iso(v.since), until: iso(v.until) });
  });
  return (
    <Page title="Audit log">
      <Form form={form} label="Filter the audit log" class="row" submit="Filter" onSubmit={filter}>
        <Field label="Actor (username, application or id)" {...form.field("actor_id")} />
        <Field label="Subject (username, application, role or id)" {...form.field("subject_id")} />
        <Field label="Action" {...form.field("action")} placeholder="login" />
        <Field label="Since" type="datetime-local" {...form.field("since")} />
        <Field label="Until" type="datetime-local" {...form.field("until")} />
      </Form>
      <Table of={{ data: events.data }} caption="Audit events" columns={["Time", "Action", "Outcome", "Actor", "Subject", "IP", "Detail"]}
        cells={(ev) => [when(ev.time), ev.action, ev.outcome, <Who id={ev.actor_id} names={names} />, <Who id={ev.subject_id} names={names} />, ev.client_ip ?? "", ev.detail ?? ""]}
      />
      {pages.controls(events.data?.next_cursor)}
    </Page>
  );
}
