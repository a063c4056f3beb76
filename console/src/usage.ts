import { api, list } from "./api";
import { el, showError } from "./ui";
import { LineChart, bytes } from "./chart";

const WINDOWS: [string, number, number][] = [["Last hour", 3600, 60], ["Last 6 hours", 6 * 3600, 300], ["Last 24 hours", 86400, 900]];

/** The account's usage across its sandboxes (interactive-api.md §7.2–7.3): totals and per-bucket charts. */
export function usagePage(root: HTMLElement): () => void {
  const range = el("select", { id: "usage-window" }, ...WINDOWS.map(([label], i) => el("option", { value: String(i), selected: i === 0 }, label)));
  const totals = el("dl", { id: "usage-totals", className: "details" });
  const running = new LineChart("usage-running", "Sandboxes running", (v) => v.toFixed(0));
  const cpu = new LineChart("usage-cpu", "CPU used (average cores)", (v) => v.toFixed(2), undefined, 0.1);
  const now = el("tbody");
  const traffic = new LineChart("usage-traffic", "Traffic (per bucket)", bytes, undefined, 1024);
  root.append(el("h1", {}, "Usage"),
    el("div", { className: "filters" }, el("label", { for: "usage-window" }, "Window"), range),
    el("section", { className: "card", "aria-label": "Usage totals" }, el("h2", {}, "Totals"), totals),
    el("section", { className: "card", "aria-label": "Usage charts" }, el("h2", {}, "Over time"),
      el("div", { className: "charts" }, running.node, cpu.node, traffic.node)),
    el("section", { className: "card", "aria-label": "Running sandboxes now" }, el("h2", {}, "Running sandboxes now"),
      el("div", { className: "scroll" }, el("table", { className: "list", id: "usage-sandboxes", "aria-label": "Running sandboxes and their use" },
        el("thead", {}, el("tr", {}, ...["Sandbox", "CPU", "Memory", "Disk", "Network rx / tx"].map((h) => el("th", { scope: "col" }, h)))),
        now))),
    el("p", { className: "note" }, "The server keeps the newest 24 hours in memory: a restart starts the series afresh."));

  async function load() {
    const [, span, step] = WINDOWS[Number(range.value)];
    const to = new Date(Math.ceil(Date.now() / (step * 1000)) * step * 1000);
    const from = new Date(to.getTime() - span * 1000);
    const q = `from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}`;
    try {
      const [a, series]: any[] = await Promise.all([api("GET", `/v1/metrics?${q}`), api("GET", `/v1/metrics/timeseries?${q}&step=${step}`)]);
      const hours = (sec: number) => `${(sec / 3600).toFixed(2)} h`;
      const rows: [string, string][] = [
        ["Sandboxes now", `${a.sandboxes.running} running, ${a.sandboxes.paused} paused, ${a.sandboxes.other} other (${a.sandboxes.total} in all)`],
        ["Running time", hours(a.sandbox_seconds)], ["vCPU time allocated", hours(a.vcpu_seconds)],
        ["Memory allocated", `${(a.memory_mib_seconds / 1024 / 3600).toFixed(2)} GiB·h`], ["CPU time used", hours(a.cpu_core_seconds_used)],
        ["Egress", bytes(a.egress_bytes)], ["Ingress", bytes(a.ingress_bytes)]];
      totals.replaceChildren(...rows.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
      const pts: any[] = series.points ?? [];
      running.draw([{ label: "running", color: "#3a6ee8", values: pts.map((p) => p.running) }]);
      cpu.draw([{ label: "cores", color: "#d9822b", values: pts.map((p) => p.cpu_core_seconds_used / series.step_seconds) }]);
      traffic.draw([{ label: "egress", color: "#c2255c", values: pts.map((p) => p.egress_bytes) },
        { label: "ingress", color: "#2f9e44", values: pts.map((p) => p.ingress_bytes) }]);
    } catch (e) { showError(e); }
  }
  /** Each running sandbox's live figures (GET …/metrics), the busiest first; at most SHOWN of them. */
  async function loadNow() {
    const SHOWN = 20;
    try {
      const running = (await list("/v1/sandboxes?status=running")).slice(0, SHOWN);
      const figures = await Promise.all(running.map((s) =>
        api("GET", `/v1/sandboxes/${encodeURIComponent(s.id)}/metrics`).then((m: any) => ({ s, m }), () => ({ s, m: null as any }))));
      figures.sort((a, b) => (b.m?.cpu_pct ?? -1) - (a.m?.cpu_pct ?? -1));
      now.replaceChildren(...figures.map(({ s, m }) => el("tr", { "data-id": s.id },
        el("td", {}, el("a", { href: `#/sandboxes/${encodeURIComponent(s.id)}` }, s.name ?? s.id)),
        el("td", {}, m ? `${m.cpu_pct.toFixed(1)} % of ${m.cpu_cores_allocated} vCPU` : "–"),
        el("td", {}, m ? `${bytes(m.memory_bytes)} of ${bytes(m.memory_limit_bytes)}` : "–"),
        el("td", {}, m ? `${bytes(m.disk_used_bytes)} of ${bytes(m.disk_total_bytes)}` : "–"),
        el("td", {}, m ? `${bytes(m.net_rx_bytes)} / ${bytes(m.net_tx_bytes)}` : "–"))));
      if (!figures.length) now.append(el("tr", {}, el("td", { colSpan: 5 }, "No sandbox is running.")));
    } catch (e) { showError(e); }
  }
  range.addEventListener("change", load);
  load();
  loadNow();
  const timer = setInterval(load, 60_000);
  const nowTimer = setInterval(loadNow, 10_000);
  return () => { clearInterval(timer); clearInterval(nowTimer); };
}
