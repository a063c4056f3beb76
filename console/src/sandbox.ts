import { Terminal } from "@xterm/xterm";
import { FitAddon } from "@xterm/addon-fit";
import "@xterm/xterm/css/xterm.css";
import { api, download, execStream, upload } from "./api";
import { el, showError, clearError } from "./ui";
import { LineChart, bytes } from "./chart";

/** One sandbox: status and actions, a live terminal, files, exec and metrics. Returns the page's cleanup. */
export function sandboxPage(root: HTMLElement, id: string): () => void {
  const enc = encodeURIComponent(id);
  const title = el("h1", {}, id);
  const status = el("span", { id: "sb-status", className: "status", role: "status" });
  const details = el("dl", { className: "details" });
  const actions = el("div", { className: "actions" });
  const termBox = el("div", { id: "terminal", "aria-label": "Terminal" });
  const termNote = el("p", { id: "term-note" });
  const files = filesPanel(id);
  const exec = execPanel(id);
  const metrics = el("dl", { id: "metrics", className: "details" });
  const charts = metricCharts();
  const traffic = trafficPanel(id);
  root.append(el("p", {}, el("a", { href: "#/sandboxes" }, "← Sandboxes")),
    el("div", { className: "head" }, title, status), actions, details,
    el("section", { className: "card", "aria-label": "Terminal section" }, el("h2", {}, "Terminal"), termNote, termBox),
    files.node, exec, traffic.node,
    el("section", { className: "card", "aria-label": "Metrics section" }, el("h2", {}, "Metrics"), metrics,
      el("div", { className: "charts" }, ...charts.nodes)));

  let current: any = null;
  let shell: { close(): void } | null = null;
  const button = (label: string, run: () => Promise<unknown>) => {
    const b = el("button", { type: "button" }, label);
    b.addEventListener("click", async () => {
      b.disabled = true;
      try { await run(); clearError(); } catch (e) { showError(e); } finally { b.disabled = false; await refresh(); }
    });
    return b;
  };
  const pauseBtn = button("Pause", () => api("POST", `/v1/sandboxes/${enc}/pause`));
  const resumeBtn = button("Resume", () => api("POST", `/v1/sandboxes/${enc}/resume`));
  const forkBtn = button("Fork", async () => {
    const f: any = await api("POST", `/v1/sandboxes/${enc}/fork`, {});
    location.hash = `#/sandboxes/${encodeURIComponent(f.id)}`;
  });
  const destroyBtn = button("Destroy", async () => {
    if (!confirm(`Destroy ${current?.name ?? id}?`)) return;
    await api("DELETE", `/v1/sandboxes/${enc}`);
  });
  actions.append(pauseBtn, resumeBtn, forkBtn, destroyBtn);

  async function refresh() {
    try {
      current = await api("GET", `/v1/sandboxes/${enc}`);
    } catch (e) { showError(e); return; }
    title.textContent = current.name ?? id;
    status.textContent = current.status;
    status.className = `status ${current.status}`;
    const rows: [string, string | Node][] = [
      ["Id", id], ["Shape", current.shape ?? ""], ["Rootfs", current.rootfs ?? ""], ["IP", current.ip ?? ""],
      ["Egress", (current.egress ?? []).join(", ") || "allow all"], ["Env", (current.envs ?? []).join(", ")],
      ["Auto-pause", current.auto_pause_after_seconds ? `${current.auto_pause_after_seconds} s` : "off"],
    ];
    if (current.ingress_url_template) {
      const url = current.ingress_url_template.replace("<port>", "8080");
      rows.push(["Ingress", el("a", { href: url, rel: "noopener" }, current.ingress_url_template)]);
    }
    details.replaceChildren(...rows.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
    if (current.status === "running") {
      // A dropped or ended shell is reopened by the next refresh while the sandbox runs.
      if (!shell) { const opened = openShell(id, termBox, termNote, () => { if (shell === opened) shell = null; }); shell = opened; }
      api("GET", `/v1/sandboxes/${enc}/metrics`).then((m: any) => {
        const mib = (b: number) => `${(b / 1048576).toFixed(0)} MiB`;
        const rows: [string, string][] = [["CPU", `${m.cpu_pct?.toFixed(1)} % of ${m.cpu_cores_allocated} vCPU`],
          ["Memory", `${mib(m.memory_bytes)} of ${mib(m.memory_limit_bytes)}`], ["Disk", `${mib(m.disk_used_bytes)} of ${mib(m.disk_total_bytes)}`],
          ["Network", `rx ${m.net_rx_bytes} B, tx ${m.net_tx_bytes} B`], ["Processes", String(m.managed_processes ?? 0)]];
        metrics.replaceChildren(...rows.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
        charts.add(m);
      }).catch(() => {});
    } else {
      shell?.close(); shell = null;
      termNote.textContent = `The sandbox is ${current.status}; the terminal reconnects when it runs.`;
    }
    pauseBtn.disabled = current.status !== "running";
    resumeBtn.disabled = current.status !== "paused";
    forkBtn.disabled = !["running", "paused"].includes(current.status);
    destroyBtn.disabled = current.status.startsWith("destroy");
    traffic.refresh(current.status);
  }
  refresh();
  traffic.loadEgress();
  const timer = setInterval(refresh, 3000);
  return () => { clearInterval(timer); shell?.close(); };
}

/** xterm.js on /shell-ws with a one-use ticket (the API key never goes into a URL). */
function openShell(id: string, box: HTMLElement, note: HTMLElement, gone: () => void): { close(): void } {
  const term = new Terminal({ cursorBlink: true, convertEol: false, fontSize: 14 });
  const fit = new FitAddon();
  term.loadAddon(fit);
  box.replaceChildren();
  term.open(box);
  fit.fit();
  let ws: WebSocket | null = null;
  let closed = false;
  const onResize = () => fit.fit();
  window.addEventListener("resize", onResize);
  term.onResize(({ rows, cols }) => ws?.readyState === WebSocket.OPEN && ws.send(JSON.stringify({ type: "resize", rows, cols })));
  const encoder = new TextEncoder();
  term.onData((d) => ws?.readyState === WebSocket.OPEN && ws.send(encoder.encode(d)));
  note.textContent = "Connecting…";
  api("POST", `/v1/sandboxes/${encodeURIComponent(id)}/shell-ws/ticket`).then((t: any) => {
    if (closed) return;
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    ws = new WebSocket(`${proto}//${location.host}/v1/sandboxes/${encodeURIComponent(id)}/shell-ws?token=${encodeURIComponent(t.token)}`
      + `&rows=${term.rows}&cols=${term.cols}`, "createos.pty.v1");
    ws.binaryType = "arraybuffer";
    ws.onopen = () => { note.textContent = "Connected."; term.focus(); };
    ws.onmessage = (m) => {
      if (typeof m.data === "string") {
        const msg = JSON.parse(m.data);
        if (msg.type === "exit") note.textContent = `Shell exited (${msg.signal ?? "code " + msg.exit_code}).`;
      } else term.write(new Uint8Array(m.data));
    };
    ws.onclose = (c) => {
      if (closed) return;
      if (!note.textContent?.startsWith("Shell exited")) note.textContent = `Disconnected (${c.code}); reconnecting…`;
      gone();
    };
  }).catch((e) => { note.textContent = "Could not open the terminal; retrying…"; showError(e); gone(); });
  return {
    close() { closed = true; window.removeEventListener("resize", onResize); ws?.close(); term.dispose(); },
  };
}

function filesPanel(id: string) {
  const dir = el("input", { id: "dir", value: "/root" });
  const list = el("ul", { id: "file-list", className: "files", "aria-label": "Files" });
  const picker = el("input", { id: "upload", type: "file", multiple: true });
  const bar = el("progress", { id: "upload-progress", max: 1, value: 0, hidden: true });
  const drop = el("div", { className: "drop", id: "dropzone" }, "Drop files here to upload, or ", el("label", { for: "upload" }, "choose files"), picker);
  const refreshBtn = el("button", { type: "button" }, "List");
  const node = el("section", { className: "card", "aria-label": "Files section" }, el("h2", {}, "Files"),
    el("div", { className: "row" }, el("label", { for: "dir" }, "Directory"), dir, refreshBtn), drop, bar, list);
  const path = (name: string) => `${dir.value.replace(/\/+$/, "")}/${name}`;

  async function ls() {
    // There is no list endpoint (rest-api.md §8): list through exec, NUL-free and one entry per line.
    try {
      const r: any = await api("POST", `/v1/sandboxes/${encodeURIComponent(id)}/exec`,
        { cmd: "find", args: [dir.value, "-mindepth", "1", "-maxdepth", "1", "-printf", "%y %s %f\\n"] });
      if (r.result.exit_code !== 0) throw new Error(r.result.stderr || `find exited with ${r.result.exit_code}`);
      const entries = (r.result.stdout as string).split("\n").filter(Boolean).map((l) => {
        const [type, size, ...rest] = l.split(" ");
        return { type, size: Number(size), name: rest.join(" ") };
      }).sort((a, b) => a.name.localeCompare(b.name));
      list.replaceChildren(...entries.map((e) => {
        const li = el("li", {}, el("span", { className: "mono" }, e.type === "d" ? `${e.name}/` : e.name), ` ${e.type === "d" ? "" : e.size + " B"} `);
        if (e.type === "d") {
          const open = el("button", { type: "button" }, "Open");
          open.addEventListener("click", () => { dir.value = path(e.name); ls(); });
          li.append(open);
        } else {
          const get = el("button", { type: "button", "aria-label": `Download ${e.name}` }, "Download");
          get.addEventListener("click", async () => {
            try {
              const blob = await download(id, path(e.name));
              const a = el("a", { href: URL.createObjectURL(blob), download: e.name });
              a.click();
              setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
            } catch (err) { showError(err); }
          });
          li.append(get);
        }
        return li;
      }));
      if (!entries.length) list.append(el("li", {}, "Empty directory."));
    } catch (e) { showError(e); }
  }
  async function send(fs: FileList | File[]) {
    for (const f of Array.from(fs)) {
      bar.hidden = false;
      bar.value = 0;
      try { await upload(id, path(f.name), f, (x) => { bar.value = x; }); clearError(); } catch (e) { showError(e); }
    }
    bar.hidden = true;
    ls();
  }
  refreshBtn.addEventListener("click", ls);
  picker.addEventListener("change", () => picker.files && send(picker.files));
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => { e.preventDefault(); drop.classList.remove("over"); if (e.dataTransfer) send(e.dataTransfer.files); });
  return { node, ls };
}

function execPanel(id: string): HTMLElement {
  const cmd = el("input", { id: "exec-cmd", placeholder: "uname -a" });
  const out = el("pre", { id: "exec-out", className: "mono out", "aria-live": "polite" });
  const form = el("form", { className: "card", "aria-label": "Exec section" }, el("h2", {}, "Run a command"),
    el("div", { className: "row" }, el("label", { for: "exec-cmd" }, "Command (bash -c)"), cmd, el("button", { type: "submit" }, "Run")), out);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    out.textContent = "";
    try {
      await execStream(id, "bash", ["-c", cmd.value], (f) => {
        if (f.stdout) out.append(f.stdout);
        if (f.stderr) out.append(el("span", { className: "stderr" }, f.stderr));
        if (f.exit_code !== undefined) out.append(el("span", { className: "exit" }, `\n[exit ${f.exit_code}]`));
        if (f.error) out.append(el("span", { className: "stderr" }, `\n[error: ${f.error}]`));
      });
    } catch (e) { showError(e); }
  });
  return form;
}

