// The console in headless Chromium (Debian's, driven by playwright-core)
// against a live gatehouse; contract_test's TestConsoleInBrowser starts the
// server, opens a session for the console to end, and passes CONSOLE_URL,
// CONSOLE_CHROMIUM, the administrator's credentials and the names below.
// README ("The console") lists the steps. Exits non-zero on the first
// failed step. With CONSOLE_SCREENSHOTS set to a folder it also writes
// console-overview.png, console-users.png and console-audit.png there
// (docs/ has them).
import assert from "node:assert/strict";
import { createHmac, generateKeyPairSync } from "node:crypto";
import { chromium } from "playwright-core";

const url = process.env.CONSOLE_URL;
const admin = process.env.CONSOLE_ADMIN_USERNAME;
const adminPassword = process.env.CONSOLE_ADMIN_PASSWORD;
// A user with a session for the console to end, and that session's user
// agent; the name of the user the console creates.
const sessionUser = process.env.CONSOLE_SESSION_USERNAME;
const sessionAgent = process.env.CONSOLE_SESSION_AGENT;
const newUser = process.env.CONSOLE_NEW_USERNAME || `e2e-${Date.now()}`;
// What the overview must show of the logins the Go test made (successes
// and failures by hours ago) and of its accounts and sessions, before the
// browser's own.
const plan = JSON.parse(process.env.CONSOLE_OVERVIEW || "null");
// When set, a folder the users page and the audit log are screenshot into.
const shots = process.env.CONSOLE_SCREENSHOTS;
assert.ok(url && admin && adminPassword && sessionUser && sessionAgent && plan, "CONSOLE_URL, CONSOLE_ADMIN_USERNAME, CONSOLE_ADMIN_PASSWORD, CONSOLE_SESSION_USERNAME, CONSOLE_SESSION_AGENT and CONSOLE_OVERVIEW are required");

