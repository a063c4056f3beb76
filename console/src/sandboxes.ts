import { api, list } from "./api";
import { el, showError, clearError } from "./ui";

const STATUSES = ["", "creating", "running", "paused", "stopped", "error", "destroyed"];

/** The sandbox list (polled, so status is live) and the create form. Returns the page's cleanup. */
export function sandboxesPage(root: HTMLElement): () => void {
  const filter = el("select", { id: "status-filter" }, ...STATUSES.map((s) => el("option", { value: s }, s || "all")));
  const search = el("input", { id: "name-filter", type: "search", placeholder: "name or id" });
  const tbody = el("tbody");
  const table = el("table", { className: "list", "aria-label": "Sandboxes" },
    el("thead", {}, el("tr", {}, ...["Name", "Id", "Status", "Shape", "Rootfs", "Created"].map((h, i) => el("th", { scope: "col", className: i === 1 || i > 3 ? "wide" : "" }, h)))),
    tbody);
  root.append(el("h1", {}, "Sandboxes"),
    el("details", { className: "card create-box" }, el("summary", {}, "New sandbox"), createForm()),
    el("div", { className: "filters" },
      el("label", { for: "status-filter" }, "Status"), filter,
      el("label", { for: "name-filter" }, "Search"), search),
    el("div", { className: "scroll" }, table));

  let rows: any[] = [];
  const render = () => {
    const q = search.value.trim().toLowerCase();
    tbody.replaceChildren(...rows
      .filter((s) => !q || (s.name ?? "").toLowerCase().includes(q) || s.id.toLowerCase().includes(q))
      .map((s) => el("tr", { "data-id": s.id },
        el("td", {}, el("a", { href: `#/sandboxes/${encodeURIComponent(s.id)}` }, s.name ?? s.id)),
        el("td", { className: "mono wide" }, s.id),
        el("td", {}, el("span", { className: `status ${s.status}` }, s.status)),
        el("td", {}, s.shape ?? ""), el("td", { className: "wide" }, s.rootfs ?? ""),
        el("td", { className: "wide" }, new Date(s.created_at).toLocaleString()))));
    if (!tbody.children.length) tbody.append(el("tr", {}, el("td", { colSpan: 6 }, "No sandboxes.")));
  };
  const load = async () => {
    try {
      const status = filter.value;
      rows = await list(`/v1/sandboxes${status ? "?status=" + status : ""}`);
      render();
    } catch (e) { showError(e); }
  };
  filter.addEventListener("change", load);
  search.addEventListener("input", render);
  load();
  const timer = setInterval(load, 3000);
  return () => clearInterval(timer);
}

function createForm(): HTMLElement {
  const shape = el("select", { id: "shape", required: true });
  const rootfs = el("select", { id: "rootfs" });
  const name = el("input", { id: "name", placeholder: "auto" });
  const envs = el("textarea", { id: "envs", rows: 2, placeholder: "KEY=value, one per line" });
  const egress = el("input", { id: "egress", placeholder: "allow all; or example.com, 10.0.0.0/8" });
  const ingress = el("input", { id: "ingress", type: "checkbox" });
  const autoPause = el("input", { id: "autopause", type: "number", min: "60", max: "86400", placeholder: "off" });
  const submit = el("button", { type: "submit" }, "Create sandbox");
  const progress = el("p", { id: "create-progress", role: "status" });
  list("/v1/shapes").then((shapes: any[]) => {
    shape.replaceChildren(...shapes.map((s) => el("option", { value: s.id }, `${s.id} (${s.vcpu} vCPU, ${s.mem_mib} MiB)`)));
  }).catch(showError);
  api("GET", "/v1/rootfs").then((r: any) => {
    rootfs.replaceChildren(...(r.rootfs as string[]).map((n) => el("option", { value: n, selected: n === r.default }, n)));
  }).catch(showError);
  const field = (id: string, label: string, input: HTMLElement) => el("div", { className: "field" }, el("label", { for: id }, label), input);
  const form = el("form", { className: "create", "aria-label": "Create a sandbox" },
    el("div", { className: "grid" },
      field("shape", "Shape", shape), field("rootfs", "Root filesystem", rootfs), field("name", "Name", name),
      field("egress", "Egress allowlist", egress), field("autopause", "Auto-pause after (s)", autoPause),
      field("ingress", "Public ingress", ingress), field("envs", "Environment", envs)),
    submit, progress);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body: any = { shape: shape.value };
    if (rootfs.value) body.rootfs = rootfs.value;
    if (name.value.trim()) body.name = name.value.trim();
    const env = Object.fromEntries(envs.value.split("\n").map((l) => l.trim()).filter(Boolean).map((l) => {
      const i = l.indexOf("=");
      return i < 0 ? [l, ""] : [l.slice(0, i), l.slice(i + 1)];
    }));
    if (Object.keys(env).length) body.envs = env;
    const eg = egress.value.split(/[\s,]+/).filter(Boolean);
    if (eg.length) body.egress = eg;
    if (ingress.checked) body.ingress_enabled = true;
    if (autoPause.value) body.auto_pause_after_seconds = Number(autoPause.value);
    submit.disabled = true;
    const started = Date.now();
    const tick = setInterval(() => { progress.textContent = `Booting… ${((Date.now() - started) / 1000).toFixed(0)} s`; }, 500);
    progress.textContent = "Booting…";
    try {
      const created: any = await api("POST", "/v1/sandboxes", body);
      clearError();
      location.hash = `#/sandboxes/${encodeURIComponent(created.id)}`;
    } catch (e) { showError(e); progress.textContent = "Create failed."; }
    finally { clearInterval(tick); submit.disabled = false; }
  });
  return form;
}

/** A read-only list page for one paginated resource (networks, disks, templates). */
export function resourcePage(root: HTMLElement, title: string, path: string, columns: [string, (x: any) => string][]): () => void {
  const tbody = el("tbody");
  root.append(el("h1", {}, title), el("div", { className: "scroll" }, el("table", { className: "list", "aria-label": title },
    el("thead", {}, el("tr", {}, ...columns.map(([h]) => el("th", { scope: "col" }, h)))), tbody)));
  list(path).then((items) => {
    tbody.replaceChildren(...items.map((x) => el("tr", {}, ...columns.map(([, f]) => el("td", {}, f(x) ?? "")))));
    if (!items.length) tbody.append(el("tr", {}, el("td", { colSpan: columns.length }, `No ${title.toLowerCase()}.`)));
  }).catch((e) => {
    showError(e);
    tbody.replaceChildren(el("tr", {}, el("td", { colSpan: columns.length }, `${title} are not available: ${e.message}`)));
  });
  return () => {};
}
