// The reports page /reports for supervisors (issue 18): filters (range with quick picks, window, clerk, matter,
// department, rows by), the charts (reports_charts.js), the table of every figure with the totals, the exports
// (XLSX, CSV: the same query with format=…) and each figure's definition as the API writes it. Everything is
// read from GET /api/v1/stats (api/stats.py) with the same filters: the table with by=<chosen>, the trend with
// by=day (by=week over more than 92 days), the bars with by=window, the heat map with by=hour&group_by2=weekday. The filters live in the page's
// address, so a report can be reloaded or bookmarked. An empty range says so, in the API's own words.

import {
  $, h, bi, api, showError, clearError, ApiError, loginPage, loadFigures, learnDefinitions, columnName, figureKeys,
  figureDefinition, show, exact, unitOf, quickRange, download, drawDefinitions,
} from "/static/reports_common.js";
import { drawTrend, drawWindowBars, drawHeat } from "/static/reports_charts.js";

const TOKEN_KEY = "onewindow.reports.token";
const FILTERS = ["window", "clerk", "matter", "department"];
const BY_TEXT = { window: ["窗口", "window"], clerk: ["工作人员", "clerk"], matter: ["事项", "matter"],
  group: ["事项分组", "group"], department: ["部门", "department"], channel: ["渠道", "channel"], day: ["日期", "day"],
  week: ["周", "week"], month: ["月", "month"], hour: ["时段", "hour"] };
const S = { seq: 0, clerksFor: "", query: null };

// -- the filters ----------------------------------------------------------------------------------------
function readForm() {
  const f = $("filters");
  const q = { from: f.elements.from.value, to: f.elements.to.value, by: f.elements.by.value };
  for (const k of FILTERS) if (f.elements[k].value) q[k] = f.elements[k].value;
  return q;
}

function fillForm(q) {
  const f = $("filters");
  f.elements.from.value = q.from;
  f.elements.to.value = q.to;
  f.elements.by.value = q.by || "window";
  for (const k of FILTERS) {
    const el = f.elements[k];
    if (q[k] && k === "clerk" && ![...el.options].some((o) => o.value === q[k])) el.append(h("option", { value: q[k] }, q[k]));
    el.value = q[k] || "";
  }
  markQuick(q);
}

function markQuick(q) {
  for (const b of $("quick").querySelectorAll("button")) {
    const r = quickRange(b.dataset.quick);
    b.setAttribute("aria-pressed", String(!!r && r[0] === q.from && r[1] === q.to));
  }
}

function fromAddress() {
  const p = new URLSearchParams(location.search);
  const [from, to] = quickRange("month");
  const q = { from: p.get("from") || from, to: p.get("to") || to, by: p.get("by") || "window" };
  for (const k of FILTERS) if (p.get(k)) q[k] = p.get(k);
  return q;
}

const qs = (q, extra = {}) => new URLSearchParams({ ...q, ...extra }).toString();

// The trend is by day; over more than a quarter a day's line is a comb of weekends, so it is by week.
const TREND_DAYS = 92;
const spanDays = (q) => Math.round((Date.parse(q.to) - Date.parse(q.from)) / 86400000) + 1;
const trendBy = (q) => (spanDays(q) > TREND_DAYS ? "week" : "day");

// -- reading the API --------------------------------------------------------------------------------------
async function load(q) {
  clearError();
  S.query = q;
  history.replaceState(null, "", `/reports?${qs(q)}`);
  markQuick(q);
  const seq = ++S.seq;
  $("report").dataset.state = "loading";
  const filters = Object.fromEntries(FILTERS.filter((k) => q[k]).map((k) => [k, q[k]]));
  const range = { from: q.from, to: q.to, ...filters };
  try {
    const [main, days, windows, heat] = await Promise.all([
      api("GET", `/api/v1/stats?${qs(q)}`),
      q.by === trendBy(q) ? null : api("GET", `/api/v1/stats?${qs(range, { by: trendBy(q) })}`),
      q.by === "window" ? null : api("GET", `/api/v1/stats?${qs(range, { by: "window" })}`),
      api("GET", `/api/v1/stats?${qs(range, { by: "hour", group_by2: "weekday" })}`),
    ]);
    if (seq !== S.seq) return;                      // a later query is under way
    learnDefinitions(main.definitions);
    drawAll(q, main, days || main, windows || main, heat);
    $("report").dataset.state = "ready";
    clerkChoices(q);
  } catch (exc) {
    if (seq !== S.seq) return;
    $("report").dataset.state = "error";
    if (exc instanceof ApiError && exc.status === 401) { pageLogin.forget(); }
    showError(exc);
  }
}

