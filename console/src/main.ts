import "./style.css";
import { api, session } from "./api";
import { el, showError, clearError } from "./ui";
import { resourcePage, sandboxesPage } from "./sandboxes";
import { sandboxPage } from "./sandbox";
import { keysPage } from "./keys";
import { templatesPage } from "./templates";
import { usagePage } from "./usage";

const app = document.getElementById("app")!;
const nav = document.getElementById("nav")!;
let leave: (() => void) | undefined; // the current page's cleanup (timers, sockets)

function signInPage(root: HTMLElement) {
  const input = el("input", { id: "apikey", type: "password", autocomplete: "off", required: true });
  const form = el("form", { className: "card signin" },
    el("h1", {}, "Sign in"),
    el("label", { for: "apikey" }, "API key"), input,
    el("button", { type: "submit" }, "Sign in"));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    session.set(input.value.trim());
    try {
      await api("GET", "/v1/whoami");
      clearError();
      if (location.hash === "#/sandboxes") route(); else location.hash = "#/sandboxes"; // hashchange routes
    } catch (e) { session.clear(); showError(e); }
  });
  root.append(form);
  input.focus();
}

export function route() {
  leave?.();
  leave = undefined;
  app.replaceChildren();
  const signedIn = session.key() !== null;
  nav.hidden = !signedIn;
  if (!signedIn) return signInPage(app);
  const m = location.hash.match(/^#\/sandboxes\/([^/]+)$/);
  const when = (x: any) => (x.created_at ? new Date(x.created_at).toLocaleString() : "");
  if (m) leave = sandboxPage(app, decodeURIComponent(m[1]));
  else if (location.hash === "#/networks") leave = resourcePage(app, "Networks", "/v1/networks", [["Name", (x) => x.name ?? x.id], ["Id", (x) => x.id], ["CIDR", (x) => x.cidr ?? ""], ["Created", when]]);
  else if (location.hash === "#/disks") leave = resourcePage(app, "Disks", "/v1/disks", [["Name", (x) => x.name ?? x.id], ["Id", (x) => x.id], ["Size (MiB)", (x) => String(x.size_mib ?? "")], ["Status", (x) => x.status ?? ""], ["Created", when]]);
  else if (location.hash === "#/keys") leave = keysPage(app, signOut);
  else if (location.hash === "#/templates") leave = templatesPage(app);
  else if (location.hash === "#/usage") leave = usagePage(app);
  else leave = sandboxesPage(app);
}

function signOut() { session.clear(); clearError(); location.hash = ""; route(); }

document.getElementById("signout")!.addEventListener("click", signOut);
window.addEventListener("hashchange", () => { clearError(); route(); });
route();
