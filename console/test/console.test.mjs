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

  for (const [hash, title] of [["networks", "Networks"], ["disks", "Disks"]] /* no templates routes on this server yet */) {
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
