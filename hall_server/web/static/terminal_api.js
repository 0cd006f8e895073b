// What the window terminal's modules share (terminal.js, and intake.js with its parts): the API client with
// the clerk's token from sessionStorage, its bilingual errors, and the small DOM helpers. An ES module.

export const SESSION_KEY = "onewindow.terminal";

export const $ = (id) => document.querySelector(`[data-test-id="${id}"]`);

export function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v === null || v === undefined) continue;
    if (k === "class") e.className = v;
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== "" && c !== false) e.append(c);
  return e;
}
export const en = (text) => h("span", { class: "en" }, text);

// An answer of the API that is not 2xx: its code, both messages and every detail it carries (e.g. `missing`).
export class ApiError extends Error {
  constructor(status, err) {
    super(err.message_en);
    this.status = status;
    this.code = err.code;
    this.zh = err.message_zh;
    this.en = err.message_en;
    this.details = err;
  }
}

export const session = {
  get() {
    try { return JSON.parse(sessionStorage.getItem(SESSION_KEY)) || null; } catch { return null; }
  },
  set(s) { sessionStorage.setItem(SESSION_KEY, JSON.stringify(s)); },
  clear() { sessionStorage.removeItem(SESSION_KEY); },
};

const NETWORK = { code: "network", message_zh: "连不上服务器，请检查网络后重试",
  message_en: "the hall server cannot be reached; check the network and try again" };

async function send(method, url, body, accept) {
  const headers = { accept };
  const s = session.get();
  if (s) headers.authorization = `Bearer ${s.token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  try {
    return await fetch(url, { method, headers, cache: "no-store",
      body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, NETWORK);
  }
}

async function failure(r) {
  let data = null;
  try { data = await r.json(); } catch { /* not JSON: described below */ }
  const err = data && data.error ? data.error : { code: `http_${r.status}`,
    message_zh: `服务器返回 ${r.status}，请重试`, message_en: `the server answered ${r.status}; try again` };
  return new ApiError(r.status, err);
}

// JSON in and out under /api/v1; 204 → null.
export async function api(method, path, body) {
  const r = await send(method, `/api/v1${path}`, body, "application/json");
  if (r.status === 204) return null;
  if (!r.ok) throw await failure(r);
  try { return await r.json(); } catch { return null; }
}

// A page the server renders for staff only (a notice's A4 page): its HTML, fetched with the clerk's token.
export async function staffPage(path) {
  const r = await send("GET", path, undefined, "text/html");
  if (!r.ok) throw await failure(r);
  return r.text();
}
