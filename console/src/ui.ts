import { ApiError } from "./api";

const errorBox = document.getElementById("error")!;

/** Errors in words, with the request id the operator can grep for. */
export function showError(e: unknown) {
  const msg = e instanceof ApiError
    ? `${e.message} (HTTP ${e.status}${e.code ? ", " + e.code : ""}${e.requestId ? ", request id " + e.requestId : ""})`
    : e instanceof Error ? e.message : String(e);
  errorBox.textContent = msg;
  errorBox.hidden = false;
}
export function clearError() { errorBox.hidden = true; errorBox.textContent = ""; }

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> & Record<string, any> = {},
  ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k.startsWith("aria-") || k === "for" || k.startsWith("data-")) node.setAttribute(k, String(v));
    else (node as any)[k] = v;
  }
  node.append(...children);
  return node;
}

