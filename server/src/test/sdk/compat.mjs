// Drives a running createos-sandbox server with the official TypeScript SDK, unchanged.
// Reads CREATEOS_SANDBOX_BASE_URL and CREATEOS_SANDBOX_API_KEY like any SDK user; COMPAT_DESTROYED_ROWS is the
// number of destroyed sandboxes the harness stored for this user (more than one 500-row page).
import assert from "node:assert/strict";
import dns from "node:dns";
import {
  createClient,
  CreateosSandboxAuthError,
  CreateosSandboxNotFoundError,
  CreateosSandboxValidationError,
} from "@nodeops-createos/sandbox";

// Like browsers and curl, treat every *.localhost name as loopback (RFC 6761): the ingress URLs are
// <ulid>-<port>.sb.localhost, and glibc without nss-myhostname does not resolve them.
const systemLookup = dns.lookup;
dns.lookup = (host, options, callback) => {
  if (typeof options === "function") [callback, options] = [options, {}];
  if (/\.localhost\.?$/i.test(host)) {
    return options.all ? callback(null, [{ address: "127.0.0.1", family: 4 }]) : callback(null, "127.0.0.1", 4);
  }
  return systemLookup(host, options, callback);
};

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
await check("setIngress + previewUrl: a fetch through the ingress reaches a server on port 3000", async () => {
  assert.throws(() => sandbox.previewUrl(3000));
  await sandbox.setIngress(true);
  const url = sandbox.previewUrl(3000, { scheme: "http" });
  assert.match(url, /^http:\/\/[0-9a-z]{26}-3000\.sb\.localhost:\d+$/);
  const started = await sandbox.sh("mkdir -p /srv/www && echo 'hello through the ingress' > /srv/www/index.html"
    + " && (nohup setsid python3 -m http.server 3000 --directory /srv/www >/tmp/www.log 2>&1 &)"
    + " && for i in $(seq 50); do (echo >/dev/tcp/127.0.0.1/3000) 2>/dev/null && exit 0; sleep 0.2; done; exit 1");
  assert.equal(started.result.exit_code, 0, started.result.stderr);
  const page = await fetch(`${url}/index.html`);
  assert.equal(page.status, 200);
  assert.equal(await page.text(), "hello through the ingress\n");
  await sandbox.setIngress(false);
  assert.throws(() => sandbox.previewUrl(3000));
  assert.equal((await fetch(`${url}/index.html`)).status, 404);
});
await check("getEgress / setEgress / getBandwidth / rechargeBandwidth", async () => {
  assert.deepEqual((await sandbox.getEgress()).egress, []);
  const set = await sandbox.setEgress(["registry.npmjs.org:443", "*.github.com", "10.0.0.0/8"]);
  assert.deepEqual(set.egress, ["registry.npmjs.org:443", "*.github.com", "10.0.0.0/8"]);
  await rejectsWith(sandbox.setEgress(["not a rule"]), CreateosSandboxValidationError);
  assert.deepEqual((await sandbox.getEgress()).egress, set.egress);
  assert.deepEqual((await sandbox.setEgress(null)).egress, []);
  const bw = await sandbox.getBandwidth();
  assert.equal(bw.quota_bytes, 10737418240);
  assert.equal(bw.capped, false);
  assert.equal((await sandbox.rechargeBandwidth(1024)).quota_bytes, 10737418240 + 1024);
});
await check("networks.create / list / get / delete", async () => {
  const net = await client.networks.create({ name: "compat-net" });
  assert.match(net.id, /^net_/);
  assert.equal(net.name, "compat-net");
  assert.ok((await client.networks.list()).some((n) => n.id === net.id && n.member_count === 0));
  assert.deepEqual((await client.networks.get(net.id)).members, []);
  await rejectsWith(client.networks.create({ name: "compat-net" }), CreateosSandboxValidationError);
  await client.networks.delete(net.id);
  await rejectsWith(client.networks.get(net.id), CreateosSandboxNotFoundError);
});
await check("getSandboxByIP, attachNetwork (members[].ip in the guest), detachNetwork", async () => {
  assert.match(sandbox.data.ip, /^\d+\.\d+\.\d+\.\d+$/);
  assert.equal((await client.getSandboxByIP(sandbox.data.ip)).id, sandbox.id);
  const net = await client.networks.create({ name: "compat-attach" });
  assert.deepEqual(await sandbox.attachNetwork(net.id), { ok: true });
  const member = (await client.networks.get(net.id)).members.find((m) => m.sandbox_id === sandbox.id);
  assert.match(member.ip, /^\d+\.\d+\.\d+\.\d+$/);
  assert.ok((await sandbox.sh("ip -4 -o addr show")).result.stdout.includes(` ${member.ip}/`), "member address");
  await rejectsWith(client.networks.delete(net.id), CreateosSandboxValidationError);
  assert.deepEqual(await sandbox.detachNetwork(net.id), { ok: true });
  assert.deepEqual((await client.networks.get(net.id)).members, []);
  await client.networks.delete(net.id);
});
// S3 disks against the S3 server the harness runs (S3Proxy in a network namespace).
await check("disks.create / list / get / rotateCredentials / delete, attachDisk / listDisks / detachDisk", async () => {
  const config = { bucket: process.env.COMPAT_S3_BUCKET, endpoint: process.env.COMPAT_S3_ENDPOINT,
    region: "us-east-1", use_path_style: true };
  const credentials = { access_key: process.env.COMPAT_S3_ACCESS_KEY, secret_key: process.env.COMPAT_S3_SECRET_KEY };
  await rejectsWith(client.disks.create({ name: "compat-disk", kind: "s3", config,
    credentials: { ...credentials, secret_key: "wrong" } }), CreateosSandboxValidationError);
  const disk = await client.disks.create({ name: "compat-disk", kind: "s3", config, credentials });
  assert.match(disk.id, /^disk_/);
  assert.equal(disk.kind, "s3");
  assert.deepEqual(disk.config, config);
  assert.ok(!JSON.stringify(disk).includes(credentials.secret_key), "credentials never come back");
  assert.ok((await client.disks.list()).some((d) => d.id === disk.id && d.name === "compat-disk"));
  assert.equal((await client.disks.get("compat-disk")).id, disk.id);
  assert.equal((await client.disks.get(disk.id)).name, "compat-disk");
  await rejectsWith(client.disks.get("no-such-disk"), CreateosSandboxNotFoundError);
  assert.equal((await client.disks.rotateCredentials("compat-disk", credentials)).id, disk.id);

  await sandbox.attachDisk({ diskId: "compat-disk", mountPath: "/mnt/compat" });
  let mounts = [];
  for (let i = 0; i < 360; i++) {
    mounts = await sandbox.listDisks();
    if (mounts.some((m) => m.mount_status !== "pending")) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.equal(mounts.length, 1);
  assert.equal(mounts[0].disk_id, disk.id);
  assert.equal(mounts[0].mount_path, "/mnt/compat");
  assert.equal(mounts[0].mount_status, "mounted", JSON.stringify(mounts[0]));
  const wrote = await sandbox.sh("echo through-the-sdk > /mnt/compat/sdk.txt && cat /mnt/compat/sdk.txt");
  assert.equal(wrote.result.stdout, "through-the-sdk\n");
  await rejectsWith(client.disks.delete(disk.id), CreateosSandboxValidationError);
  await rejectsWith(sandbox.attachDisk({ diskId: disk.id, mountPath: "relative" }), CreateosSandboxValidationError);

  assert.deepEqual(await sandbox.detachDisk({ diskId: disk.id, mountPath: "/mnt/compat" }), { detached: true });
  assert.deepEqual(await sandbox.listDisks(), []);
  assert.equal((await sandbox.runCommand("mountpoint", ["-q", "/mnt/compat"])).result.exit_code, 32, "not a mount point");
  assert.deepEqual(await client.disks.delete("compat-disk"), { deleted: true });
  await rejectsWith(client.disks.get(disk.id), CreateosSandboxNotFoundError);
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