/** CPU, memory and network of the last ~5 minutes, from the samples of GET …/metrics the page takes every 3 s. */
function metricCharts() {
  const KEEP = 100;
  const cpu = new LineChart("cpu-chart", "CPU (% of allocated)", (v) => `${v.toFixed(0)} %`, 100);
  const mem = new LineChart("memory-chart", "Memory (% of the guest's)", (v) => `${v.toFixed(0)} %`, 100);
  const net = new LineChart("network-chart", "Network (per second)", (v) => `${bytes(v)}/s`, undefined, 1024);
  const s = { cpu: [] as number[], mem: [] as number[], rx: [] as number[], tx: [] as number[] };
  let last: { at: number; rx: number; tx: number } | null = null;
  const push = (a: number[], v: number) => { a.push(v); if (a.length > KEEP) a.shift(); };
  return {
    nodes: [cpu.node, mem.node, net.node],
    add(m: any) {
      push(s.cpu, m.cpu_pct ?? 0);
      push(s.mem, m.memory_pct ?? 0);
      const at = Date.parse(m.as_of) || Date.now();
      // Counters are totals since boot: a rate is the difference of two samples (a reboot or restore restarts them).
      if (last && at > last.at && m.net_rx_bytes >= last.rx && m.net_tx_bytes >= last.tx) {
        const dt = (at - last.at) / 1000;
        push(s.rx, (m.net_rx_bytes - last.rx) / dt);
        push(s.tx, (m.net_tx_bytes - last.tx) / dt);
      }
      last = { at, rx: m.net_rx_bytes ?? 0, tx: m.net_tx_bytes ?? 0 };
      cpu.draw([{ label: "CPU", color: "#3a6ee8", values: s.cpu }]);
      mem.draw([{ label: "memory", color: "#d9822b", values: s.mem }]);
      net.draw([{ label: "received", color: "#2f9e44", values: s.rx }, { label: "sent", color: "#c2255c", values: s.tx }]);
    },
  };
}

