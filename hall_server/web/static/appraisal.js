// The monthly 考核表 /reports/appraisal?month=YYYY-MM&of=window|clerk (issue 18): every window's (or clerk's)
// figures of the month, ranked by the score the API computes, with the score's formula and weights written out
// as the API gives them (GET /api/v1/stats/appraisal, api/stats.py; the formula is defined in stats/figures.py),
// each figure's definition, and a print layout for A4 (appraisal.css: no header, controls or buttons on paper).
// The XLSX and CSV are the same query with format=…, and hold every figure; the sheet shows the appraised ones.

import {
  $, h, bi, api, clearError, showError, ApiError, loginPage, loadFigures, learnDefinitions, figureName, columnName,
  knownFigure, figureKeys, show, exact, unitOf, hallToday, parseDay, download, drawDefinitions,
} from "/static/reports_common.js";

const TOKEN_KEY = "onewindow.reports.token";          // the reports page's: one log-in for both
// What the sheet shows besides the weighted figures (the export has them all), in the contract's order.
const SHEET = ["served", "wait_p50_s", "wait_p90_s", "handle_mean_s", "expected_handle_s", "cases_accepted",
  "on_time_rate", "good_rate", "bad_count", "complaints", "on_seat_share", "away_events"];
// The score's parts that are not figures themselves (their rules are in the formula the API writes).
const PART_TEXT = { wait: ["等候得分", "wait part"], handling: ["办理得分", "handling part"],
  complaints: ["反映得分", "complaints part"] };
const OF_TEXT = { window: ["窗口", "window"], clerk: ["工作人员", "clerk"] };
const S = { q: null, seq: 0 };
const pad = (n) => String(n).padStart(2, "0");

