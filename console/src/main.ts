import "./style.css";
import { api, session } from "./api";
import { el, showError, clearError } from "./ui";
import { sandboxesPage } from "./sandboxes";
import { sandboxPage } from "./sandbox";

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
  leave = m ? sandboxPage(app, decodeURIComponent(m[1])) : sandboxesPage(app);
}

document.getElementById("signout")!.addEventListener("click", () => { session.clear(); clearError(); location.hash = ""; route(); });
window.addEventListener("hashchange", () => { clearError(); route(); });
route();