// The clerk filter offers the clerks with figures in the range (by=clerk of the same range).
async function clerkChoices(q) {
  const key = `${q.from}|${q.to}`;
  if (S.clerksFor === key) return;
  S.clerksFor = key;
  try {
    const r = await api("GET", `/api/v1/stats?${qs({ from: q.from, to: q.to, by: "clerk" })}`);
    const el = $("f-clerk");
    const keep = el.value;
    el.replaceChildren(h("option", { value: "" }, "全部 All"),
      ...r.rows.filter((row) => row.key).map((row) => h("option", { value: row.key }, row.label || row.key)));
    if (keep && ![...el.options].some((o) => o.value === keep)) el.append(h("option", { value: keep }, keep));
    el.value = keep;
  } catch { S.clerksFor = ""; }
}

// -- drawing ------------------------------------------------------------------------------------------------
function drawAll(q, main, days, windows, heat) {
  const byText = BY_TEXT[q.by] || [q.by, q.by];
  $("range-line").replaceChildren(`${q.from} 至 ${q.to} · 按${byText[0]}`,
    h("span", { class: "en", lang: "en" }, ` ${q.from} to ${q.to} · by ${byText[1]}`));
  const empty = !!main.empty;
  $("empty").hidden = !empty;
  $("empty").replaceChildren(...(empty ? splitMessage(main.message) : []));
  $("charts").hidden = empty;
  if (!empty) {
    const weekly = trendBy(q) === "week";
    $("trend-title").replaceChildren(...bi(weekly ? "每周趋势" : "每日趋势", weekly ? "Trend by week" : "Trend by day"));
    drawTrend($("chart-trend"), days.rows || []);
    drawWindowBars({ served: $("chart-served"), wait: $("chart-wait"), good: $("chart-good") }, windows.rows || []);
    drawHeat($("heat"), $("heat-legend"), heat.rows || []);
  }
  drawTable(q, main);
}

function splitMessage(text) {            // "中文 / English" → the Chinese, then the English beside it
  const msg = text || "所选范围内没有数据 / No data in this range";
  const i = msg.indexOf(" / ");
  return i < 0 ? [msg] : bi(msg.slice(0, i), msg.slice(i + 3));
}

function drawTable(q, data) {
  const rows = data.rows || [];
  const keys = figureKeys([data.totals || {}, ...rows], Object.keys(data.definitions || {}));
  const byText = BY_TEXT[q.by] || [q.by, q.by];
  $("row-count").textContent = String(rows.length);
  $("table-head").replaceChildren(h("tr", {},
    h("th", { scope: "col", class: "rowhead" }, ...bi(byText[0], byText[1])),
    ...keys.map((k) => {
      const [zh, en] = columnName(k);
      const unit = unitOf(k);
      return h("th", { scope: "col", class: "num", "data-key": k, title: figureDefinition(k) },
        zh, unit ? h("small", {}, `（${unit[0]}）`) : "", h("span", { class: "en", lang: "en" }, en + (unit && en ? ` (${unit[1]})` : "")));
    })));
  const line = (r, id, head) => h("tr", { "data-test-id": id, "data-key": r.key },
    h("th", { scope: "row", class: "rowhead" }, head),
    ...keys.map((k) => h("td", { class: "num", "data-key": k, "data-value": r[k] === null || r[k] === undefined
      ? "" : typeof r[k] === "object" ? JSON.stringify(r[k]) : String(r[k]), title: exact(k, r[k]) || null }, show(k, r[k]))));
  const body = rows.map((r) => line(r, `row-${r.key}`, r.label || r.key));
  if (!body.length) {
    body.push(h("tr", { class: "empty" }, h("td", { colspan: String(keys.length + 1), class: "muted" },
      ...splitMessage(data.message))));
  }
  $("table-rows").replaceChildren(...body);
  $("table-totals").replaceChildren(...(data.totals && rows.length
    ? [line(data.totals, "row-totals", h("b", {}, ...bi("合计", "total")))] : []));
  drawDefinitions($("definitions"), keys);
}

// -- wiring -------------------------------------------------------------------------------------------------
function wire() {
  const f = $("filters");
  f.addEventListener("submit", (ev) => { ev.preventDefault(); load(readForm()); });
  for (const name of ["window", "clerk", "matter", "department", "by"]) {
    f.elements[name].addEventListener("change", () => load(readForm()));
  }
  for (const b of $("quick").querySelectorAll("button")) {
    b.addEventListener("click", () => {
      const [from, to] = quickRange(b.dataset.quick);
      f.elements.from.value = from;
      f.elements.to.value = to;
      load(readForm());
    });
  }
  for (const b of [$("export-xlsx"), $("export-csv")]) {
    b.addEventListener("click", () => {
      const q = S.query || readForm();
      download(`/api/v1/stats?${qs(q, { format: b.dataset.format })}`, `stats-${q.by}-${q.from}-${q.to}.${b.dataset.format}`);
    });
  }
}

async function begin() {
  await loadFigures();
  const q = fromAddress();
  fillForm(q);
  load(q);
}

wire();
const pageLogin = loginPage({ tokenKey: TOKEN_KEY, main: "report", begin });
