// The dashboard's 好差评 panel: satisfaction today or this month (好评率 = levels 4–5 among the rated) per window,
// clerk, matter and department, and the open 差评 records with their due steps, from
// GET /api/v1/feedback/summary?period=today|month (hall_server/api/evaluations.py). Read again only after an
// evaluation.* or badrating.* event (noteFeedbackEvent) or a minute on, not with every snapshot: the figures are
// a grouped query of the month. dashboard.js calls refreshFeedback(api) after each snapshot it draws.

const STALE_MS = 60000;
const DIMS = [["window", "窗口", "Window"], ["clerk", "人员", "Clerk"], ["matter", "事项", "Matter"],
  ["department", "部门", "Department"]];
const DEADLINE = { ok: ["正常", "on time"], amber: ["将到期", "due soon"], red: ["已超期", "overdue"] };
const F = { period: "today", dim: "window", dirty: true, last: 0, seq: 0, api: null, data: null, wired: false };

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) e.setAttribute(k, v);
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== "") e.append(c);
  return e;
}
const en = (text) => el("span", { class: "en", lang: "en" }, text);
const q = (id) => document.querySelector(`[data-test-id="${id}"]`);
const rate = (r) => (r === null || r === undefined ? "—" : `${Math.round(r * 1000) / 10}%`);

export function noteFeedbackEvent(e) {
  if (e && /^(evaluation|badrating)\./.test(e.type || "")) F.dirty = true;
}

export function refreshFeedback(api) {
  F.api = api;
  if (!q("fb-panel")) return;
  wire();
  if (!F.dirty && Date.now() - F.last < STALE_MS) return;
  load();
}

async function load() {
  F.dirty = false;
  F.last = Date.now();
  const seq = ++F.seq;
  try {
    const data = await F.api("GET", `/api/v1/feedback/summary?period=${F.period}`);
    if (seq !== F.seq) return;            // a later read is under way
    F.data = data;
    draw();
  } catch {
    F.dirty = true;                       // read again with the next snapshot
  }
}

function wire() {
  if (F.wired) return;
  F.wired = true;
  for (const [p] of [["today"], ["month"]]) {
    q(`fb-period-${p}`).addEventListener("click", () => {
      F.period = p;
      for (const o of ["today", "month"]) q(`fb-period-${o}`).setAttribute("aria-pressed", String(o === p));
      load();
    });
  }
  q("fb-dims").replaceChildren(...DIMS.map(([d, zh, e]) => {
    const b = el("button", { type: "button", class: "ghost", "data-test-id": `fb-dim-${d}`, "aria-pressed": String(d === F.dim) },
      zh, " ", en(e));
    b.addEventListener("click", () => {
      F.dim = d;
      for (const o of q("fb-dims").children) o.setAttribute("aria-pressed", String(o === b));
      draw();
    });
    return b;
  }));
}

function draw() {
  const d = F.data;
  if (!d) return;
  const t = d.totals || {};
  q("fb-panel").dataset.period = F.period;
  q("fb-totals").replaceChildren(
    el("li", {}, "已评 ", en("rated"), el("b", { "data-test-id": "fb-rated" }, String(t.rated || 0))),
    el("li", { class: "good" }, "好评 ", en("good"), el("b", { "data-test-id": "fb-good" }, String(t.good || 0))),
    el("li", { class: "bad" }, "差评 ", en("bad"), el("b", { "data-test-id": "fb-bad" }, String(t.bad || 0))),
    el("li", {}, "未评 ", en("not rated"), el("b", { "data-test-id": "fb-not-rated" }, String(t.not_rated || 0))),
    el("li", { class: "rate" }, "好评率 ", en("good rate"), el("b", { "data-test-id": "fb-good-rate" }, rate(t.good_rate))));
  const rows = ((d.by || {})[F.dim] || []).map((r) => {
    const key = r.key === null || r.key === undefined ? "none" : String(r.key);
    const name = F.dim === "window" && r.key !== null ? `${r.key} 号 ${r.name || ""}` : (r.name || r.key || "—");
    return el("tr", { "data-test-id": `fb-row-${F.dim}-${key}` },
      el("th", { scope: "row", title: name }, name),
      el("td", { class: "num" }, String(r.rated)),
      el("td", { class: "num", "data-test-id": `fb-rate-${F.dim}-${key}` }, rate(r.good_rate)),
      el("td", { class: "num" }, String(r.bad)));
  });
  if (!rows.length) rows.push(el("tr", { class: "empty" }, el("td", { colspan: "4", class: "muted" }, "暂无评价 ", en("no ratings yet"))));
  q("fb-rows").replaceChildren(...rows);
  const b = d.badratings || { open: 0, amber: 0, red: 0, items: [] };
  q("fb-open-line").replaceChildren("未办结差评 ", en("open"), el("b", { "data-test-id": "fb-open" }, String(b.open)),
    " · 将到期 ", en("amber"), el("b", { "data-test-id": "fb-amber" }, String(b.amber)),
    " · 已超期 ", en("red"), el("b", { "data-test-id": "fb-red" }, String(b.red)));
  q("fb-open-line").classList.toggle("alerting", b.red > 0);
  const items = b.items.map((x) => el("li", { "data-test-id": `fb-badrating-${x.id}`, class: `fbr fbr-${x.deadline}`,
    "data-state": x.state },
    el("b", {}, x.number), " ", el("span", {}, x.state_name), " ",
    el("span", { class: "num" }, x.due ? `期限 ${x.due}` : ""), " ",
    el("span", { class: `fdl fdl-${x.deadline}` }, (DEADLINE[x.deadline] || [x.deadline])[0]),
    x.window ? el("span", { class: "muted" }, ` ${x.window} 号窗口`) : ""));
  if (!items.length) items.push(el("li", { class: "muted" }, "没有未办结的差评 ", en("no open bad ratings")));
  q("fb-open-list").replaceChildren(...items);
}
