// The console in headless Chromium (Debian's, driven by playwright-core)
// against a live gatehouse; contract_test's TestConsoleInBrowser starts the
// server and passes CONSOLE_URL, CONSOLE_CHROMIUM and the administrator's
// credentials. Exits non-zero on the first failed step.
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

const url = process.env.CONSOLE_URL;
const admin = process.env.CONSOLE_ADMIN_USERNAME;
const adminPassword = process.env.CONSOLE_ADMIN_PASSWORD;
assert.ok(url && admin && adminPassword, "CONSOLE_URL, CONSOLE_ADMIN_USERNAME and CONSOLE_ADMIN_PASSWORD are required");

const browser = await chromium.launch({
  executablePath: process.env.CONSOLE_CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
});
const step = (s) => console.log(`console e2e: ${s}`);
try {
  const context = await browser.newContext();
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

  // Sign in with the keyboard alone: focus, type, Tab, type, Enter.
  await page.getByLabel("Username", { exact: true }).focus();
  await page.keyboard.type(admin);
  await page.keyboard.press("Tab");
  await page.keyboard.type(adminPassword);
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { name: "Users" }).waitFor();
  step("signed in as the administrator (keyboard only)");

  // Create a user and find it in the list.
  const username = `e2e-${Date.now()}`;
  await page.getByLabel("Username", { exact: true }).fill(username);
  await page.getByLabel("E-mail", { exact: true }).fill(`${username}@example.com`);
  await page.getByLabel("Password", { exact: true }).fill("e2e-user-password-1");
  await page.getByRole("button", { name: "Create user" }).click();
  await page.getByRole("status").filter({ hasText: `Created ${username}` }).waitFor();
  await page.getByLabel("Search users", { exact: true }).fill(username);
  await page.getByRole("button", { name: "Search", exact: true }).click();
  await page.getByRole("row").filter({ hasText: `${username}@example.com` }).waitFor();
  step(`created ${username} and found it in the list`);

  // A field error, in words, beside the field it names.
  await page.getByLabel("Username", { exact: true }).fill(`${username}-bad`);
  await page.getByLabel("E-mail", { exact: true }).fill("not-an-e-mail");
  await page.getByRole("button", { name: "Create user" }).click();
  const emailError = page.locator('.field-error[data-field="email"]');
  await emailError.waitFor();
  const text = (await emailError.textContent()).trim();
  assert.ok(text.length > 0, "the e-mail error has words");
  const email = page.getByLabel("E-mail", { exact: true });
  assert.equal(await email.getAttribute("aria-invalid"), "true");
  assert.equal(await email.getAttribute("aria-describedby"), await emailError.getAttribute("id"));
  // It sits in the e-mail field's own block, next to its input.
  assert.equal(await emailError.evaluate((el) => el.previousElementSibling?.getAttribute("name")), "email");
  step(`field error beside the e-mail field: "${text}"`);

  // Rotate a signing key.
  await page.getByRole("button", { name: "Signing keys", exact: true }).click();
  await page.getByRole("heading", { name: "Signing keys" }).waitFor();
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

  // The audit log, then one of its filters.
  await page.getByRole("button", { name: "Audit log", exact: true }).click();
  const events = page.getByRole("table", { name: "Audit events" }).locator("tbody tr");
  await events.first().waitFor();
  const action = (await events.first().locator("td").nth(1).textContent()).trim();
  await page.getByLabel("Action", { exact: true }).fill(action);
  await page.getByRole("button", { name: "Filter", exact: true }).click();
  await page.waitForFunction(
    (a) => [...document.querySelectorAll('table tbody tr td:nth-child(2)')].every((td) => td.textContent === a),
    action,
  );
  step(`audit log opened (${await events.count()} events), filtered by ${action}`);

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

  const violations = await page.evaluate(() => window.__violations);
  assert.deepEqual(violations, [], "CSP violations reported to the page");
  assert.deepEqual(problems, [], "CSP messages or page errors");
  step("no CSP violation, no page error");
} finally {
  await browser.close();
}
