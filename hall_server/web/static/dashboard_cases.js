// The dashboard's cases panel (办件): every case by its state, the running ones by deadline colour, and the
// overdue ones (number, matter, the departments still deciding, due date, working days over), from the
// snapshot's `cases`. Drawn again with every snapshot, so case events show as they happen.

const STATES = [
  ["received", "已收件", "received"], ["supplement", "待补正", "awaiting materials"], ["accepted", "已受理", "accepted"],
  ["in_review", "审查中", "in review"], ["suspended", "暂停计时", "clock stopped"], ["decided", "已办结", "decided"],
  ["ready", "待取件", "ready"], ["delivered", "已出件", "handed out"], ["refused", "不予受理", "refused"],
  ["withdrawn", "已撤回", "withdrawn"],
];
const COLOURS = [["ok", "正常", "on time"], ["amber", "将到期", "due soon"], ["red", "已超期", "overdue"]];

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) e.setAttribute(k, v);
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== "") e.append(c);
  return e;
}

const en = (text) => el("span", { class: "en", lang: "en" }, text);

export function drawCases(cases) {
  if (!cases) return;
  const by = cases.by_status || {};
  document.querySelector('[data-test-id="cases-counts"]').replaceChildren(
    ...STATES.map(([s, zh, e]) => el("li", { class: `cstate cstate-${s}${by[s] ? "" : " zero"}`, "data-state": s },
      el("span", {}, zh, " ", en(e)), el("b", { "data-test-id": `cases-count-${s}` }, String(by[s] || 0)))));
  const dl = cases.deadline || {};
  document.querySelector('[data-test-id="cases-deadlines"]').replaceChildren(
    ...COLOURS.map(([c, zh, e]) => el("li", { class: `cdl cdl-${c}` },
      el("span", {}, zh, " ", en(e)), el("b", { "data-test-id": `cases-deadline-${c}` }, String(dl[c] || 0)))));
  const body = document.querySelector('[data-test-id="cases-overdue"]');
  const rows = cases.overdue.map((c) => el("tr", { "data-test-id": `overdue-case-${c.id}`, class: "overdue" },
    el("th", { scope: "row" }, el("b", { class: "case-number" }, c.number)),
    el("td", { class: "matter", title: c.matter_name }, c.matter_name),
    el("td", { "data-test-id": `overdue-departments-${c.id}` }, c.departments.join("、")),
    el("td", { class: "num", "data-test-id": `overdue-due-${c.id}` }, c.due),
    el("td", { class: "num", "data-test-id": `overdue-days-${c.id}` }, `${c.days_over} 个工作日`)));
  if (!rows.length) {
    rows.push(el("tr", { class: "empty" }, el("td", { colspan: "5", class: "muted" }, "没有超期办件 ", en("no overdue cases"))));
  }
  if (cases.overdue_more) {
    rows.push(el("tr", { class: "empty" }, el("td", { colspan: "5", class: "muted" },
      `仅显示超期最久的 ${cases.overdue.length} 件 `, en(`the ${cases.overdue.length} longest overdue shown`))));
  }
  body.replaceChildren(...rows);
  const sms = cases.sms;
  const line = document.querySelector('[data-test-id="cases-sms"]');
  if (sms && line) {
    const trouble = (sms.failed || 0) + (sms.uncertain || 0);
    line.classList.toggle("alerting", trouble > 0);
    line.replaceChildren(
      "短信 ", en("SMS"), "：待发 ", el("b", { "data-test-id": "sms-queued" }, String(sms.queued || 0)), en(" queued"),
      " · 已发 ", el("b", {}, String(sms.sent || 0)), en(" sent"),
      " · 失败 ", el("b", { "data-test-id": "sms-failed" }, String(sms.failed || 0)), en(" failed"),
      " · 待核实 ", el("b", { "data-test-id": "sms-uncertain" }, String(sms.uncertain || 0)), en(" to check"));
  }
}
