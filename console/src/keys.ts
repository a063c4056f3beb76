import { api, list } from "./api";
import { el, showError, clearError } from "./ui";

/** The signed-in user's API keys (rest-api.md §5.7): list, create (the secret is shown once), revoke. */
export function keysPage(root: HTMLElement, signOut: () => void): () => void {
  const name = el("input", { id: "key-name", maxLength: 64, placeholder: "e.g. laptop, ci", autocomplete: "off" });
  const created = el("div", { id: "key-created", className: "card reveal", hidden: true, role: "status" });
  const tbody = el("tbody");
  const lastNote = el("p", { id: "keys-last-note", className: "note", hidden: true },
    "You have one active key, so it cannot be revoked: create another key first (revoking it would lock you out).");
  const form = el("form", { className: "card", "aria-label": "Create an API key" },
    el("h2", {}, "New key"),
    el("div", { className: "row" }, el("label", { for: "key-name" }, "Key name"), name, el("button", { type: "submit" }, "Create key")));
  root.append(el("h1", {}, "API keys"),
    el("p", {}, "Keys authenticate the API, the SDK and the CLI as you. A new key is shown once: copy it then."),
    form, created, lastNote,
    el("div", { className: "scroll" }, el("table", { className: "list", "aria-label": "API keys" },
      el("thead", {}, el("tr", {}, ...["Name", "Prefix", "Created", "Status", ""].map((h, i) => el("th", { scope: "col", className: i === 2 ? "wide" : "" }, h)))),
      tbody)));

  async function load() {
    try {
      const keys = await list("/v1/keys");
      const active = keys.filter((k) => !k.revoked_at).length;
      lastNote.hidden = active > 1;
      tbody.replaceChildren(...keys.map((k) => {
        const revoke = el("button", { type: "button", className: "danger", "aria-label": `Revoke key ${k.name ?? k.prefix}` }, "Revoke");
        revoke.disabled = !!k.revoked_at || active <= 1;
        if (active <= 1 && !k.revoked_at) revoke.title = "Your only active key: create another one before revoking it";
        revoke.addEventListener("click", async () => {
          const warn = k.current ? " This is the key you are signed in with: you will be signed out." : "";
          if (!confirm(`Revoke the key ${k.name ?? k.prefix}…? Programs using it stop working at once.${warn}`)) return;
          revoke.disabled = true;
          try {
            await api("DELETE", `/v1/keys/${encodeURIComponent(k.id)}`);
            clearError();
            if (k.current) return signOut();
          } catch (e) { showError(e); }
          load();
        });
        return el("tr", { "data-key": k.id },
          el("td", {}, k.name ?? "(unnamed)", k.current ? el("span", { className: "status running" }, " this session") : ""),
          el("td", { className: "mono" }, `${k.prefix}…`),
          el("td", { className: "wide" }, new Date(k.created_at).toLocaleString()),
          el("td", {}, k.revoked_at ? `revoked ${new Date(k.revoked_at).toLocaleString()}` : "active"),
          el("td", {}, revoke));
      }));
    } catch (e) { showError(e); }
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const k: any = await api("POST", "/v1/keys", name.value.trim() ? { name: name.value.trim() } : {});
      clearError();
      name.value = "";
      const secret = el("input", { id: "new-key", readOnly: true, value: k.key, className: "mono", "aria-label": "The new API key" });
      const copy = el("button", { type: "button" }, "Copy");
      copy.addEventListener("click", async () => {
        secret.select();
        try { await navigator.clipboard.writeText(k.key); copy.textContent = "Copied"; } catch { copy.textContent = "Select and copy by hand"; }
      });
      const hide = el("button", { type: "button" }, "I saved it: hide");
      hide.addEventListener("click", () => { created.hidden = true; created.replaceChildren(); });
      created.replaceChildren(
        el("p", {}, el("strong", {}, `Key ${k.name ?? k.prefix} created. `), "This is the only time it is shown: store it now."),
        el("div", { className: "row" }, secret, copy, hide));
      created.hidden = false;
      secret.select();
    } catch (e) { showError(e); }
    load();
  });
  load();
  return () => { created.replaceChildren(); };
}
