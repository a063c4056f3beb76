import { api, followNdjson, list } from "./api";
import { el, showError, clearError } from "./ui";
import { bytes } from "./chart";

const EXAMPLE = "FROM nodeops/sandbox:debian\nRUN apt-get update && apt-get install -y --no-install-recommends jq\nENV GREETING=hello\n";

/** Templates (rest-api.md §12): list, submit a Dockerfile, follow a build's log live, delete. */
export function templatesPage(root: HTMLElement): () => void {
  const name = el("input", { id: "tpl-name", required: true, placeholder: "my-template", autocomplete: "off" });
  const base = el("input", { id: "tpl-base", placeholder: "server default" });
  const dockerfile = el("textarea", { id: "tpl-dockerfile", rows: 6, required: true, className: "mono", value: EXAMPLE, spellcheck: false });
  const submit = el("button", { type: "submit" }, "Build template");
  const form = el("form", { className: "card", "aria-label": "Build a template" },
    el("h2", {}, "New template"),
    el("p", {}, "One FROM of an allowed base image; content arrives through RUN (no COPY or ADD)."),
    el("div", { className: "grid" },
      el("div", { className: "field" }, el("label", { for: "tpl-name" }, "Template name"), name),
      el("div", { className: "field" }, el("label", { for: "tpl-base" }, "Base rootfs (optional)"), base)),
    el("div", { className: "field" }, el("label", { for: "tpl-dockerfile" }, "Dockerfile"), dockerfile),
    el("div", { className: "row" }, submit));
  const tbody = el("tbody");
  const logTitle = el("h2", { id: "tpl-log-title" }, "Build log");
  const logState = el("p", { id: "tpl-log-state", role: "status" });
  const log = el("pre", { id: "tpl-log", className: "mono out", "aria-live": "polite", "aria-label": "Build log" });
  const logBox = el("section", { className: "card", "aria-label": "Build log section", hidden: true }, logTitle, logState, log);
  root.append(el("h1", {}, "Templates"), form,
    el("div", { className: "scroll" }, el("table", { className: "list", "aria-label": "Templates" },
      el("thead", {}, el("tr", {}, ...["Name", "Id", "Status", "Base", "Size", "Created", ""].map((h, i) => el("th", { scope: "col", className: i === 1 || i === 3 || i === 5 ? "wide" : "" }, h)))),
      tbody)), logBox);

  let following: AbortController | null = null;
  let timer: ReturnType<typeof setInterval> | undefined;

  async function load() {
    try {
      const items = await list("/v1/templates");
      tbody.replaceChildren(...items.map((t) => {
        const logs = el("button", { type: "button", "aria-label": `Build log of ${t.name}` }, "Log");
        logs.addEventListener("click", () => follow(t));
        const del = el("button", { type: "button", className: "danger", "aria-label": `Delete template ${t.name}` }, "Delete");
        del.addEventListener("click", async () => {
          if (!confirm(`Delete the template ${t.name}? Sandboxes built from it are not affected.`)) return;
          try { await api("DELETE", `/v1/templates/${encodeURIComponent(t.id)}`); clearError(); } catch (e) { showError(e); }
          load();
        });
        return el("tr", { "data-template": t.id },
          el("td", {}, t.name), el("td", { className: "mono wide" }, t.id),
          el("td", {}, el("span", { className: `status ${t.status === "ready" ? "running" : t.status === "failed" ? "error" : "paused"}` }, t.status)),
          el("td", { className: "wide" }, t.base ?? ""), el("td", {}, t.ext4_size_bytes ? bytes(t.ext4_size_bytes) : ""),
          el("td", { className: "wide" }, t.created_at ? new Date(t.created_at).toLocaleString() : ""),
          el("td", { className: "actions" }, logs, del));
      }));
      if (!items.length) tbody.append(el("tr", {}, el("td", { colSpan: 7 }, "No templates yet.")));
      // Poll while a build is unfinished, so the statuses stay live without a reload.
      const busy = items.some((t) => t.status === "pending" || t.status === "building");
      if (busy && !timer) timer = setInterval(load, 3000);
      if (!busy && timer) { clearInterval(timer); timer = undefined; }
    } catch (e) {
      showError(e);
      tbody.replaceChildren(el("tr", {}, el("td", { colSpan: 7 }, `Templates are not available: ${(e as Error).message}`)));
    }
  }

  /** The log so far, then every new line, until the final frame (or the stream closes: then GET says how it ended). */
  async function follow(t: any) {
    following?.abort();
    const mine = new AbortController();
    following = mine;
    logBox.hidden = false;
    logTitle.textContent = `Build log of ${t.name}`;
    logState.textContent = "Following…";
    log.textContent = "";
    let final: string | undefined;
    try {
      await followNdjson(`/v1/templates/${encodeURIComponent(t.id)}/logs?follow=true`, (f) => {
        if (typeof f.line === "string") log.append(f.line.endsWith("\n") ? f.line : f.line + "\n");
        if (f.final) final = f.status;
        log.scrollTop = log.scrollHeight;
      }, mine.signal);
      if (!final) final = ((await api("GET", `/v1/templates/${encodeURIComponent(t.id)}`)) as any).status;
      logState.textContent = `Build ${final}.`;
    } catch (e) {
      if (mine.signal.aborted) return;
      logState.textContent = "The log could not be followed.";
      showError(e);
    }
    if (following === mine) following = null;
    load();
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body: any = { name: name.value.trim(), dockerfile: dockerfile.value };
    if (base.value.trim()) body.base = base.value.trim();
    submit.disabled = true;
    try {
      const t: any = await api("POST", "/v1/templates", body);
      clearError();
      name.value = "";
      await load();
      follow(t);
    } catch (e) { showError(e); }
    finally { submit.disabled = false; }
  });
  load();
  return () => { following?.abort(); if (timer) clearInterval(timer); };
}
