// The audit log: filters by actor, subject, action and time; paging.
import { useState } from "preact/hooks";
import { api, must } from "../api";
import { Field, Form, Page, Table, useForm, useLoad, usePages, when } from "../ui";

type Filter = { actor_id: string; subject_id: string; action: string; since: string; until: string };
const none: Filter = { actor_id: "", subject_id: "", action: "", since: "", until: "" };

export function Audit() {
  const [filter, setFilter] = useState(none);
  const pages = usePages();
  const iso = (s?: string) => (s ? new Date(s).toISOString() : undefined);
  const events = useLoad(
    () =>
      must(
        api.GET("/v1/audit-events", {
          params: {
            query: {
              limit: 50,
              cursor: pages.cursor,
              actor_id: filter.actor_id || undefined,
              subject_id: filter.subject_id || undefined,
              action: filter.action || undefined,
              since: iso(filter.since),
              until: iso(filter.until),
            },
          },
        }),
      ),
    [filter, pages.cursor],
  );
  const form = useForm(none, events.problem);
  return (
    <Page title="Audit log">
      <Form form={form} label="Filter the audit log" class="row" submit="Filter" onSubmit={form.submit(async (v) => (pages.first(), setFilter(v)))}>
        <Field label="Actor id" {...form.field("actor_id")} />
        <Field label="Subject id" {...form.field("subject_id")} />
        <Field label="Action" {...form.field("action")} placeholder="login" />
        <Field label="Since" type="datetime-local" {...form.field("since")} />
        <Field label="Until" type="datetime-local" {...form.field("until")} />
      </Form>
      <Table of={{ data: events.data }} caption="Audit events" columns={["Time", "Action", "Outcome", "Actor", "Subject", "IP", "Detail"]}
        cells={(ev) => [when(ev.time), ev.action, ev.outcome, ev.actor_id ?? "—", ev.subject_id ?? "—", ev.client_ip ?? "", ev.detail ?? ""]}
      />
      {pages.controls(events.data?.next_cursor)}
    </Page>
  );
}
