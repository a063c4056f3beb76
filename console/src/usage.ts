import { api } from "./api";
import { el, showError } from "./ui";
import { LineChart, bytes } from "./chart";

const WINDOWS: [string, number, number][] = [["Last hour", 3600, 60], ["Last 6 hours", 6 * 3600, 300], ["Last 24 hours", 86400, 900]];

/** The account's usage across its sandboxes (interactive-api.md §7.2–7.3): totals and per-bucket charts. */
export function usagePage(root: HTMLElement): () => void {
  const range = el("select", { id: "usage-window" }, ...WINDOWS.map(([label], i) => el("option", { value: String(i), selected: i === 0 }, label)));
  const totals = el("dl", { id: "usage-totals", className: "details" });
  const running = new LineChart("usage-running", "Sandboxes running", (v) => v.toFixed(0));
  const cpu = new LineChart("usage-cpu", "CPU used (average cores)", (v) => v.toFixed(2), undefined, 0.1);
  const traffic = new LineChart("usage-traffic", "Traffic (per bucket)", bytes, undefined, 1024);
  root.append(el("h1", {}, "Usage"),
    el("div", { className: "filters" }, el("label", { for: "usage-window" }, "Window"), range),
    el("section", { className: "card", "aria-label": "Usage totals" }, el("h2", {}, "Totals"), totals),
    el("section", { className: "card", "aria-label": "Usage charts" }, el("h2", {}, "Over time"),
      el("div", { className: "charts" }, running.node, cpu.node, traffic.node)),
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
  range.addEventListener("change", load);
  load();
  const timer = setInterval(load, 60_000);
  return () => clearInterval(timer);
}
