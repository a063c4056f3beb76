// The guest-side steps of the official SDK's examples (NodeOps-app/createos-sandbox-sdk, examples/) that need Bun
// or Node.js >= 22 inside the sandbox, driven with the official TypeScript SDK, unchanged, against a running server:
// one devbox:1 sandbox, the commands those examples run in the guest, with the packages they install from npm.
// Where an example goes on to the internet beyond npm (bun.sh, NodeSource, raw.githubusercontent.com) or to an API
// key (OpenAI, Moss), its steps stop there and the step says so. Reads CREATEOS_SANDBOX_BASE_URL and
// CREATEOS_SANDBOX_API_KEY like any SDK user.
//
// Not mirrored, and why:
// - 58-moss-voice-agent-worker runs `bun install` of @moss-js/moss and `bun claims-agent.ts <step>`: that package is
//   not on the npm registry (404), and every step needs a Moss project key; the `bun <file>.ts <args>` form it uses
//   is the last step below.
// - 21-astro-sandbox (astro ^6 wants Node >= 22.12), 22-opencode-server (a Bun-built binary), 34's openclaw and
//   46's @mastra/core are 100-260 MB installs each: minutes under TCG, beyond this test's budget. Their Node/Bun
//   floor is what the first two steps check.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { createClient } from "@nodeops-createos/sandbox";

// 47's stand-in for its OpenAI calls: a two-step prompt chain through the AI SDK, against an OpenAI-compatible
// chat endpoint that Bun serves on the guest's loopback and that echoes the prompt with a call number.
const CHAIN_SCRIPT = `
import { generateText } from "ai";
import { createOpenAI } from "@ai-sdk/openai";

let calls = 0;
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(request) {
    if (request.method !== "POST" || new URL(request.url).pathname !== "/v1/chat/completions") {
      return new Response("not found", { status: 404 });
    }
    const body = await request.json();
    const last = body.messages.at(-1);
    const text = typeof last.content === "string" ? last.content : last.content.map((p) => p.text ?? "").join("");
    calls++;
    return Response.json({
      id: "chatcmpl-" + calls, object: "chat.completion", created: Math.floor(Date.now() / 1000), model: body.model,
      choices: [{ index: 0, message: { role: "assistant", content: "echo " + calls + ": " + text }, finish_reason: "stop" }],
      usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
    });
  },
});
const openai = createOpenAI({ apiKey: "no-key-needed", baseURL: "http://127.0.0.1:" + server.port + "/v1" });
const model = openai.chat("chain-test");
const outline = (await generateText({ model, prompt: "Write an outline about microVMs" })).text;
console.log("outline: " + outline);
const final = (await generateText({ model, prompt: "Expand outline: " + outline })).text;
console.log("final: " + final);
server.stop(true);
`;

// 58's step shape: a TypeScript entry point run as \`bun <file>.ts <mode> <id>\`, progress lines, then a JSON summary.
const WORKER_SCRIPT = `
const started = performance.now();
const [mode, claim = ""] = process.argv.slice(2);
if (mode !== "call") {
  console.error("usage: bun worker.ts call <claimId>");
  process.exit(2);
}
const turns: number[] = [1, 2, 3].map((n: number): number => n * n);
await Bun.sleep(1);
console.log(\`      step \${mode} for \${claim}\`);
console.log(JSON.stringify({ mode, claim, turns, processMs: Math.round(performance.now() - started) }));
`;

const client = createClient();
let passed = 0;
let failed = 0;

