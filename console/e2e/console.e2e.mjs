// The console in headless Chromium (Debian's, driven by playwright-core)
// against a live gatehouse; contract_test's TestConsoleInBrowser starts the
// server and passes CONSOLE_URL, CONSOLE_CHROMIUM and the administrator's
// credentials. Exits non-zero on the first failed step.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
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
    // Not an administrator: the users page says so, in words.
    await mfaPage.getByRole("alert").filter({ hasText: "scope" }).waitFor();
    await mfaContext.close();
  }

  const violations = await page.evaluate(() => window.__violations);
  assert.deepEqual(violations, [], "CSP violations reported to the page");
  assert.deepEqual(problems, [], "CSP messages or page errors");
  step("no CSP violation, no page error");
} finally {
  await browser.close();
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
