// The console's only door to the control plane: same origin, the API key from sessionStorage in X-Api-Key.
const KEY = "createos.apiKey";

export const session = {
  key: (): string | null => sessionStorage.getItem(KEY),
  set: (k: string) => sessionStorage.setItem(KEY, k),
  clear: () => sessionStorage.removeItem(KEY),
};

export class ApiError extends Error {
  constructor(message: string, readonly status: number, readonly requestId: string | null, readonly code?: string) {
    super(message);
  }
}

function headers(extra: Record<string, string> = {}): Record<string, string> {
  const k = session.key();
  return k ? { "X-Api-Key": k, ...extra } : extra;
}

/** A readable message from a JSend fail/error body, whatever its shape. */
export function describe(body: any, status: number): { message: string; code?: string } {
  if (body && body.status === "error") return { message: body.message ?? `HTTP ${status}`, code: String(body.code ?? "") };
  const d = body?.data;
  if (typeof d === "string") return { message: d };
  if (d && typeof d === "object") {
    const code = typeof d.code === "string" ? d.code : undefined;
    const parts = Object.entries(d).filter(([k]) => k !== "code").map(([k, v]) => (k === "message" ? String(v) : `${k}: ${v}`));
    return { message: parts.join(", ") || `HTTP ${status}`, code };
  }
  return { message: `HTTP ${status}` };
}

async function failure(res: Response): Promise<ApiError> {
  let body: any = null;
  try { body = await res.json(); } catch { /* not JSON */ }
  const { message, code } = describe(body, res.status);
  return new ApiError(message, res.status, res.headers.get("X-Request-Id"), code);
}

export async function api<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    headers: headers(body === undefined ? {} : { "Content-Type": "application/json" }),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw await failure(res);
  if (res.status === 204) return undefined as T;
  return (await res.json()).data as T;
}

export async function download(id: string, path: string): Promise<Blob> {
  const res = await fetch(`/v1/sandboxes/${encodeURIComponent(id)}/files?path=${encodeURIComponent(path)}`, { headers: headers() });
  if (!res.ok) throw await failure(res);
  return res.blob();
}

/** PUT a file with upload progress (fetch has none for request bodies, so XMLHttpRequest). */
export function upload(id: string, path: string, file: Blob, progress: (fraction: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", `/v1/sandboxes/${encodeURIComponent(id)}/files?path=${encodeURIComponent(path)}`);
    for (const [k, v] of Object.entries(headers({ "Content-Type": "application/octet-stream" }))) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => e.lengthComputable && progress(e.loaded / e.total);
    xhr.onerror = () => reject(new ApiError("network error during upload", 0, null));
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) return resolve();
      let body: any = null;
      try { body = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      const { message, code } = describe(body, xhr.status);
      reject(new ApiError(message, xhr.status, xhr.getResponseHeader("X-Request-Id"), code));
    };
    xhr.send(file);
  });
}

/** Streamed exec (NDJSON frames: stdout, stderr, exit_code, error, hb). */
export async function execStream(id: string, cmd: string, args: string[], onFrame: (f: any) => void): Promise<void> {
  const res = await fetch(`/v1/sandboxes/${encodeURIComponent(id)}/exec?stream=true`, {
    method: "POST", headers: headers({ "Content-Type": "application/json" }), body: JSON.stringify({ cmd, args, stream: true }),
  });
  if (!res.ok) throw await failure(res);
  await readNdjson(res, onFrame);
}

/** A followed NDJSON stream (template build logs, rest-api.md §12.6), until it ends or {@code signal} aborts. */
export async function followNdjson(path: string, onFrame: (f: any) => void, signal: AbortSignal): Promise<void> {
  const res = await fetch(path, { headers: headers(), signal });
  if (!res.ok) throw await failure(res);
  await readNdjson(res, onFrame);
}

async function readNdjson(res: Response, onFrame: (f: any) => void): Promise<void> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value;
    let nl;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line) onFrame(JSON.parse(line));
    }
  }
}

/** Every item of a paginated list endpoint (rest-api.md §3: data.data + data.pagination.total, or a bare array). */
export async function list<T = any>(path: string): Promise<T[]> {
  const items: T[] = [];
  const sep = path.includes("?") ? "&" : "?";
  for (;;) {
    const page: any = await api("GET", `${path}${sep}limit=500&offset=${items.length}`);
    if (Array.isArray(page)) return items.concat(page);
    // A legacy wrapper ({"templates":[…]}, {"disks":[…]}) is complete (rest-api.md §3).
    const legacy = page.data === undefined ? Object.values(page).find(Array.isArray) as T[] | undefined : undefined;
    if (legacy) return items.concat(legacy);
    const got: T[] = page.data ?? [];
    items.push(...got);
    const total = page.pagination?.total;
    if (total === undefined || got.length === 0 || items.length >= total) return items;
  }
}