async function check(name, fn) {
  const started = Date.now();
  try {
    await fn();
    passed++;
    console.log(`ok   ${name} (${Date.now() - started} ms)`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name} (${Date.now() - started} ms): ${e?.stack ?? e}`);
  }
}

/** The examples' own helper shape: `bash -lc SCRIPT`, failing with the tail of the output on a non-zero exit. */
async function sh(sandbox, script, timeoutMs = 120_000) {
  const { result } = await sandbox.runCommand("bash", ["-lc", script], { timeoutMs });
  assert.equal(result.exit_code, 0, `${script}\nstdout: ${result.stdout.slice(-2000)}\nstderr: ${result.stderr.slice(-2000)}`);
  return result.stdout;
}

// A host whose egress goes through a TLS-intercepting proxy trusts its CA from Debian's local-CA directory (this build
// machine's does); the sandbox is given the same trust, as an operator behind such a proxy gives theirs, or npm and
// bun in the guest see a self-signed chain. Bun reads the system bundle; Node.js from npm its own roots plus
// NODE_EXTRA_CA_CERTS.
const LOCAL_CAS = "/usr/local/share/ca-certificates";
const localCas = (() => {
  try {
    return readdirSync(LOCAL_CAS).filter((name) => name.endsWith(".crt"));
  } catch {
    return [];
  }
})();
await check("every example's rootfs devbox:1 is in GET /v1/rootfs, each entry described, retirements named", async () => {
  const catalog = await client.listRootfs();
  assert.equal(catalog.default, "devbox:1");
  assert.deepEqual(catalog.entries.map((e) => e.name), catalog.rootfs);
  for (const entry of catalog.entries) {
    assert.ok(entry.description?.trim(), `${entry.name} has no description`);
    // A retired image stays listed and bootable, and points at one that is listed and not itself retired.
    if (entry.deprecated) {
      assert.ok(catalog.entries.some((e) => e.name === entry.successor && !e.deprecated), JSON.stringify(entry));
    } else {
      assert.equal(entry.successor, undefined, JSON.stringify(entry));
    }
  }
  assert.match(catalog.entries.find((e) => e.name === "devbox:1").description, /Node\.js 2\d.*Bun/);
});

const sandbox = await client.createSandbox({
  shape: "s-1vcpu-1gb",
  rootfs: "devbox:1",
  ...(localCas.length ? { envs: { NODE_EXTRA_CA_CERTS: "/etc/ssl/certs/ca-certificates.crt" } } : {}),
});
console.log(`sandbox ${sandbox.id}`);
try {
  if (localCas.length) {
    // Appended to the system bundle (bun reads it) by hand: update-ca-certificates takes minutes under TCG.
    const pem = localCas.map((name) => readFileSync(`${LOCAL_CAS}/${name}`, "utf8").trim() + "\n").join("");
    await sandbox.files.upload(`${LOCAL_CAS}/host-local.crt`, pem);
    await sh(sandbox, `cat ${LOCAL_CAS}/host-local.crt >> /etc/ssl/certs/ca-certificates.crt`);
  }
  await check("33-codex-cli, 34-openclaw-gateway: the guest's Node.js is >= 22, so neither installs one", async () => {
    // 34 runs exactly this and installs Node 24 with `n` (from raw.githubusercontent.com) below major 22; 33 installs
    // Node 22 from NodeSource. Both sources are beyond npm: devbox:1 must already be past that floor.
    const version = (await sh(sandbox, "node --version 2>/dev/null || echo 'missing'")).trim();
    assert.match(version, /^v\d+\./);
    assert.ok(parseInt(version.replace(/^v/, ""), 10) >= 22, `node ${version} is below 22`);
    assert.match(await sh(sandbox, "npm --version"), /^\d+\.\d+\.\d+\n$/);
    // 33 then runs `codex --version` after `npm install -g @openai/codex` (devbox:1 ships it); `codex exec` needs an
    // OpenAI key, so 33 stops here.
    assert.match(await sh(sandbox, "codex --version"), /codex/i);
  });

  await check("46-mastra-agent: bun is on the image, and `bun init -y` scaffolds the agent's project", async () => {
    // 46 installs bun with `curl -fsSL https://bun.sh/install | bash` (beyond npm); devbox:1 ships it on the PATH.
    assert.match(await sh(sandbox, "bun --version"), /^1\.\d+\.\d+\n$/);
    await sh(sandbox, "mkdir -p /root/mastra-agent && cd /root/mastra-agent && bun init -y");
    const pkg = JSON.parse(await sh(sandbox, "cat /root/mastra-agent/package.json"));
    assert.equal(pkg.name, "mastra-agent");
    // `bun add @mastra/core @ai-sdk/openai ai` (260 MB) and `bun run agent.ts` (an OpenAI key) are not run here:
    // the next step installs and runs the same `ai` + `@ai-sdk/openai` pair.
  });

  await check("47-effective-agents-patterns: `bun add ai @ai-sdk/openai` from npm, and Bun runs the AI SDK", async () => {
    // The example's exact install command (ai and @ai-sdk/openai declare engines node >= 22).
    await sh(sandbox, "cd /root && bun add ai @ai-sdk/openai", 180_000);
    const pkg = JSON.parse(await sh(sandbox, "cat /root/package.json"));
    assert.ok(pkg.dependencies?.ai && pkg.dependencies?.["@ai-sdk/openai"], JSON.stringify(pkg));
    // The example then runs `bun run /root/agent-patterns.js`, whose every pattern calls the OpenAI API. Instead a
    // script of ours runs one prompt chain through the same SDK against an OpenAI-compatible endpoint that Bun
    // serves inside the guest, so the packages really load, build a request and parse a reply under Bun.
    await sandbox.files.upload("/root/chain.js", CHAIN_SCRIPT);
    const out = await sh(sandbox, "cd /root && bun run /root/chain.js");
    assert.equal(out, "outline: echo 1: Write an outline about microVMs\nfinal: echo 2: Expand outline: echo 1: Write an outline about microVMs\n");
  });

  await check("58-moss-voice-agent-worker's form: `bun worker.ts <step>` runs TypeScript and ends in a JSON line", async () => {
    // 58 runs `cd DIR && bun claims-agent.ts <step> [id]` and parses the last stdout line as the step's summary.
    await sh(sandbox, "mkdir -p /opt/claims");
    await sandbox.files.upload("/opt/claims/worker.ts", WORKER_SCRIPT);
    const lines = (await sh(sandbox, "cd /opt/claims && bun worker.ts call c42")).trimEnd().split("\n");
    const summary = JSON.parse(lines.pop());
    assert.deepEqual({ ...summary, processMs: typeof summary.processMs }, { mode: "call", claim: "c42", turns: [1, 4, 9], processMs: "number" });
    assert.deepEqual(lines, ["      step call for c42"]);
  });
} finally {
  await sandbox.destroy();
}
console.log(`examples: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
