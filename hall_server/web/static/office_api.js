// What the back office page /office shares between its modules: elements, the API as the logged-in officer,
// the error banner, and the hall's dates and times. No framework, no build.

export const TOKEN_KEY = "onewindow.office.token";

export const $ = (id) => document.querySelector(`[data-test-id="${id}"]`);
const pad = (n) => String(n).padStart(2, "0");

export function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== "") e.append(c);
  return e;
}

export const bi = (zh, en) => [zh, " ", h("span", { class: "en", lang: "en" }, en)];

// -- words -----------------------------------------------------------------------------------------------
export const STATUS_TEXT = {
  received: ["已收件", "received"], supplement: ["待补正", "awaiting materials"], accepted: ["已受理", "accepted"],
  refused: ["不予受理", "refused"], in_review: ["审查中", "in review"], suspended: ["暂停计时", "clock stopped"],
  decided: ["已办结", "decided"], ready: ["待取件", "ready"], delivered: ["已出件", "handed out"],
  withdrawn: ["已撤回", "withdrawn"],
};
export const DEADLINE_TEXT = { ok: ["正常", "on time"], amber: ["将到期", "due soon"], red: ["已超期", "overdue"] };
export const TASK_TEXT = { open: ["未认领", "unclaimed"], claimed: ["已认领", "claimed"], decided: ["已决定", "decided"],
  closed: ["已关闭", "closed"] };
export const OUTCOME_TEXT = { approved: ["准予", "approved"], rejected: ["不予", "rejected"] };
export const KIND_TEXT = { 即办: "instant", 承诺: "promised", 上报: "reported up", 联办: "joint" };

export const word = (table, key) => bi(...(table[key] || [key, key]));

// How far a case is from its due date, in words as well as colour.
export function leftText(c) {
  const n = c.working_days_left;
  if (n === null || n === undefined) return ["—", ""];
  if (n < 0) return [`超期 ${-n} 个工作日`, `${-n} working day${n === -1 ? "" : "s"} overdue`];
  if (n === 0) return ["今日到期", "due today"];
  return [`剩 ${n} 个工作日`, `${n} working day${n === 1 ? "" : "s"} left`];
}

export function deadlineBadge(c, id) {
  const colour = c.status === "suspended" ? "paused" : c.deadline;
  const [zh, en] = c.status === "suspended" ? ["暂停计时", "paused"] : DEADLINE_TEXT[c.deadline] || [c.deadline, ""];
  return h("span", { class: `dl dl-${colour}`, "data-test-id": id, "data-deadline": c.deadline }, ...bi(zh, en));
}

// -- the hall's time (from the worklist's `now`) -----------------------------------------------------------
const clock = { offsetMin: 0, today: "" };

export function setHallTime(iso, today) {
  const m = /([+-])(\d\d):(\d\d)$/.exec(iso);
  clock.offsetMin = m ? (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
  clock.today = today;
}

export const hallToday = () => clock.today;

export function hallDateTime(iso) {         // "2026-11-24 09:41", the hall's wall time of a stored timestamp
  if (!iso) return "—";
  const t = new Date(Date.parse(iso) + clock.offsetMin * 60000);
  return `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())} `
    + `${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}`;
}

// -- the API ---------------------------------------------------------------------------------------------
export class ApiError extends Error {
  constructor(status, err) {
    super(err.message_en || `HTTP ${status}`);
    this.status = status;
    this.err = err;
  }
}

export const session = { token: sessionStorage.getItem(TOKEN_KEY), user: null };

export async function api(method, path, body) {
  const headers = { accept: "application/json" };
  if (session.token) headers.authorization = `Bearer ${session.token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  let r;
  try {
    r = await fetch(path, { method, headers, cache: "no-store", body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (exc) {
    throw new ApiError(0, { code: "network_error", message_zh: "无法连接服务器，请检查网络后重试",
      message_en: `${method} ${path}: the hall server did not answer (${exc.message}); check the network and retry` });
  }
  if (r.status === 204) return null;
  let data = null;
  try { data = await r.json(); } catch { /* not JSON: described below */ }
  if (!r.ok) {
    const err = data && data.error ? data.error : { code: `http_${r.status}`, message_zh: `服务器返回 ${r.status}，请重试`,
      message_en: `${method} ${path} answered ${r.status}; retry` };
    throw new ApiError(r.status, err);
  }
  return data;
}

export function showError(exc) {
  const err = exc instanceof ApiError ? exc.err
    : { code: "error", message_zh: `页面出错：${exc}，请刷新页面`, message_en: `page error: ${exc}; reload the page` };
  $("error-code").textContent = err.code || "";
  $("error-zh").textContent = err.message_zh || "";
  $("error-en").textContent = err.message_en || "";
  $("error").hidden = false;
}

export const clearError = () => { $("error").hidden = true; };