/** Egress allowlist (rest-api.md §9.1–9.2) and bandwidth quota, use and recharge (§9.3–9.4). */
function trafficPanel(id: string) {
  const enc = encodeURIComponent(id);
  const rules = el("textarea", { id: "egress-rules", rows: 3, placeholder: "empty: allow all\nexample.com:443\n*.npmjs.org\n10.0.0.0/8" });
  const egressNote = el("p", { id: "egress-note", role: "status" });
  const egressForm = el("form", { "aria-label": "Egress allowlist" },
    el("h3", {}, "Egress allowlist"),
    el("div", { className: "field" }, el("label", { for: "egress-rules" }, "Allowed destinations (one per line)"), rules),
    el("div", { className: "row" }, el("button", { type: "submit" }, "Save allowlist"), egressNote));
  const meter = el("meter", { id: "bandwidth-meter", min: 0, max: 1, value: 0, "aria-label": "Bandwidth used" });
  const bw = el("dl", { id: "bandwidth", className: "details" });
  const amount = el("input", { id: "recharge-amount", type: "number", min: "1", step: "any", value: "1", required: true });
  const unit = el("select", { id: "recharge-unit", "aria-label": "Unit" },
    el("option", { value: String(1 << 20) }, "MiB"), el("option", { value: String(1 << 30), selected: true }, "GiB"));
  const rechargeForm = el("form", { "aria-label": "Recharge bandwidth" },
    el("div", { className: "row" }, el("label", { for: "recharge-amount" }, "Add to quota"), amount, unit, el("button", { type: "submit" }, "Recharge")));
  const node = el("section", { className: "card", "aria-label": "Egress and bandwidth section" }, el("h2", {}, "Egress and bandwidth"),
    egressForm, el("h3", {}, "Bandwidth"), meter, bw, rechargeForm);

  async function loadEgress() {
    try {
      const e: any = await api("GET", `/v1/sandboxes/${enc}/egress`);
      rules.value = (e.egress ?? []).join("\n");
      egressNote.textContent = e.egress?.length ? `${e.egress.length} rule(s): everything else is blocked.` : "Allow all.";
    } catch (e) { showError(e); }
  }
  egressForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const list = rules.value.split(/[\n,]+/).map((r) => r.trim()).filter(Boolean);
    try {
      await api("PUT", `/v1/sandboxes/${enc}/egress`, { egress: list });
      clearError();
      await loadEgress();
      egressNote.textContent = `Saved. ${egressNote.textContent}`;
    } catch (e) { showError(e); }
  });
  function showBandwidth(b: any) {
    const unmetered = b.quota_bytes < 0;
    meter.max = unmetered ? 1 : Math.max(1, b.quota_bytes);
    meter.value = unmetered ? 0 : b.used_bytes;
    const rows: [string, string][] = [
      ["Quota", unmetered ? "unmetered" : bytes(b.quota_bytes)], ["Egress used", bytes(b.used_bytes)],
      ["Remaining", unmetered ? "unmetered" : bytes(b.remaining_bytes)], ["Ingress (not counted)", bytes(b.ingress_bytes ?? 0)],
      ["State", b.capped ? "capped: egress blocked until a recharge" : "flowing"]];
    bw.replaceChildren(...rows.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
  }
  rechargeForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const add = Math.round(Number(amount.value) * Number(unit.value));
    if (!(add > 0)) return showError(new Error("Enter a positive amount to add."));
    try { showBandwidth(await api("POST", `/v1/sandboxes/${enc}/bandwidth/recharge`, { add_bytes: add })); clearError(); } catch (e) { showError(e); }
  });
  let lastBandwidth = 0;
  return {
    node, loadEgress,
    /** Bandwidth is read with the page's refresh, at most every 10 s, while the sandbox is not gone. */
    refresh(status: string) {
      if (status.startsWith("destroy") || Date.now() - lastBandwidth < 10_000) return;
      lastBandwidth = Date.now();
      api("GET", `/v1/sandboxes/${enc}/bandwidth`).then(showBandwidth).catch(showError);
    },
  };
}
