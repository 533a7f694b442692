// The overview, the console's first page: the last 24 hours at a glance.
// Logins per hour, successes and failures apart, are counted from the
// audit log (GET /v1/audit-events, action login) and drawn as bars; the
// accounts and live sessions come from GET /v1/overview.
import { api, must } from "../api";
import { Page, Problems, Table, useLoad, when } from "../ui";

const HOUR = 3600e3;
const HOURS = 24;
// At most this many pages of the largest size are read: a day of more
// logins is counted in part, and the page says so.
const PAGE = 500;
const MOST_PAGES = 20;

/** Hour is one bar's hour: its start and its logins, by outcome. */
interface Hour {
  id: string;
  start: Date;
  hoursAgo: number;
  success: number;
  failure: number;
}

/** loginsPerHour counts the logins of the 24 hours before until, an hour a bar, the oldest first. */
async function loginsPerHour(until: Date): Promise<{ hours: Hour[]; partial: boolean }> {
  const since = new Date(until.getTime() - HOURS * HOUR);
  const hours: Hour[] = Array.from({ length: HOURS }, (_, i) => ({
    id: String(i),
    start: new Date(since.getTime() + i * HOUR),
    hoursAgo: HOURS - 1 - i,
    success: 0,
    failure: 0,
  }));
  let cursor: string | undefined;
  for (let n = 0; n < MOST_PAGES; n++) {
    const query = { action: "login", since: since.toISOString(), until: until.toISOString(), limit: PAGE, cursor };
    const page = await must(api.GET("/v1/audit-events", { params: { query } }));
    for (const ev of page.items) {
      const h = hours[Math.floor((new Date(ev.time).getTime() - since.getTime()) / HOUR)];
      if (h) h[ev.outcome]++;
    }
    cursor = page.next_cursor;
    if (!cursor) return { hours, partial: false };
  }
  return { hours, partial: true };
}

export function Overview() {
  const view = useLoad(async () => {
    const counts = await must(api.GET("/v1/overview"));
    return { counts, ...(await loginsPerHour(new Date(counts.time))) };
  }, []);
  const v = view.data;
  const total = (k: "success" | "failure") => v?.hours.reduce((n, h) => n + h[k], 0) ?? 0;
  return (
    <Page title="Overview">
      <Problems problem={view.problem} />
      {v && (
        <>
          <p>The last 24 hours, to {when(v.counts.time)}.</p>
          <dl class="figures">
            <Figure term="Successful logins" value={total("success")} />
            <Figure term="Failed logins" value={total("failure")} />
            <Figure term="Live sessions" value={v.counts.live_sessions} />
            <Figure term="Locked accounts" value={v.counts.locked_users} />
            <Figure term="Disabled accounts" value={v.counts.disabled_users} />
            <Figure term="Accounts" value={v.counts.users} />
          </dl>
          {v.partial && <p>Only the latest {(PAGE * MOST_PAGES).toLocaleString()} logins are counted.</p>}
          <Chart hours={v.hours} />
          <details>
            <summary>Logins per hour, as a table</summary>
            <Table
              of={{ data: { items: v.hours } }}
              caption="Logins per hour"
              columns={["Hour from", "Successful", "Failed"]}
              cells={(h) => [when(h.start.toISOString()), h.success, h.failure]}
            />
          </details>
        </>
      )}
    </Page>
  );
}

function Figure(p: { term: string; value: number }) {
  return (
    <div>
      <dt>{p.term}</dt>
      <dd data-figure={p.term}>{p.value}</dd>
    </div>
  );
}

// The chart's drawing box: the bars' area and the margins for the axes.
const W = 720;
const H = 180;
const LEFT = 32;
const TOP = 10;
const BOTTOM = 20;
const SLOT = (W - LEFT) / HOURS;
const BAR = SLOT * 0.4;

/** Chart draws an hour's successes and failures as two bars side by side, the newest hour at the right. */
function Chart(p: { hours: Hour[] }) {
  const most = Math.max(1, ...p.hours.map((h) => Math.max(h.success, h.failure)));
  const y = (n: number) => ((H - TOP - BOTTOM) * n) / most;
  const bar = (h: Hour, i: number, k: "success" | "failure") => (
    <rect
      class={`bar ${k}`}
      data-hours-ago={h.hoursAgo}
      data-outcome={k}
      data-count={h[k]}
      x={LEFT + i * SLOT + SLOT * 0.1 + (k === "failure" ? BAR : 0)}
      y={H - BOTTOM - y(h[k])}
      width={BAR}
      height={y(h[k])}
    >
      <title>{`${h.start.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}, an hour: ${h[k]} ${k === "success" ? "successful" : "failed"}`}</title>
    </rect>
  );
  return (
    <figure>
      <svg role="img" aria-labelledby="chart-title" viewBox={`0 0 ${W} ${H}`} class="chart">
        <title id="chart-title">Logins per hour over the last 24 hours, successful and failed</title>
        <line class="axis" x1={LEFT} y1={H - BOTTOM} x2={W} y2={H - BOTTOM} />
        {[0, most].map((n) => (
          <text key={n} class="tick" x={LEFT - 4} y={H - BOTTOM - y(n) + 4} text-anchor="end">
            {n}
          </text>
        ))}
        {[24, 18, 12, 6].map((ago) => (
          <text key={ago} class="tick" x={LEFT + (HOURS - ago) * SLOT} y={H - 4}>
            −{ago} h
          </text>
        ))}
        <text class="tick" x={W} y={H - 4} text-anchor="end">
          now
        </text>
        {p.hours.map((h, i) => (
          <g key={h.id}>
            {bar(h, i, "success")}
            {bar(h, i, "failure")}
          </g>
        ))}
      </svg>
      <figcaption>
        <span class="key success" /> successful <span class="key failure" /> failed
      </figcaption>
    </figure>
  );
}