function lastMonth() {
  const t = parseDay(hallToday());
  const d = new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth() - 1, 1));
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}`;
}

function fromAddress() {
  const p = new URLSearchParams(location.search);
  return { month: p.get("month") || lastMonth(), of: p.get("of") === "clerk" ? "clerk" : (p.get("of") || "window") };
}

function markOf(of) {
  for (const b of $("a-of").querySelectorAll("button")) b.setAttribute("aria-pressed", String(b.dataset.of === of));
}

function monthWords(month) {
  const m = /^(\d{4})-(\d{2})$/.exec(month || "");
  return m ? [`${m[1]} 年 ${Number(m[2])} 月`, month] : [month, month];
}

async function load(q) {
  clearError();
  S.q = q;
  history.replaceState(null, "", `/reports/appraisal?${new URLSearchParams(q)}`);
  $("a-month").value = q.month;
  markOf(q.of);
  const seq = ++S.seq;
  $("sheet").dataset.state = "loading";
  try {
    const data = await api("GET", `/api/v1/stats/appraisal?${new URLSearchParams(q)}`);
    if (seq !== S.seq) return;
    learnDefinitions(data.definitions);
    draw(q, data);
    $("sheet").dataset.state = "ready";
  } catch (exc) {
    if (seq !== S.seq) return;
    $("sheet").dataset.state = "error";
    if (exc instanceof ApiError && exc.status === 401) pageLogin.forget();
    showError(exc);
  }
}

function draw(q, data) {
  const [mzh, men] = monthWords(data.month || q.month);
  const of = OF_TEXT[data.of || q.of] || [q.of, q.of];
  const hall = document.body.dataset.hallName || "";
  $("sheet-title").replaceChildren(`${hall} ${mzh} ${of[0]}考核表`,
    h("span", { class: "en", lang: "en" }, ` Appraisal of the ${of[1]}s, ${men}`));
  document.title = `${mzh}${of[0]}考核表 · ${hall}`;
  const rows = [...(data.rows || [])].sort((a, b) => (a.rank ?? 1e9) - (b.rank ?? 1e9));
  $("sheet-sub").replaceChildren(`共 ${rows.length} 个${of[0]}，按得分排名 · 制表日期 ${hallToday()}`,
    h("span", { class: "en", lang: "en" }, ` ${rows.length} ${of[1]}s ranked by score · made ${hallToday()}`));
  const weights = data.weights || {};
  const shown = [...SHEET, ...Object.keys(weights).filter(knownFigure)];
  const keys = figureKeys(rows.length ? rows : [{}], shown).filter((k) => shown.includes(k));
  const empty = !rows.length;
  $("empty").hidden = !empty;
  $("table").hidden = empty;
  $("empty").replaceChildren(...(empty ? bi(data.message?.split(" / ")[0] || "本月没有可考核的数据",
    data.message?.split(" / ")[1] || "nothing to appraise in this month") : []));
  $("table-head").replaceChildren(h("tr", {},
    h("th", { scope: "col", class: "num rank" }, ...bi("名次", "rank")),
    h("th", { scope: "col", class: "rowhead" }, ...bi(of[0], of[1])),
    ...keys.map((k) => {
      const [zh, en] = columnName(k);
      const unit = unitOf(k);
      return h("th", { scope: "col", class: `num${k in weights ? " weighted" : ""}`, "data-key": k },
        zh, unit ? h("small", {}, `（${unit[0]}）`) : "", h("span", { class: "en", lang: "en" }, en));
    }),
    h("th", { scope: "col", class: "num score" }, ...bi("得分", "score"))));
  $("table-rows").replaceChildren(...rows.map((r) => h("tr", { "data-test-id": `row-${r.key}`, "data-key": r.key },
    h("td", { class: "num rank", "data-test-id": `rank-${r.key}` }, r.rank ?? "—"),
    h("th", { scope: "row", class: "rowhead" }, r.label || r.key),
    ...keys.map((k) => h("td", { class: "num", "data-key": k, title: exact(k, r[k]) || null }, show(k, r[k]))),
    h("td", { class: "num score", "data-test-id": `score-${r.key}` }, show("score", r.score)))));
  drawFormula(data, weights);
  drawDefinitions($("definitions"), keys);
}

// The formula as the API writes it ("中文… / English…"); else the weights in words. A weight is a share (0.3: 30 %).
function drawFormula(data, weights) {
  const share = (w) => (typeof w === "number" ? `${Math.round(w * (w <= 1 ? 1000 : 10)) / 10}%` : String(w));
  const name = (k) => PART_TEXT[k] || (knownFigure(k) ? figureName(k) : [k, k]);
  const text = data.score_definition || data.formula
    || (Object.keys(weights).length ? `得分 = ${Object.entries(weights).map(([k, w]) => `${share(w)} × ${name(k)[0]}`).join(" + ")}` : "");
  const cut = text.indexOf(" / ");
  $("formula").replaceChildren(...(cut < 0 ? [text || "—"] : bi(text.slice(0, cut), text.slice(cut + 3))));
  $("weights").replaceChildren(
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, ...bi("得分项", "part")),
      h("th", { scope: "col", class: "num" }, ...bi("权重", "weight")))),
    h("tbody", {}, ...Object.entries(weights).map(([k, w]) => h("tr", { "data-key": k },
      h("th", { scope: "row" }, ...bi(...name(k))), h("td", { class: "num" }, share(w))))));
}

function wire() {
  $("controls").addEventListener("submit", (ev) => {
    ev.preventDefault();
    load({ month: $("a-month").value || lastMonth(), of: S.q?.of || "window" });
  });
  $("a-month").addEventListener("change", () => { if ($("a-month").value) load({ ...S.q, month: $("a-month").value }); });
  for (const b of $("a-of").querySelectorAll("button")) {
    b.addEventListener("click", () => load({ month: $("a-month").value || lastMonth(), of: b.dataset.of }));
  }
  $("print").addEventListener("click", () => window.print());
  for (const b of [$("export-xlsx"), $("export-csv")]) {
    b.addEventListener("click", () => {
      const q = S.q || fromAddress();
      download(`/api/v1/stats/appraisal?${new URLSearchParams({ ...q, format: b.dataset.format })}`,
        `appraisal-${q.of}-${q.month}.${b.dataset.format}`);
    });
  }
}

async function begin() {
  await loadFigures();
  load(fromAddress());
}

wire();
const pageLogin = loginPage({ tokenKey: TOKEN_KEY, main: "sheet", begin });
