// What the statistics pages /reports and /reports/appraisal share: the supervisor's log-in (its own token in
// sessionStorage), the figures' names and definitions as the API gives them (GET /api/v1/stats/figures and each
// answer's `definitions` — never written here), figures in words and units, the hall's dates, and exports
// fetched with the token and handed to the browser as a download. An ES module on top of office_api.js.

import { $, h, bi, api, session, showError, clearError, ApiError } from "/static/office_api.js";

export { $, h, bi, api, session, showError, clearError, ApiError };

const ROLES = new Set(["supervisor", "admin"]);
const pad = (n) => String(n).padStart(2, "0");

// -- log-in ------------------------------------------------------------------------------------------------
// `main` is the page's <main> shown once logged in; `begin(me)` runs then (and after a reload with the token).
export function loginPage({ tokenKey, main, begin }) {
  const showMain = (loggedIn) => {
    $(main).hidden = !loggedIn;
    $("login-panel").hidden = loggedIn;
    $("logout").hidden = !loggedIn;
    if (!loggedIn) $("user").textContent = "";
  };
  const forget = () => {
    session.token = null;
    sessionStorage.removeItem(tokenKey);
    showMain(false);
  };
  const start = (me) => {
    $("user").textContent = `${me.username}（${me.role}）`;
    showMain(true);
    begin(me);
  };
  $("login-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearError();
    const form = ev.target;
    try {
      session.token = null;
      const r = await api("POST", "/api/v1/auth/login", { username: form.username.value.trim(), password: form.password.value });
      session.token = r.token;
      const me = await api("GET", "/api/v1/auth/me");
      if (!ROLES.has(me.role)) {
        await api("POST", "/api/v1/auth/logout").catch(() => {});
        throw new ApiError(403, { code: "role_forbidden", message_zh: `${me.username} 是 ${me.role}，统计报表需要值班长或管理员账号`,
          message_en: `${me.username} is a ${me.role}; the reports need a supervisor or admin account` });
      }
      sessionStorage.setItem(tokenKey, session.token);
      form.password.value = "";
      start(me);
    } catch (exc) {
      forget();
      showError(exc);
    }
  });
  $("logout").addEventListener("click", async () => { await api("POST", "/api/v1/auth/logout").catch(() => {}); forget(); });
  $("error-close").addEventListener("click", clearError);
  session.token = sessionStorage.getItem(tokenKey);
  if (!session.token) { showMain(false); return { forget }; }
  api("GET", "/api/v1/auth/me").then((me) => (ROLES.has(me.role) ? start(me) : forget())).catch(() => forget());
  return { forget };
}

// -- the figures: names from the API -------------------------------------------------------------------------
// The order of the table's columns: the contract's (design.md, issue 18); keys the API adds come after.
export const FIGURE_ORDER = ["issued", "served", "no_show", "transferred", "cancelled", "wait_p50_s", "wait_p90_s",
  "wait_max_s", "handle_mean_s", "handle_p90_s", "expected_handle_s", "open_s", "paused_s", "serving_s",
  "cases_accepted", "cases_refused", "cases_supplement_rate", "cases_immediate_share", "cases_decided",
  "cases_decided_on_time", "cases_overdue", "on_time_rate", "decide_mean_workdays", "handed_window", "handed_mail",
  "handed_locker", "uncollected", "rated", "good_rate", "bad_count", "rectified_on_time", "complaints",
  "complaints_on_time", "complaints_by_class", "on_seat_share", "away_events"];
const NOT_FIGURES = new Set(["key", "label", "rank", "score"]);
const meta = {};          // key → {zh, en, def}

// GET /api/v1/stats/figures, in whichever of the plain shapes it comes: {figures: {key: [zh, en, def]}},
// {key: {zh|name_zh, en|name_en, definition}} or a list of {key, ...}.
export function learnFigures(answer) {
  let figs = answer && answer.figures !== undefined ? answer.figures : answer;
  if (Array.isArray(figs)) figs = Object.fromEntries(figs.map((f) => [f.key, f]));
  for (const [key, f] of Object.entries(figs || {})) {
    if (Array.isArray(f)) meta[key] = { zh: f[0], en: f[1], def: f[2] || "" };
    else if (f && typeof f === "object") {
      meta[key] = { zh: f.zh || f.name_zh || f.name || key, en: f.en || f.name_en || "", def: f.definition || f.def || "" };
    }
  }
}

export function learnDefinitions(defs) {          // an answer's `definitions`: key → "中文… / English…"
  for (const [key, text] of Object.entries(defs || {})) {
    meta[key] = { ...(meta[key] || { zh: key, en: "" }), def: text };
  }
}

export async function loadFigures() {
  try { learnFigures(await api("GET", "/api/v1/stats/figures")); } catch { /* the answers' definitions still come */ }
}