const browser = await chromium.launch({
  executablePath: process.env.CONSOLE_CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
});
const step = (s) => console.log(`console e2e: ${s}`);
try {
  const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  const problems = [];
  page.on("console", (m) => {
    if (/Content.Security.Policy/i.test(m.text())) problems.push(`CSP: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  // Violations the page itself sees (the listener comes from the browser's
  // automation, not from an inline script, which the policy would refuse).
  await page.addInitScript(() => {
    window.__violations = [];
    document.addEventListener("securitypolicyviolation", (e) => window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });

  const resp = await page.goto(url);
  assert.equal(resp.status(), 200);
  assert.match(resp.headers()["content-security-policy"], /script-src 'self'/);
  step("page loaded with its CSP");

  // open goes to a page by its navigation button, from the keyboard, and
  // waits for its heading.
  const open = async (nav, heading) => {
    await page.getByRole("navigation", { name: "Pages" }).getByRole("button", { name: nav, exact: true }).focus();
    await page.keyboard.press("Enter");
    await focused(heading);
  };
  // focused waits for the page's heading to hold the focus, where the
  // keyboard goes on from.
  const focused = async (heading) => {
    await page.getByRole("heading", { name: heading, exact: true }).waitFor();
    await page.waitForFunction((h) => document.activeElement?.tagName === "H2" && document.activeElement.textContent === h, heading);
  };
  const findUser = async (name) => {
    await page.getByLabel("Search users", { exact: true }).fill(name);
    await page.getByRole("button", { name: "Search", exact: true }).click();
    await page.getByRole("button", { name, exact: true }).waitFor();
  };
  // fieldError waits for the API's error on field and checks that it
  // sits beside the field's control (labelled label), in words, wired
  // with aria-invalid and aria-describedby; it returns the words.
  const fieldError = async (field, label) => {
    const error = page.locator(`.field-error[data-field="${field}"]`);
    await error.waitFor();
    const words = (await error.textContent()).trim();
    assert.ok(words.length > 0, `the ${field} error has words`);
    const control = page.getByLabel(label, { exact: true });
    assert.equal(await control.getAttribute("aria-invalid"), "true");
    assert.equal(await control.getAttribute("aria-describedby"), await error.getAttribute("id"));
    assert.equal(await error.evaluate((el) => el.previousElementSibling?.getAttribute("name")), field);
    return words;
  };
  // fillAudit fills the audit log's filter and submits it.
  const fillAudit = async (filter) => {
    for (const [label, key] of [["Actor (username, application or id)", "actor"], ["Subject (username, application, role or id)", "subject"], ["Action", "action"], ["Since", "since"], ["Until", "until"]]) {
      await page.getByLabel(label, { exact: true }).fill(filter[key] ?? "");
    }
    await page.getByRole("button", { name: "Filter", exact: true }).click();
  };
  // audit filters the audit log and waits until every row shown matches
  // the filter (its actor and subject shown by name: the filter's own
  // text, or shows') and the actions in need are among them (as many
  // times).
  const audit = async (filter, need, shows = {}) => {
    await Promise.all([page.waitForResponse((r) => new URL(r.url()).pathname === "/v1/audit-events"), fillAudit(filter)]);
    const shown = { actor: shows.actor ?? filter.actor, subject: shows.subject ?? filter.subject };
    await page.waitForFunction(
      ([f, shown, need]) => {
        const rows = [...document.querySelectorAll("table tbody tr")].map((tr) => [...tr.cells].map((td) => td.textContent));
        const left = [...need];
        for (const [, action, , actor, subject, , detail] of rows) {
          if ((f.action && action !== f.action) || (shown.actor && actor !== shown.actor) || (shown.subject && subject !== shown.subject)) return false;
          // A need is an action, or "action | detail" for the detail too.
          const i = left.findIndex((n) => {
            const [a, d] = n.split(" | ");
            return a === action && (d === undefined || d === detail);
          });
          if (i >= 0) left.splice(i, 1);
        }
        return left.length === 0 && (need.length > 0 || rows.length === 0);
      },
      [filter, shown, need],
    );
  };
  // named is the link an audit row's actor or subject (column 3 or 4)
  // shows for name, in the first row.
  const named = (column, name) => page.getByRole("table", { name: "Audit events" }).locator("tbody tr").first().locator("td").nth(column).getByRole("link", { name, exact: true });

  await labelled(page, "the sign-in page");

  // A wrong password: the error, in words.
  await page.getByLabel("Username", { exact: true }).focus();
  await page.keyboard.type(admin);
  await page.keyboard.press("Tab");
  await page.keyboard.type("not-the-password");
  await page.keyboard.press("Enter");
  const refused = page.getByRole("alert");
  await refused.waitFor();
  const refusal = (await refused.textContent()).trim();
  assert.match(refusal, /password/i, "the refusal says what was wrong");
  step(`a wrong password is refused in words: "${refusal}"`);

  // Sign in with the keyboard alone: the password field, type, Enter.
  await page.getByLabel("Password", { exact: true }).focus();
  await page.keyboard.press("ControlOrMeta+a");
  await page.keyboard.type(adminPassword);
  await page.keyboard.press("Enter");
  await focused("Overview");
  step("signed in as the administrator (keyboard only), on the overview");

  // The overview: the Go test's logins and the browser's (the wrong
  // password and the sign-in, this hour), as figures and as bars, an
  // hour's successes and failures apart; its accounts and sessions, and
  // the browser's session.
  {
    const logins = { ...plan.logins, 0: { success: plan.logins[0].success + 1, failure: plan.logins[0].failure + 1 } };
    const sum = (k) => Object.values(logins).reduce((n, h) => n + h[k], 0);
    const figure = (term) => page.locator(`dd[data-figure="${term}"]`);
    await figure("Accounts").waitFor();
    const figures = {
      "Successful logins": sum("success"),
      "Failed logins": sum("failure"),
      "Live sessions": plan.live_sessions + 1,
      "Locked accounts": plan.locked,
      "Disabled accounts": plan.disabled,
      Accounts: plan.users,
    };
    for (const [term, want] of Object.entries(figures)) {
      assert.equal((await figure(term).textContent()).trim(), String(want), `the overview's ${term}`);
    }
    const bars = await page.locator("svg.chart rect.bar").evaluateAll((rs) =>
      rs.map((r) => ({ ago: Number(r.dataset.hoursAgo), outcome: r.dataset.outcome, count: Number(r.dataset.count), height: r.height.baseVal.value })),
    );
    assert.equal(bars.length, 48, "two bars an hour for 24 hours");
    const most = Math.max(...bars.map((b) => b.count));
    const tallest = Math.max(...bars.map((b) => b.height));
    for (const b of bars) {
      assert.equal(b.count, logins[b.ago]?.[b.outcome] ?? 0, `${b.outcome} logins ${b.ago} hours ago`);
      assert.ok(Math.abs(b.height - (tallest * b.count) / most) < 0.01, `the bar of ${b.outcome} logins ${b.ago} hours ago is ${b.height} high for ${b.count}, the tallest ${tallest} for ${most}`);
    }
    // The same counts as a table, for who cannot see the chart.
    await page.getByText("Logins per hour, as a table").click();
    const rows = await page.getByRole("table", { name: "Logins per hour" }).locator("tbody tr").evaluateAll((trs) => trs.map((tr) => [tr.cells[1].textContent, tr.cells[2].textContent]));
    assert.deepEqual(rows.reverse(), Array.from({ length: 24 }, (_, ago) => [String(logins[ago]?.success ?? 0), String(logins[ago]?.failure ?? 0)]));
    await labelled(page, "the overview");
    if (shots) await page.screenshot({ path: `${shots}/console-overview.png` });
    step(`overview: ${figures["Successful logins"]} successful and ${figures["Failed logins"]} failed logins in four hours' bars, ${figures["Live sessions"]} live sessions, ${plan.locked} locked, ${plan.disabled} disabled`);
  }

  // Roles: create one with scopes and a second factor required, change
  // it; create another and delete it.
  await open("Roles", "Roles and scopes");
  const saveRole = async (name, code, scopes, mfa) => {
    await page.getByLabel("Role name", { exact: true }).fill(name);
    await page.getByLabel("Code", { exact: true }).fill(code);
    await page.getByLabel("Scopes (separated by spaces)", { exact: true }).fill(scopes);
    await page.getByLabel("Second factor required", { exact: true }).setChecked(mfa);
    await page.getByRole("button", { name: "Save role" }).click();
    await page.getByRole("status").filter({ hasText: `Saved the role ${name}.` }).waitFor();
  };
  const roleRow = (name) => page.getByRole("table", { name: "Roles" }).getByRole("row").filter({ has: page.getByRole("cell", { name, exact: true }) });
  await saveRole("support", "7", "users:read audit:read", true);
  await roleRow("support").filter({ hasText: "users:read audit:read" }).filter({ hasText: "yes" }).waitFor();
  await page.getByRole("button", { name: "Edit support" }).click();
  await page.waitForFunction(() => document.querySelector('input[name="scopes"]').value === "users:read audit:read");
  await saveRole("support", "7", "users:read audit:read profile", true);
  await roleRow("support").filter({ hasText: "users:read audit:read profile" }).waitFor();
  await saveRole("scratch", "8", "profile", false);
  await roleRow("scratch").waitFor();
  await page.getByRole("button", { name: "Delete scratch" }).click();
  await roleRow("scratch").waitFor({ state: "detached" });
  await labelled(page, "the roles page");
  step("roles: created support (scopes, second factor required), changed it; created and deleted scratch");

  // Create a user and find it in the list.
  await open("Users", "Users");
  await labelled(page, "the users page");
  await page.getByLabel("Username", { exact: true }).fill(newUser);
  await page.getByLabel("E-mail", { exact: true }).fill(`${newUser}@example.com`);
  await page.getByLabel("Password", { exact: true }).fill("e2e-user-password-1");
  await page.getByRole("button", { name: "Create user" }).click();
  await page.getByRole("status").filter({ hasText: `Created ${newUser}` }).waitFor();
  await page.getByRole("row").filter({ hasText: `${newUser}@example.com` }).waitFor();
  if (shots) await page.screenshot({ path: `${shots}/console-users.png` });
  await findUser(newUser);
  await page.getByRole("row").filter({ hasText: `${newUser}@example.com` }).waitFor();
  step(`created ${newUser} and found it in the list`);

  // A field error, in words, beside the field it names.
  await page.getByLabel("Username", { exact: true }).fill(`${newUser}-bad`);
  await page.getByLabel("E-mail", { exact: true }).fill("not-an-e-mail");
  await page.getByRole("button", { name: "Create user" }).click();
  const emailError = await fieldError("email", "E-mail");
  step(`field error beside the e-mail field: "${emailError}"`);

  // Change the user's role (a drop-down of GET /v1/roles), then disable it.
  await page.getByRole("button", { name: newUser, exact: true }).click();
  await focused(`User ${newUser}`);
  const newUserID = (await page.getByTestId("user-id").textContent()).trim();
  await labelled(page, "a user's page");
  const role = page.getByLabel("Role", { exact: true });
  // The drop-down offers the roles GET /v1/roles lists, the new one too.
  await role.locator("option", { hasText: "support" }).waitFor({ state: "attached" });
  assert.ok((await role.locator("option").allTextContents()).includes("admin"), "the roles are offered");
  await role.selectOption("support");
  await page.getByRole("button", { name: "Save profile" }).click();
  await page.getByRole("status").filter({ hasText: "Saved." }).waitFor();
  await page.getByRole("definition").filter({ hasText: /^support$/ }).waitFor();
  step(`${newUser}'s role changed to support`);
  await page.getByRole("button", { name: "Disable user" }).focus();
  await page.keyboard.press("Space");
  await page.getByRole("status").filter({ hasText: "Disabled." }).waitFor();
  await page.getByTestId("user-state").filter({ hasText: "disabled" }).waitFor();
  await page.getByRole("button", { name: "Enable user" }).waitFor();
  await page.getByRole("button", { name: "Back to users" }).click();
  await page.getByRole("row").filter({ hasText: `${newUser}@example.com` }).filter({ hasText: "disabled" }).waitFor();
  step(`${newUser} disabled, and shown disabled`);

  // The role is held now: deleting it is refused, in words.
  await open("Roles", "Roles and scopes");
  await page.getByRole("button", { name: "Delete support" }).click();
  const held = (await page.getByRole("alert").textContent()).trim();
  assert.ok(held.length > 0);
  await roleRow("support").waitFor();
  step(`deleting a held role is refused: "${held}"`);

  // End a session of another user's from its page.
  await open("Users", "Users");
  await findUser(sessionUser);
  await page.getByRole("button", { name: sessionUser, exact: true }).click();
  const sessionUserID = (await page.getByTestId("user-id").textContent()).trim();
  const sessions = page.getByRole("table", { name: `Sessions of ${sessionUser}` }).locator("tbody tr");
  const session = sessions.filter({ hasText: sessionAgent });
  await session.waitFor();
  assert.equal(await sessions.count(), 1);
  await session.getByRole("button", { name: /^End session/ }).focus();
  await page.keyboard.press("Enter");
  await page.getByRole("status").filter({ hasText: "Session ended." }).waitFor();
  await session.waitFor({ state: "detached" });
  assert.equal(await sessions.count(), 0);
  step(`ended ${sessionUser}'s session from the users page`);

  // API keys: the key is shown once, works, and stops when deleted.
  await open("API keys", "Your API keys");
  await page.getByLabel("Key name", { exact: true }).fill("e2e-key");
  await page.getByRole("button", { name: "Create API key" }).click();
  const key = (await page.getByRole("status").filter({ hasText: "shown this once" }).locator("code").textContent()).trim();
  await page.getByRole("cell", { name: "e2e-key", exact: true }).waitFor();
  assert.ok(!(await page.getByRole("table", { name: "API keys" }).textContent()).includes(key), "the list shows a hint, not the key");
  const me = await fetch(new URL("/v1/me", url), { headers: { "X-API-Key": key } });
  assert.equal(me.status, 200, "GET /v1/me with the new key");
  assert.equal((await me.json()).username, admin);
  await labelled(page, "the API keys page");
  await page.getByRole("button", { name: "Delete e2e-key" }).click();
  await page.getByRole("cell", { name: "e2e-key", exact: true }).waitFor({ state: "detached" });
  assert.equal((await fetch(new URL("/v1/me", url), { headers: { "X-API-Key": key } })).status, 401, "the deleted key is refused");
  step("API key created (shown once, GET /v1/me works with it), deleted (then refused)");

  // Applications: create, edit (a field error first), public keys,
  // members, a secret that works until deleted, delete.
  await open("Applications", "Applications");
  await labelled(page, "the applications page");
  await page.getByLabel("Application name", { exact: true }).fill("e2e-app");
  await page.getByLabel("Audience", { exact: true }).fill("https://api.example.com");
  await page.getByLabel("Access token TTL (seconds)", { exact: true }).fill("600");
  await page.getByLabel("Client scopes (separated by spaces)", { exact: true }).fill("orders:read");
  await page.getByLabel("Redirect URIs (one a line)", { exact: true }).fill("https://app.example.com/cb\nhttp://127.0.0.1:8000/cb");
  await page.getByLabel("First party (no consent page)", { exact: true }).check();
  await page.getByRole("button", { name: "Create application" }).click();
  const appRow = page.getByRole("row").filter({ has: page.getByRole("button", { name: "e2e-app", exact: true }) });
  await appRow.filter({ hasText: "600" }).filter({ hasText: "orders:read" }).filter({ hasText: "public" }).waitFor();
  await page.getByRole("button", { name: "e2e-app", exact: true }).click();
  await focused("Application e2e-app");
  await labelled(page, "an application's page");
  await page.getByLabel("Access token TTL (seconds)", { exact: true }).fill("10");
  await page.getByRole("button", { name: "Save application" }).click();
  const ttlError = await fieldError("access_token_ttl", "Access token TTL (seconds)");
  await page.getByLabel("Access token TTL (seconds)", { exact: true }).fill("900");
  await page.getByLabel("Client scopes (separated by spaces)", { exact: true }).fill("orders:read orders:write");
  await page.getByRole("button", { name: "Save application" }).click();
  await page.getByRole("status").filter({ hasText: "Saved." }).waitFor();
  const edited = (await call("GET", "/v1/applications", await passwordToken(admin, adminPassword))).items.find((a) => a.name === "e2e-app");
  assert.deepEqual([edited.redirect_uris, edited.first_party, edited.client_type], [["https://app.example.com/cb", "http://127.0.0.1:8000/cb"], true, "public"]);
  step(`application e2e-app created (redirect URIs, first party), then edited (a TTL of 10 s first: "${ttlError}")`);

  await page.waitForFunction(() => document.querySelector('textarea[name="keys"]')?.value.includes('"keys"'));
  const jwk = { ...generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ format: "jwk" }), kid: "e2e-1", alg: "ES256" };
  await page.getByLabel("JWK Set (JSON)", { exact: true }).fill(JSON.stringify({ keys: [jwk] }));
  await page.getByRole("button", { name: "Save keys" }).click();
  await page.getByRole("status").filter({ hasText: "Saved: 1 key(s)." }).waitFor();
  await page.waitForFunction(() => document.querySelector('textarea[name="keys"]').value.includes('"kid": "e2e-1"'));
  step("the application's JWK Set put and read back");

  // A member is named by username; an unknown name is refused beside the field.
  const memberField = page.getByLabel("Username or user id to add", { exact: true });
  await memberField.fill("nobody-by-this-name");
  await page.getByRole("button", { name: "Add member" }).click();
  assert.equal(await fieldError("user_id", "Username or user id to add"), "no user is named nobody-by-this-name");
  await memberField.fill(newUser);
  await page.getByRole("button", { name: "Add member" }).click();
  const member = page.getByRole("list", { name: "Members" }).getByRole("listitem").filter({ hasText: newUser });
  await member.waitFor();
  await page.getByRole("button", { name: `Remove ${newUser}` }).click();
  await member.waitFor({ state: "detached" });
  step(`member ${newUser} added and removed`);

  await page.getByRole("button", { name: "Create a secret" }).click();
  const secret = (await page.getByTestId("new-secret").textContent()).trim();
  const appID = (await page.locator("p", { hasText: "client_id" }).locator("code").textContent()).trim();
  const secrets = page.getByRole("list", { name: "Client secrets" }).getByRole("listitem");
  await secrets.first().waitFor();
  assert.ok(!(await secrets.first().textContent()).includes(secret), "the list does not show the secret");
  assert.equal((await clientCredentials(appID, secret)).status, 200, "the new secret authenticates the application");
  await secrets.first().getByRole("button", { name: /^Delete secret/ }).click();
  await secrets.first().waitFor({ state: "detached" });
  assert.equal((await clientCredentials(appID, secret)).status, 401, "the deleted secret is refused");
  step("a client secret created (shown once, it authenticates), deleted (then refused)");

  page.once("dialog", (d) => d.accept());
  await page.getByRole("button", { name: "Delete application" }).click();
  await page.getByRole("heading", { name: "Applications", exact: true }).waitFor();
  await page.getByRole("button", { name: "e2e-app", exact: true }).waitFor({ state: "detached" });
  step("application e2e-app deleted");

  // Rotate a signing key.
  await open("Signing keys", "Signing keys");
  await labelled(page, "the signing keys page");
  const keyRows = page.getByRole("table", { name: "Signing keys" }).locator("tbody tr");
  await keyRows.first().waitFor();
  const before = await keyRows.count();
  await page.getByRole("button", { name: "Rotate signing key" }).click();
  const rotated = page.getByRole("status").filter({ hasText: "Rotated" });
  await rotated.waitFor();
  const kid = (await rotated.textContent()).replace(/.*the new key is (\S+)\./, "$1");
  await page.getByRole("cell", { name: kid }).waitFor();
  assert.equal(await keyRows.count(), before + 1);
  step(`rotated the signing key: ${kid}`);

  // Webhooks: a loopback URL is refused beside its field; an endpoint is
  // created (its secret shown once, never listed), its secret rotated (the
  // rotation, an event it hears, is among its deliveries), that delivery
  // retried, the endpoint deleted.
  await open("Webhooks", "Webhooks");
  await labelled(page, "the webhooks page");
  await page.getByLabel("Endpoint URL", { exact: true }).fill("http://localhost:9/hook");
  await page.getByLabel("Events (audit actions, separated by spaces)", { exact: true }).fill("webhook.secret_rotate user.create");
  await page.getByRole("button", { name: "Create endpoint" }).click();
  const urlError = await fieldError("url", "Endpoint URL");
  await page.getByLabel("Endpoint URL", { exact: true }).fill("https://93.184.215.14/e2e-hook");
  await page.getByRole("button", { name: "Create endpoint" }).click();
  const hookSecret = (await page.getByTestId("webhook-secret").textContent()).trim();
  assert.match(hookSecret, /^whsec_/);
  await page.getByRole("button", { name: "https://93.184.215.14/e2e-hook", exact: true }).waitFor();
  assert.ok(!(await page.getByRole("table", { name: "Webhook endpoints" }).textContent()).includes(hookSecret), "the list does not show the secret");
  await page.getByRole("button", { name: "https://93.184.215.14/e2e-hook", exact: true }).click();
  await focused("Webhook https://93.184.215.14/e2e-hook");
  await labelled(page, "a webhook's page");
  await page.getByRole("button", { name: "Rotate the secret" }).click();
  const rotatedSecret = (await page.getByTestId("webhook-secret").textContent()).trim();
  assert.notEqual(rotatedSecret, hookSecret);
  const delivery = page.getByRole("table", { name: "Deliveries" }).getByRole("row").filter({ hasText: "webhook.secret_rotate" }).filter({ hasText: "pending" });
  await delivery.waitFor();
  await delivery.getByRole("button", { name: /^Retry delivery/ }).click();
  await page.getByRole("status").filter({ hasText: "Delivery retried." }).waitFor();
  page.once("dialog", (d) => d.accept());
  await page.getByRole("button", { name: "Delete endpoint" }).click();
  await page.getByRole("heading", { name: "Webhooks", exact: true }).waitFor();
  await page.getByRole("button", { name: "https://93.184.215.14/e2e-hook", exact: true }).waitFor({ state: "detached" });
  step(`webhook endpoint created (secret shown once; a loopback URL first: "${urlError}"), its secret rotated, the rotation's delivery retried, the endpoint deleted`);

  // The audit log, then its filters find each of the changes above.
  await open("Audit log", "Audit log");
  const events = page.getByRole("table", { name: "Audit events" }).locator("tbody tr");
  await events.first().waitFor();
  await labelled(page, "the audit log");
  await events.first().getByRole("link", { name: admin, exact: true }).waitFor(); // the names are in
  if (shots) await page.screenshot({ path: `${shots}/console-audit.png` });
  const first = (await events.first().locator("td").nth(1).textContent()).trim();
  await audit({ action: first }, [first]);
  step(`audit log opened, filtered by ${first}`);
  await audit({ subject: newUser }, ["user.create", "user.update | role user -> support", "user.update | disabled"]);
  step(`audit log: ${newUser}'s creation, role change and disabling (by subject, a username)`);
  await audit({ subject: sessionUserID, action: "session.revoke" }, ["session.revoke"], { subject: sessionUser });
  step(`audit log: the end of ${sessionUser}'s session (by subject, an id shown as the username, and action)`);
  await audit({ action: "signing_key.rotate" }, ["signing_key.rotate"]);
  const adminToken = await passwordToken(admin, adminPassword);
  const adminID = (await call("GET", "/v1/me", adminToken)).id;
  await audit({ actor: admin, action: "role.put" }, ["role.put", "role.put", "role.put"]);
  await audit({ subject: "scratch", action: "role.delete" }, ["role.delete"]);
  step("audit log: the key rotation, the role changes and deletion (by actor, subject and action)");

  // Names link to their pages: the administrator's, and an application's
  // (one the API makes, with a secret, which the log names by id).
  const actorLink = named(3, admin);
  assert.equal(await actorLink.getAttribute("href"), `#/users/${adminID}`);
  await actorLink.focus();
  await page.keyboard.press("Enter");
  await focused(`User ${admin}`);
  assert.equal((await page.getByTestId("user-id").textContent()).trim(), adminID);
  await open("Audit log", "Audit log");
  const kept = await call("POST", "/v1/applications", adminToken, { name: "e2e-kept" });
  await call("POST", `/v1/applications/${kept.id}/secrets`, adminToken, {});
  await audit({ actor: admin, subject: "e2e-kept", action: "application_secret.create" }, ["application_secret.create"]);
  const appLink = named(4, "e2e-kept");
  assert.equal(await appLink.getAttribute("href"), `#/applications/${kept.id}`);
  await appLink.click();
  await focused("Application e2e-kept");
  await open("Audit log", "Audit log");
  step("audit log: names link to the user's and the application's pages");

  // An actor no user or application is named is refused beside the field.
  await fillAudit({ actor: "nobody-by-this-name" });
  assert.equal(await fieldError("actor_id", "Actor (username, application or id)"), "no user or application is named nobody-by-this-name");
  step("audit log: an unknown actor's name is refused beside the field");
  await audit({ action: "user.create", since: localTime(Date.now() + 3600e3) }, []);
  step("audit log: nothing since an hour from now (by time)");

  // Nothing in storage a script could read, and no cookie at all.
  const stored = await page.evaluate(() => ({
    local: localStorage.length,
    session: sessionStorage.length,
    cookie: document.cookie,
  }));
  assert.deepEqual(stored, { local: 0, session: 0, cookie: "" });
  assert.deepEqual(await context.cookies(), []);
  step("nothing in localStorage, sessionStorage or cookies");

  // Signing out revokes the refresh token.
  const [revoke] = await Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === "/oauth/revoke"),
    page.getByRole("button", { name: "Sign out" }).click(),
  ]);
  assert.equal(revoke.status(), 200, "the revocation succeeds");
  assert.equal(JSON.parse(revoke.request().postData()).token_type_hint, "refresh_token");
  await page.getByRole("button", { name: "Sign in" }).waitFor();
  step("signed out: the refresh token revoked");

  // The second factor: a user with TOTP signs in with a password, is asked
  // for the code, and is in with the mfa-otp grant.
  {
    const mfaUser = `e2e-mfa-${Date.now()}`;
    const mfaPassword = "e2e-mfa-password-1";
    const adminToken = await passwordToken(admin, adminPassword);
    await call("POST", "/v1/users", adminToken, { username: mfaUser, password: mfaPassword });
    const userToken = await passwordToken(mfaUser, mfaPassword);
    const { secret } = await call("POST", "/v1/me/mfa/totp", userToken);
    // The enrolment takes the previous step's code, so the sign-in's
    // (the current step's) is not a replay.
    await call("POST", "/v1/me/mfa/totp/confirm", userToken, { code: totp(secret, Date.now() - 30000) });

    const mfaContext = await browser.newContext();
    // The page's timers run on a clock the test moves, so the refresh
    // before expiry happens without waiting for it.
    await mfaContext.clock.install();
    const mfaPage = await mfaContext.newPage();
    mfaPage.setDefaultTimeout(15000);
    mfaPage.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    await mfaPage.goto(url);
    await mfaPage.getByLabel("Username", { exact: true }).fill(mfaUser);
    await mfaPage.getByLabel("Password", { exact: true }).fill(mfaPassword);
    await mfaPage.getByRole("button", { name: "Sign in" }).click();
    await labelled(mfaPage, "the code step of the sign-in");
    await mfaPage.getByLabel("Authentication code", { exact: true }).fill(totp(secret, Date.now()));
    const [grant] = await Promise.all([
      mfaPage.waitForResponse((r) => new URL(r.url()).pathname === "/oauth/token"),
      mfaPage.getByRole("button", { name: "Verify code" }).click(),
    ]);
    assert.equal(JSON.parse(grant.request().postData()).grant_type, "http://auth0.com/oauth/grant-type/mfa-otp");
    assert.equal(grant.status(), 200);
    await mfaPage.getByRole("button", { name: "Sign out" }).waitFor();
    step(`${mfaUser} signed in with the password, then the TOTP code`);

    // The console refreshes its token before the access token expires.
    const expiresIn = (await grant.json()).expires_in;
    const [refreshed] = await Promise.all([
      mfaPage.waitForResponse(
        (r) => new URL(r.url()).pathname === "/oauth/token" && JSON.parse(r.request().postData()).grant_type === "refresh_token",
      ),
      mfaPage.clock.runFor((expiresIn - 1) * 1000),
    ]);
    assert.equal(refreshed.status(), 200);
    step(`refreshed before the ${expiresIn}s access token expired`);
    // Not an administrator: the overview says so, in words.
    await mfaPage.getByRole("alert").filter({ hasText: "scope users:read" }).waitFor();
    await mfaContext.close();
  }

  const violations = await page.evaluate(() => window.__violations);
  assert.deepEqual(violations, [], "CSP violations reported to the page");
  assert.deepEqual(problems, [], "CSP messages or page errors");
  step("no CSP violation, no page error");
} finally {
  await browser.close();
}

