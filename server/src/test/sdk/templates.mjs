// Drives one template build end to end with the official TypeScript SDK, unchanged: templates.create, followLogs,
// get, createSandbox({rootfs: name}), delete. Reads CREATEOS_SANDBOX_BASE_URL and CREATEOS_SANDBOX_API_KEY;
// COMPAT_TEMPLATE_NAME is the name to build (the harness checks the result through the REST API as well).
import assert from "node:assert/strict";
import { createClient, CreateosSandboxNotFoundError } from "@nodeops-createos/sandbox";

const client = createClient();
const name = process.env.COMPAT_TEMPLATE_NAME;
let passed = 0;
let failed = 0;

async function check(label, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok   ${label}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${label}: ${e?.stack ?? e}`);
  }
}

let tpl;
await check("templates.create", async () => {
  tpl = await client.templates.create({
    name,
    dockerfile: "FROM nodeops/sandbox:debian\nENV FROM_SDK=yes\nRUN echo sdk-built > /sdk-marker\n",
  });
  assert.match(tpl.id, /^tpl_/);
  assert.ok(["pending", "building"].includes(tpl.status), tpl.status);
  assert.equal(tpl.ext4_size_bytes, 0);
});
let final;
await check("templates.followLogs", async () => {
  const lines = [];
  for await (const event of client.templates.followLogs(tpl.id, { timeoutMs: 900_000 })) {
    if (event.final) {
      final = event;
      break;
    }
    if (event.line !== undefined) {
      assert.equal(typeof event.ts, "string");
      assert.equal(event.attempt, 1);
      lines.push(event.line);
    }
  }
  assert.equal(final?.status, "ready", lines.join("\n"));
  assert.ok(lines.some((l) => l.includes("RUN echo sdk-built")), lines.join("\n"));
});
await check("templates.get", async () => {
  const got = await client.templates.get(name, { include: "dockerfile" });
  assert.equal(got.id, tpl.id);
  assert.equal(got.status, "ready");
  assert.ok(got.ext4_size_bytes > 0);
  assert.ok(got.built_at);
  assert.match(got.dockerfile, /sdk-built/);
  assert.equal((await client.templates.get(tpl.id)).dockerfile, undefined);
});
await check("templates.logs", async () => {
  assert.match(await client.templates.logs(tpl.id), /sdk-built/);
});
await check("templates.list", async () => {
  assert.ok((await client.templates.list()).some((t) => t.id === tpl.id));
});
await check("createSandbox({rootfs: name})", async () => {
  const sandbox = await client.createSandbox({ shape: "s-1vcpu-256mb", rootfs: name });
  try {
    const out = await sandbox.runCommand("sh", ["-c", 'cat /sdk-marker; echo "$FROM_SDK"']);
    assert.equal(out.result.stdout, "sdk-built\nyes\n");
  } finally {
    await sandbox.destroy();
  }
});
await check("templates.delete", async () => {
  await client.templates.delete(tpl.id);
  await assert.rejects(client.templates.get(tpl.id), (e) => e instanceof CreateosSandboxNotFoundError);
});
console.log(`templates: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
