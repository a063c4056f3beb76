// Drives a running createos-sandbox server with the official TypeScript SDK, unchanged.
// Reads CREATEOS_SANDBOX_BASE_URL and CREATEOS_SANDBOX_API_KEY like any SDK user; COMPAT_DESTROYED_ROWS is the
// number of destroyed sandboxes the harness stored for this user (more than one 500-row page).
import assert from "node:assert/strict";
import {
  createClient,
  CreateosSandboxAuthError,
  CreateosSandboxNotFoundError,
  CreateosSandboxValidationError,
} from "@nodeops-createos/sandbox";

const client = createClient();
let passed = 0;
let failed = 0;

async function check(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok   ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e?.stack ?? e}`);
  }
}

async function rejectsWith(promise, errorClass) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof errorClass, `expected ${errorClass.name}, got ${e?.constructor?.name}: ${e?.message}`);
    return true;
  });
}

await check("healthz", async () => assert.deepEqual(await client.healthz(), { up: true }));
await check("whoami", async () => {
  const me = await client.whoami();
  assert.match(me.user_id, /^u_/);
  assert.equal(typeof me.stats.total, "number");
});
await check("listShapes", async () => {
  const ids = (await client.listShapes()).map((s) => s.id);
  for (const id of ["s-1vcpu-256mb", "s-1vcpu-512mb", "s-1vcpu-1gb", "s-1vcpu-2gb", "s-2vcpu-2gb", "s-2vcpu-4gb", "s-4vcpu-4gb"]) {
    assert.ok(ids.includes(id), `missing shape ${id} in ${ids}`);
  }
});
await check("listRootfs", async () => {
  const rootfs = await client.listRootfs();
  assert.ok(rootfs.rootfs.includes("devbox:1"), JSON.stringify(rootfs));
  assert.equal(rootfs.default, "devbox:1");
});
await check("wrong key -> CreateosSandboxAuthError", () =>
  rejectsWith(createClient({ apiKey: "sk_not_a_real_key" }).whoami(), CreateosSandboxAuthError));
await check("unknown id -> CreateosSandboxNotFoundError", () =>
  rejectsWith(client.getSandbox("sb_01J0000000000000000000000"), CreateosSandboxNotFoundError));
await check("bad shape -> CreateosSandboxValidationError", () =>
  rejectsWith(client.createSandbox({ shape: "s-99vcpu-1tb" }), CreateosSandboxValidationError));

let sandbox;
await check("createSandbox", async () => {
  sandbox = await client.createSandbox({ shape: "s-1vcpu-256mb", rootfs: "devbox:1", envs: { GREETING: "hi there" } });
  assert.match(sandbox.id, /^sb_/);
  assert.equal(sandbox.status, "running");
  assert.deepEqual(sandbox.data.envs, ["GREETING"]);
});
if (!sandbox) {
  console.log(`compat: ${passed} passed, ${failed + 1} failed`);
  process.exit(1);
}
await check("runCommand", async () => {
  const out = await sandbox.runCommand("echo", ["hello", "world"]);
  assert.equal(out.result.stdout, "hello world\n");
  assert.equal(out.result.exit_code, 0);
  const bad = await sandbox.runCommand("sh", ["-c", "echo boom >&2; exit 3"]);
  assert.equal(bad.result.exit_code, 3);
  assert.equal(bad.result.stderr, "boom\n");
});
await check("sh sees the sandbox envs", async () => {
  const out = await sandbox.sh('echo "$GREETING"');
  assert.equal(out.result.stdout, "hi there\n");
});
await check("streamCommand", async () => {
  const events = [];
  for await (const event of sandbox.streamCommand("bash", ["-c", "echo one; echo two >&2; exit 4"])) {
    events.push(event);
  }
  const stdout = events.filter((e) => e.type === "stdout").map((e) => e.data).join("");
  const stderr = events.filter((e) => e.type === "stderr").map((e) => e.data).join("");
  assert.equal(stdout, "one\n");
  assert.equal(stderr, "two\n");
  assert.deepEqual(events.at(-1), { type: "exit", exitCode: 4 });
});
await check("files.upload / files.download", async () => {
  const bytes = new Uint8Array(300 * 1024).map((_, i) => (i * 31 + 7) & 0xff);
  await sandbox.files.upload("/tmp/compat dir/data.bin", bytes);
  const back = new Uint8Array(await sandbox.files.download("/tmp/compat dir/data.bin"));
  assert.equal(back.length, bytes.length);
  assert.ok(back.every((b, i) => b === bytes[i]), "downloaded bytes differ");
  await rejectsWith(sandbox.files.download("/tmp/does-not-exist"), CreateosSandboxNotFoundError);
});
await check("getSandbox", async () => {
  const again = await client.getSandbox(sandbox.id);
  assert.equal(again.status, "running");
  assert.equal(again.id, sandbox.id);
});
await check("listSandboxes", async () => {
  const ids = (await client.listSandboxes()).map((s) => s.id);
  assert.ok(ids.includes(sandbox.id));
});
await check("iterateSandboxes across more than one page", async () => {
  const expected = Number(process.env.COMPAT_DESTROYED_ROWS);
  assert.ok(expected > 500, "the harness must store more than one page of rows");
  let count = 0;
  for await (const s of client.iterateSandboxes({ status: "destroyed" })) {
    assert.equal(s.status, "destroyed");
    count++;
  }
  assert.equal(count, expected);
});
await check("setAutoPause", async () => {
  await sandbox.setAutoPause(120);
  assert.equal(sandbox.data.auto_pause_after_seconds, 120);
  await sandbox.setAutoPause(null);
  assert.equal(sandbox.data.auto_pause_after_seconds, undefined);
  assert.ok(!("auto_pause_after_seconds" in sandbox.data));
});
await check("pause + waitUntilPaused, fork + child waitUntilRunning, resume, destroy both", async () => {
  await sandbox.runCommand("sh", ["-c", "echo before-pause > /root/marker"]);
  await sandbox.pause();
  assert.equal(sandbox.id, sandbox.data.id);
  assert.ok(["pausing", "paused"].includes(sandbox.status), sandbox.status);
  await sandbox.waitUntilPaused({ timeoutMs: 60000 });
  assert.equal(sandbox.status, "paused");
  assert.ok(sandbox.data.paused_at, "paused_at is set");
  await rejectsWith(sandbox.runCommand("true"), CreateosSandboxValidationError);
  const child = await sandbox.fork({ envs: { GREETING: "from the fork" } });
  assert.notEqual(child.id, sandbox.id);
  assert.equal(child.data.forked_from, sandbox.id);
  await child.waitUntilRunning({ timeoutMs: 60000 });
  assert.equal((await child.sh('cat /root/marker; echo "$GREETING"')).result.stdout, "before-pause\nfrom the fork\n");
  await sandbox.resume();
  await sandbox.waitUntilRunning({ timeoutMs: 60000 });
  assert.ok(sandbox.data.last_resumed_at, "last_resumed_at is set");
  assert.equal((await sandbox.sh('cat /root/marker; echo "$GREETING"')).result.stdout, "before-pause\nhi there\n");
  await child.destroy();
  await child.waitUntilDestroyed({ timeoutMs: 60000 });
});
await check("destroy + waitUntilDestroyed", async () => {
  const destroyed = await sandbox.destroy();
  assert.ok(["destroying", "destroyed"].includes(destroyed.status), destroyed.status);
  await sandbox.waitUntilDestroyed({ timeoutMs: 60000 });
  assert.equal(sandbox.status, "destroyed");
  const again = await sandbox.destroy();
  assert.equal(again.status, "destroyed");
});

console.log(`compat: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