export const figureName = (key) => (meta[key] ? [meta[key].zh, meta[key].en] : [key, ""]);
export const knownFigure = (key) => key in meta;
// The name without the unit the API writes into it ("等候中位数(秒)"), for a column that shows its own unit
// (the page shows waits in minutes and the windows' time in hours; the exact seconds are in each cell's title).
const UNIT_IN_NAME = /\s*[(（]\s*(秒|s)\s*[)）]\s*$/;
export function columnName(key) {
  const [zh, en] = figureName(key);
  return unitOf(key) && isSeconds(key) ? [zh.replace(UNIT_IN_NAME, ""), en.replace(UNIT_IN_NAME, "")] : [zh, en];
}
export const figureDefinition = (key) => (meta[key] ? meta[key].def : "");

export function figureKeys(rows, extra = []) {
  const seen = new Set();
  for (const r of rows) for (const k of Object.keys(r || {})) if (!NOT_FIGURES.has(k)) seen.add(k);
  for (const k of extra) if (!NOT_FIGURES.has(k)) seen.add(k);
  return [...FIGURE_ORDER.filter((k) => seen.has(k)), ...[...seen].filter((k) => !FIGURE_ORDER.includes(k)).sort()];
}

// -- figures in words ----------------------------------------------------------------------------------------
const CLASS_ZH = { simple: "简易", complex: "复杂", special: "特殊" };
export const isRate = (key) => /(_rate|_share)$/.test(key);
export const isSeconds = (key) => /_s$/.test(key);
const LONG = new Set(["open_s", "paused_s", "serving_s"]);

export function unitOf(key) {
  if (isRate(key)) return ["%", "%"];
  if (LONG.has(key)) return ["小时", "h"];
  if (isSeconds(key)) return ["分钟", "min"];
  if (key === "decide_mean_workdays") return ["工作日", "working days"];
  return null;
}

// A figure as the table shows it: null (not applicable / no data) is "—", never 0.
export function show(key, v) {
  if (v === null || v === undefined) return "—";
  if (key === "complaints_by_class" && typeof v === "object") {
    return Object.entries(v).map(([c, n]) => `${CLASS_ZH[c] || c} ${n}`).join(" · ") || "—";
  }
  if (typeof v !== "number") return String(v);
  if (isRate(key)) return `${(Math.round(v * 1000) / 10).toFixed(1)}%`;
  if (LONG.has(key)) return (v / 3600).toFixed(1);
  if (isSeconds(key)) return (v / 60).toFixed(1);
  if (key === "decide_mean_workdays" || key === "score") return v.toFixed(1);
  return String(v);
}

export const exact = (key, v) => (typeof v === "number" && isSeconds(key) ? `${Math.round(v)} 秒 / s` : "");

// -- the hall's dates ---------------------------------------------------------------------------------------
export const iso = (d) => `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
export const parseDay = (s) => new Date(`${s}T00:00:00Z`);
export const hallToday = () => document.body.dataset.today;

export function quickRange(which, today = hallToday()) {
  const t = parseDay(today);
  const y = t.getUTCFullYear();
  const m = t.getUTCMonth();
  switch (which) {
    case "today": return [today, today];
    case "week": {
      const monday = new Date(t);
      monday.setUTCDate(t.getUTCDate() - ((t.getUTCDay() + 6) % 7));
      return [iso(monday), today];
    }
    case "month": return [iso(new Date(Date.UTC(y, m, 1))), today];
    case "last-month": return [iso(new Date(Date.UTC(y, m - 1, 1))), iso(new Date(Date.UTC(y, m, 0)))];
    case "year": return [iso(new Date(Date.UTC(y, 0, 1))), today];
    default: return null;
  }
}

// -- exports: the token is a header, so the file is fetched and handed over as a download ---------------------
export async function download(path, fallbackName) {
  try {
    const r = await fetch(path, { headers: { authorization: `Bearer ${session.token}` }, cache: "no-store" });
    if (!r.ok) {
      let data = null;
      try { data = await r.json(); } catch { /* not JSON */ }
      throw new ApiError(r.status, data?.error || { code: `http_${r.status}`, message_zh: `导出失败（${r.status}）`,
        message_en: `the export answered ${r.status}` });
    }
    const blob = await r.blob();
    const m = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(r.headers.get("content-disposition") || "");
    const a = h("a", { href: URL.createObjectURL(blob), download: m ? decodeURIComponent(m[1]) : fallbackName });
    document.body.append(a);
    a.click();
    setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  } catch (exc) {
    showError(exc);
  }
}

// The definitions list (dl) of the given figures.
export function drawDefinitions(dl, keys) {
  dl.replaceChildren(...keys.flatMap((k) => {
    const [zh, en] = figureName(k);
    const def = figureDefinition(k);
    return [h("dt", { "data-key": k }, ...bi(zh, en)), h("dd", { "data-test-id": `def-${k}` }, def || "—")];
  }));
}
