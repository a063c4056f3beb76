// End-to-end test of the web console: a real control plane (bin/createos-sandbox serve) with real VMs, driven by
// Debian's Chromium through playwright-core. Screenshots of every page go to build/console-screenshots/.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, readFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
const home = path.resolve(here, "../..");
const dataDir = process.env.CREATEOS_SANDBOX_DATA_DIR ?? "/var/lib/createos-sandbox";
const shots = path.join(home, "build", "console-screenshots");
mkdirSync(shots, { recursive: true });
const VM_TIMEOUT = 180_000; // boots under TCG on a loaded 2-core box

async function freePort() {
  const s = net.createServer().listen(0, "127.0.0.1");
  await once(s, "listening");
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

async function startServer() {
  const port = await freePort();
  const child = spawn(path.join(home, "bin/createos-sandbox"), ["--data-dir", dataDir, "serve", "--listen", `127.0.0.1:${port}`], {
    // No host network (its nft instance belongs to the other suites) and no ingress listener: the console needs neither.
    env: { ...process.env, CREATEOS_SANDBOX_NETWORK: "off", CREATEOS_SANDBOX_INGRESS_LISTEN: "off" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stdout.on("data", (d) => { log += d; });
  child.stderr.on("data", (d) => { log += d; });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 240_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`serve exited with ${child.exitCode}:\n${log}`);
    try { if ((await fetch(`${base}/healthz`)).ok) break; } catch { /* not yet */ }
    if (Date.now() > deadline) throw new Error(`serve did not answer /healthz in time:\n${log}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  const creds = readFileSync(path.join(dataDir, "credentials.env"), "utf8");
  const key = creds.match(/^CREATEOS_SANDBOX_API_KEY=(.+)$/m)?.[1]?.replace(/^['"]|['"]$/g, "");
  assert.ok(key, "credentials.env has CREATEOS_SANDBOX_API_KEY");
  return { base, key, child, log: () => log };
}

/** The server's documented routes (/openapi.json) as method + path regexes. */
async function documentedRoutes(base) {
  const doc = await (await fetch(`${base}/openapi.json`)).json();
  const routes = [];
  for (const [p, ops] of Object.entries(doc.paths)) {
    const re = new RegExp("^" + p.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{[^}]+\}/g, "[^/]+") + "$");
    for (const m of Object.keys(ops)) routes.push({ method: m.toUpperCase(), re, p });
  }
  assert.ok(routes.length > 20, "openapi.json lists the routes");
  return routes;
}

const terminalText = (page) => page.locator("#terminal .xterm-rows").innerText();

async function typeInTerminal(page, text) {
  await page.locator("#terminal").click();
  await page.keyboard.type(text);
  await page.keyboard.press("Enter");
}

async function sttySize(page, previous) {
  const marker = `sz${Date.now() % 100000}`;
  await typeInTerminal(page, `echo ${marker} $(stty size)`);
  let found;
  await waitFor(async () => {
    const m = [...(await terminalText(page)).matchAll(new RegExp(`^${marker} (\\d+) (\\d+)\\s*$`, "gm"))];
    found = m.length ? [Number(m[0][1]), Number(m[0][2])] : undefined;
    return found && (!previous || found.join() !== previous.join());
  }, 30_000, "stty size in the terminal");
  return found;
}

async function waitFor(check, ms, what) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A request from the test itself (not the console), to check what the console did. */
async function apiAs(server, key, method, p, body) {
  const res = await fetch(`${server.base}${p}`, {
    method, headers: { "X-Api-Key": key, ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json().catch(() => null);
  return { status: res.status, data: json?.data };
}

/** Submit a Dockerfile, follow its build log live to the end, see the outcome listed, delete the template. */
async function templatesCase(page, server) {
  await page.goto(`${server.base}/console/#/templates`);
  await page.getByRole("heading", { name: "Templates" }).waitFor();
  const name = `console-tpl-${Date.now()}`;
  await page.getByLabel("Template name").fill(name);
  // A step of its own (no cache hit) that prints, then works a while: the log must show the print before the end.
  const marker = `console-build-${Date.now()}`;
  await page.getByLabel("Dockerfile").fill(`FROM nodeops/sandbox:debian\nRUN echo ${marker}-start && sleep 5 && echo ${marker} > /etc/console-marker\n`);
  await page.getByRole("button", { name: "Build template" }).click();
  await page.locator("#tpl-log-title").filter({ hasText: name }).waitFor();
  await waitFor(async () => (await page.locator("#tpl-log").innerText()).includes(`${marker}-start`), 10 * 60_000, "the step's output in the log");
  assert.equal(await page.locator("#tpl-log-state").innerText(), "Following…", "the log arrives while the build runs");
  await page.locator("#tpl-log-state").filter({ hasText: /^Build (ready|failed)\.$/ }).waitFor({ timeout: 15 * 60_000 });
  const outcome = await page.locator("#tpl-log-state").innerText();
  const log = await page.locator("#tpl-log").innerText();
  assert.ok(log.trim().length > 0, "the build log was followed");
  await page.screenshot({ path: path.join(shots, "14-templates.png"), fullPage: true });
  const row = page.locator("tr[data-template]").filter({ hasText: name });
  await row.filter({ hasText: outcome.includes("ready") ? "ready" : "failed" }).waitFor();
  assert.match(outcome, /ready/, `the template build ended: ${outcome}\n${log}`);
  await row.getByRole("button", { name: `Delete template ${name}` }).click();
  await row.waitFor({ state: "detached", timeout: 30_000 });
}

const server = await startServer();
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: ["--no-sandbox"] });
let failed = false;
try {
  const routes = await documentedRoutes(server.base);
  // The console's edges: /console redirects to /console/, an unknown file is a 404 that still carries the CSP,
  // and the API next to it is untouched.
  const bare = await fetch(`${server.base}/console`, { redirect: "manual" });
  assert.equal(bare.status, 301);
  assert.equal(new URL(bare.headers.get("location"), server.base).pathname, "/console/");
  const missing = await fetch(`${server.base}/console/no-such-file.js`);
  assert.equal(missing.status, 404);
  assert.match(missing.headers.get("content-security-policy") ?? "", /script-src 'self'/);
  assert.equal((await fetch(`${server.base}/healthz`)).status, 200);
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const requests = [];
  const cspViolations = [];
  const consoleDocs = [];
  page.on("request", (r) => {
    const u = new URL(r.url());
    if (u.origin !== server.base && !u.origin.startsWith("ws")) requests.push({ method: r.method(), path: u.pathname, foreign: u.origin });
    else if (!u.pathname.startsWith("/console/")) requests.push({ method: r.method(), path: u.pathname });
  });
  page.on("websocket", (ws) => requests.push({ method: "GET", path: new URL(ws.url()).pathname }));
  page.on("response", (r) => { if (r.request().resourceType() === "document") consoleDocs.push({ url: r.url(), csp: r.headers()["content-security-policy"] }); });
  page.on("console", (m) => { if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text()); });
  page.on("dialog", (d) => d.accept());

  // Sign in.
  await page.goto(`${server.base}/console/`);
  await page.getByLabel("API key").fill("sk_wrong");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator("#error").filter({ hasText: /HTTP 401.*request id/ }).waitFor();
  await page.screenshot({ path: path.join(shots, "01-sign-in-error.png") });
  await page.getByLabel("API key").fill(server.key);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Sandboxes" }).waitFor();
  assert.equal(await page.evaluate(() => location.href.includes("sk_")), false, "the key never goes into a URL");
  await page.screenshot({ path: path.join(shots, "02-sandboxes.png"), fullPage: true });

  // API keys: the session's key is listed (never its secret) and cannot be revoked while it is the only one; a new
  // key is shown once, works, and stops working when revoked.
  await page.goto(`${server.base}/console/#/keys`);
  await page.getByRole("heading", { name: "API keys" }).waitFor();
  const sessionRow = page.locator("tr[data-key]").filter({ hasText: "this session" });
  await sessionRow.waitFor();
  const ownKeys = await apiAs(server, server.key, "GET", "/v1/keys");
  const activeBefore = ownKeys.data.data.filter((k) => !k.revoked_at).length;
  if (activeBefore === 1) assert.equal(await sessionRow.getByRole("button", { name: /Revoke/ }).isDisabled(), true, "the last key cannot be revoked");
  assert.equal((await page.content()).includes(server.key), false, "the page never shows the session's key");
  await page.getByLabel("Key name").fill(`e2e-${Date.now()}`);
  await page.getByRole("button", { name: "Create key" }).click();
  const shown = page.getByLabel("The new API key");
  await shown.waitFor();
  const newKey = await shown.inputValue();
  assert.match(newKey, /^sk_/);
  assert.equal((await apiAs(server, newKey, "GET", "/v1/whoami")).status, 200, "the new key works");
  await page.screenshot({ path: path.join(shots, "09-keys-created.png"), fullPage: true });
  await page.getByRole("button", { name: "I saved it: hide" }).click();
  assert.equal(await page.locator("#key-created").isHidden(), true);
  const newRow = page.locator("tr[data-key]").filter({ hasText: newKey.slice(0, 8) });
  await newRow.getByRole("button", { name: /Revoke/ }).click();
  await newRow.filter({ hasText: "revoked" }).waitFor();
  assert.equal((await apiAs(server, newKey, "GET", "/v1/whoami")).status, 401, "the revoked key is refused");
  assert.equal((await page.content()).includes(newKey), false, "once hidden, the new key is not on the page any more");
  await page.screenshot({ path: path.join(shots, "10-keys.png"), fullPage: true });
  await page.goto(`${server.base}/console/#/sandboxes`);
  await page.getByRole("heading", { name: "Sandboxes" }).waitFor();

  // Create.
  const name = `console-e2e-${Date.now()}`;
  await page.getByText("New sandbox").click();
  await page.locator("#shape option").first().waitFor({ state: "attached" });
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Environment").fill("GREETING=hello");
  await page.getByRole("button", { name: "Create sandbox" }).click();
  await page.locator("#create-progress").filter({ hasText: "Booting" }).waitFor();
  await page.waitForURL(/#\/sandboxes\/sb_/, { timeout: VM_TIMEOUT });
  await page.locator("#sb-status").filter({ hasText: /^running$/ }).waitFor({ timeout: VM_TIMEOUT });
  const id = decodeURIComponent(page.url().split("#/sandboxes/")[1]);

  // Terminal: echo hi, then stty size follows the window.
  await page.locator("#term-note").filter({ hasText: "Connected." }).waitFor({ timeout: 60_000 });
  await typeInTerminal(page, "echo hi");
  await waitFor(async () => /^hi\s*$/m.test(await terminalText(page)), 30_000, "'hi' in the terminal");
  const before = await sttySize(page);
  await page.screenshot({ path: path.join(shots, "03-sandbox-terminal.png"), fullPage: true });
  await page.setViewportSize({ width: 700, height: 900 });
  const after = await sttySize(page, before);
  assert.ok(after[1] < before[1], `columns shrink with the window: ${before} -> ${after}`);

  // Upload a file and see it listed.
  await page.getByLabel("Directory").fill("/tmp");
  await page.locator("#upload").setInputFiles({ name: "hello-console.txt", mimeType: "text/plain", buffer: Buffer.from("hello from the console\n") });
  await page.locator("#file-list li").filter({ hasText: "hello-console.txt" }).filter({ hasText: "23 B" }).waitFor({ timeout: 60_000 });
  await page.screenshot({ path: path.join(shots, "04-sandbox-files.png"), fullPage: true });

  // Exec with streamed output (the env var set at create reaches the command).
  await page.getByLabel("Command (bash -c)").fill("cat /tmp/hello-console.txt; echo $GREETING");
  await page.getByRole("button", { name: "Run" }).click();
  await page.locator("#exec-out").filter({ hasText: /hello from the console\s+hello\s+\[exit 0\]/ }).waitFor({ timeout: 60_000 });

  // Egress allowlist and bandwidth (what the console shows is what the API then says).
  await page.getByLabel("Allowed destinations (one per line)").fill("example.com:443\n10.0.0.0/8");
  await page.getByRole("button", { name: "Save allowlist" }).click();
  await page.locator("#egress-note").filter({ hasText: "2 rule(s)" }).waitFor();
  assert.deepEqual((await apiAs(server, server.key, "GET", `/v1/sandboxes/${id}/egress`)).data.egress, ["example.com:443", "10.0.0.0/8"]);
  await page.getByLabel("Allowed destinations (one per line)").fill("");
  await page.getByRole("button", { name: "Save allowlist" }).click();
  await page.locator("#egress-note").filter({ hasText: "Allow all." }).waitFor();
  assert.deepEqual((await apiAs(server, server.key, "GET", `/v1/sandboxes/${id}/egress`)).data.egress, []);
  await page.locator("#bandwidth dd").first().waitFor({ timeout: 30_000 });
  const quota = (await apiAs(server, server.key, "GET", `/v1/sandboxes/${id}/bandwidth`)).data.quota_bytes;
  await page.getByLabel("Add to quota").fill("2");
  await page.getByLabel("Unit").selectOption("MiB");
  await page.getByRole("button", { name: "Recharge" }).click();
  if (quota >= 0) {
    await waitFor(async () => (await apiAs(server, server.key, "GET", `/v1/sandboxes/${id}/bandwidth`)).data.quota_bytes === quota + 2 * 1048576, 30_000, "the recharge");
  }
  // Charts: CPU and memory lines, and a network rate once two samples exist.
  for (const chart of ["#cpu-chart", "#memory-chart", "#network-chart"]) {
    await waitFor(async () => ((await page.locator(`${chart} polyline`).first().getAttribute("points")) ?? "").trim().split(" ").length >= 2, 60_000, `two samples in ${chart}`);
    assert.ok(await page.locator(`${chart} svg[role="img"]`).getAttribute("aria-label"), `${chart} is labelled`);
  }
  await page.locator("#egress-rules").scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(shots, "11-sandbox-traffic-metrics.png"), fullPage: true });

  // Pause and resume.
  await page.getByRole("button", { name: "Pause" }).click();
  await page.locator("#sb-status").filter({ hasText: /^paused$/ }).waitFor({ timeout: VM_TIMEOUT });
  await page.screenshot({ path: path.join(shots, "05-sandbox-paused.png"), fullPage: true });
  await page.getByRole("button", { name: "Resume" }).click();
  await page.locator("#sb-status").filter({ hasText: /^running$/ }).waitFor({ timeout: VM_TIMEOUT });
  // The terminal comes back after the resume (the console reopens it) and the shell works.
  await page.locator("#term-note").filter({ hasText: "Connected." }).waitFor({ timeout: 60_000 });
  await typeInTerminal(page, "echo back-$((40+2))");
  await waitFor(async () => /^back-42\s*$/m.test(await terminalText(page)), 30_000, "the terminal after resume");

  // Account usage: the running sandbox is counted, and the charts are drawn from the timeseries.
  await page.goto(`${server.base}/console/#/usage`);
  await page.getByRole("heading", { name: "Usage" }).waitFor();
  await page.locator("#usage-totals").filter({ hasText: /[1-9]\d* running/ }).waitFor({ timeout: 30_000 });
  await page.locator("#usage-running polyline").first().waitFor({ state: "attached" });
  await page.locator(`#usage-sandboxes tr[data-id="${id}"]`).filter({ hasText: /% of 1 vCPU/ }).waitFor({ timeout: 30_000 });
  await page.getByLabel("Window").selectOption({ label: "Last 24 hours" });
  await page.screenshot({ path: path.join(shots, "12-usage.png"), fullPage: true });

  // Templates, when this server has the routes (docs/rest-api.md §12).
  if (routes.some((r) => r.p === "/v1/templates")) await templatesCase(page, server);
  else console.log("console e2e: this server has no /v1/templates routes: the templates page was not exercised");

  for (const [hash, title] of [["networks", "Networks"], ["disks", "Disks"]]) {
    await page.goto(`${server.base}/console/#/${hash}`);
    await page.getByRole("heading", { name: title }).waitFor();
    await page.locator("table.list tbody tr").first().waitFor();
    await page.screenshot({ path: path.join(shots, `08-${hash}.png`), fullPage: true });
  }

  // Phone-sized list.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${server.base}/console/#/sandboxes`);
  await page.locator(`tr[data-id="${id}"]`).filter({ hasText: "running" }).waitFor();
  await page.screenshot({ path: path.join(shots, "06-sandboxes-phone.png"), fullPage: true });
  for (const [hash, heading] of [["keys", "API keys"], ["usage", "Usage"], [`sandboxes/${encodeURIComponent(id)}`, null]]) {
    await page.goto(`${server.base}/console/#/${hash}`);
    if (heading) await page.getByRole("heading", { name: heading }).waitFor();
    else await page.locator("#bandwidth dd").first().waitFor({ timeout: 30_000 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    const wide = overflow <= 0 ? "" : await page.evaluate(() => [...document.querySelectorAll("body *")]
      .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5 && !e.closest(".scroll"))
      .slice(0, 8).map((e) => `${e.tagName.toLowerCase()}${e.id ? "#" + e.id : ""}.${e.className} right=${Math.round(e.getBoundingClientRect().right)}`).join("; "));
    assert.ok(overflow <= 0, `#/${hash} fits a phone's width (overflows by ${overflow}px: ${wide})`);
    await page.screenshot({ path: path.join(shots, `13-phone-${hash.split("/")[0]}.png`), fullPage: true });
  }

  // Destroy.
  await page.goto(`${server.base}/console/#/sandboxes/${encodeURIComponent(id)}`);
  await page.locator("#sb-status").filter({ hasText: /^running$/ }).waitFor();
  await page.getByRole("button", { name: "Destroy" }).click();
  await page.locator("#sb-status").filter({ hasText: /^destroy/ }).waitFor({ timeout: VM_TIMEOUT });
  await page.screenshot({ path: path.join(shots, "07-sandbox-destroyed.png"), fullPage: true });

  // Every request the console made is a documented route; every page carries the strict CSP.
  const undocumented = requests.filter((r) => r.foreign || !routes.some((d) => d.method === r.method && d.re.test(r.path)));
  assert.deepEqual(undocumented, [], "requests outside /openapi.json");
  assert.ok(requests.some((r) => r.path.endsWith("/shell-ws")), "the terminal used /shell-ws");
  assert.ok(consoleDocs.length > 0);
  for (const d of consoleDocs) {
    assert.ok(d.csp, `CSP on ${d.url}`);
    const dir = Object.fromEntries(d.csp.split(";").map((s) => s.trim().split(/\s+/)).map(([k, ...v]) => [k, v]));
    assert.deepEqual(dir["script-src"], ["'self'"], `script-src of ${d.url}`);
    assert.deepEqual(dir["connect-src"], ["'self'"], `connect-src of ${d.url}`);
    assert.deepEqual(dir["default-src"], ["'none'"], `default-src of ${d.url}`);
    assert.deepEqual(dir["frame-ancestors"], ["'none'"], `frame-ancestors of ${d.url}`);
  }
  assert.deepEqual(cspViolations, [], "CSP violations in the browser console");
  console.log(`console e2e: ok (${requests.length} API requests, all documented; screenshots in ${shots})`);
} catch (e) {
  failed = true;
  console.error(e);
  console.error("--- server log (tail) ---\n" + server.log().split("\n").slice(-40).join("\n"));
} finally {
  await browser.close();
  server.child.kill("SIGTERM");
  await once(server.child, "exit");
}
process.exit(failed ? 1 : 0);