// labelled fails unless every input, select, textarea and button on the
// page has an accessible name (aria-labelledby, aria-label, a label, or a
// button's text).
async function labelled(page, where) {
  const { count, unnamed } = await page.evaluate(() => {
    const text = (el) => (el?.textContent ?? "").trim();
    const name = (el) => {
      const by = el.getAttribute("aria-labelledby");
      if (by) return by.split(/\s+/).map((id) => text(document.getElementById(id))).join(" ").trim();
      if (el.getAttribute("aria-label")) return el.getAttribute("aria-label").trim();
      if (el.labels?.length) return [...el.labels].map(text).join(" ").trim();
      return el.tagName === "BUTTON" ? text(el) : "";
    };
    const controls = [...document.querySelectorAll("input, select, textarea, button")];
    return { count: controls.length, unnamed: controls.filter((el) => !name(el)).map((el) => el.outerHTML.slice(0, 160)) };
  });
  assert.ok(count > 0, `no controls on ${where}`);
  assert.deepEqual(unnamed, [], `controls without an accessible name on ${where}`);
}

// localTime is ms as a datetime-local input's value, in local time.
function localTime(ms) {
  const d = new Date(ms);
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

// clientCredentials asks for a token with the application's secret
// (client_secret_post).
function clientCredentials(clientID, secret) {
  return fetch(new URL("/oauth/token", url), {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "client_credentials", client_id: clientID, client_secret: secret }),
  });
}

// passwordToken and call reach the API directly, to set up what the
// browser then uses.
async function passwordToken(username, password) {
  const r = await fetch(new URL("/oauth/token", url), {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ grant_type: "password", username, password }),
  });
  assert.equal(r.status, 200, `password grant for ${username}`);
  return (await r.json()).access_token;
}

async function call(method, path, token, body) {
  const r = await fetch(new URL(path, url), {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  assert.ok(r.ok, `${method} ${path}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

// totp is RFC 6238's code (SHA-1, six digits, 30-second steps) at ms.
function totp(base32, ms) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of base32.replace(/=+$/, "").toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(ms / 1000 / 30)));
  const mac = createHmac("sha1", key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1000000).padStart(6, "0");
}
