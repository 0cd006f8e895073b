// 统一出件 at the window terminal (issue 16): the hand-out view of a case whose result is handed out here.
//   - A called 出件 ticket (taken at the kiosk, POST /api/v1/handout-tickets) carries `case`/`cases`: the view
//     opens by itself when the ticket is called, and "出件 Hand out" on the desk opens it again.
//   - On the 出件 window (one that serves the `results` group) the 办件 tab lists the results ready to collect
//     and the decided cases not yet made ready (handout_lists.js); a row opens the same view, with no ticket.
// The view shows the result and, by the case's state: make ready (窗口领取, or 邮寄 with the address); hand out at
// the window (the collector's name, ID number — sent to the server only, stored masked —, 代领 with the
// authorisation checked); 寄出 with the waybill number; 存入智能柜 and the result in a locker (handout_locker.js);
// and, once handed out here, the 领取回执 printed on this window's printer (POST /api/v1/cases/{id}/print
// {notice: "collection"}) or as an A4 page.
// Like intake.js it follows the desk through terminal:drawn and terminal:event and never changes it.

import { api, en, h } from "./terminal_api.js";
import { printA4, printAtWindow } from "./notice_print.js";
import { OUTCOME, STATUS, dayText, explain, localDay, localTime, words } from "./case_words.js";
import { HandoutLists } from "./handout_lists.js";
import { HandoutLocker } from "./handout_locker.js";

const $ = (id) => document.querySelector(`[data-test-id="${id}"]`);
const n = Number(document.body.dataset.window);
const VIA = { window: ["窗口领取", "collect at the window"], mail: ["邮寄送达", "by mail"], locker: ["智能柜", "locker"] };
const ID_RE = /^\d{17}[\dX]$/;
const S = { st: null, cases: [], at: 0, ticket: null, opened: null, busy: false, tz: "Asia/Shanghai" };

// -- the dialog (made here: the page's template stays intake's) --------------------------------------------------
const dialog = h("dialog", { class: "dialog intake handout", "data-test-id": "handout-dialog", "aria-labelledby": "handout-title" },
  h("header", { class: "intake-head" },
    h("h2", { id: "handout-title" }, "出件 ", en("Hand out")),
    h("p", { class: "intake-ticket", "data-test-id": "handout-ticket" }),
    h("button", { type: "button", class: "intake-close", "data-test-id": "handout-close", "aria-label": "关闭 Close" }, "×")),
  h("div", { class: "intake-message", "data-test-id": "handout-error", role: "alert", hidden: true },
    h("p", { class: "intake-message-zh", "data-test-id": "handout-error-zh" }), h("p", { class: "en", "data-test-id": "handout-error-en" })),
  h("section", { class: "case-view", "data-test-id": "handout-view", "aria-live": "polite" }));
document.body.append(dialog);
const view = dialog.querySelector("section");
dialog.querySelector('[data-test-id="handout-close"]').addEventListener("click", () => dialog.close());
dialog.addEventListener("close", () => { for (const i of dialog.querySelectorAll("input[data-secret]")) i.value = ""; quiet(); });

function say(zh, enText = "", kind = "error") {
  const box = $("handout-error");
  box.dataset.kind = kind;
  $("handout-error-zh").textContent = zh;
  $("handout-error-en").textContent = enText;
  box.hidden = false;
}
function quiet() { $("handout-error").hidden = true; }

const lists = new HandoutLists({ n, open: (id) => openCases([id], null), say: (zh, enText) => deskSay(zh, enText) });
const locker = new HandoutLocker({ say, update });

function update(c) {                  // a case as the hall now has it (the locker part's answers and reads)
  const i = S.cases.findIndex((x) => x.id === c.id);
  if (i >= 0) {
    S.cases[i] = c;
    if (dialog.open && i === S.at) draw();
  }
  lists.refreshSoon();
}

function deskSay(zh, enText) {         // outside the dialog: the desk's message line
  const line = $("error");
  line.dataset.kind = "error";
  $("error-zh").textContent = zh;
  $("error-en").textContent = enText;
  line.hidden = false;
}

// -- opening ----------------------------------------------------------------------------------------------------
async function openCases(ids, ticket) {
  quiet();
  try {
    [S.cases] = await Promise.all([Promise.all(ids.map((id) => api("GET", `/cases/${id}`))), locker.refreshInfo()]);
  } catch (e) {
    deskSay(...explain(e));
    return;
  }
  S.ticket = ticket;
  S.at = Math.max(0, S.cases.findIndex((c) => c.status !== "delivered"));
  $("handout-ticket").replaceChildren(...(ticket ? [`票号 ${ticket.number}`, " ", en(`ticket ${ticket.number}`)]
    : [`办件 ${S.cases[0].number}`, " ", en("no ticket")]));
  draw();
  if (!dialog.open) dialog.showModal();
  const first = view.querySelector("input:not([type=radio]):not([type=checkbox]), textarea, button.primary");
  if (first) first.focus();
}

function draw() {
  const c = S.cases[S.at];
  const ho = c.handout || {};
  view.dataset.status = c.status;
  view.replaceChildren(...[
    S.cases.length > 1 ? h("div", { class: "case-actions", "data-test-id": "handout-picks" }, S.cases.map((x, i) => {
      const b = h("button", { type: "button", class: i === S.at ? "primary" : "", "data-test-id": `handout-pick-${x.number}`,
        "aria-pressed": String(i === S.at) }, x.number, " ", ...words(STATUS[x.status], x.status));
      b.addEventListener("click", () => { S.at = i; quiet(); draw(); });
      return b;
    })) : null,
    h("div", { class: "case-head" },
      h("p", { class: "case-number", "data-test-id": "handout-number" }, c.number),
      h("p", { class: "case-status", "data-test-id": "handout-status", "data-status": c.status }, ...words(STATUS[c.status], c.status)),
      c.outcome ? h("p", { class: `case-outcome out-${c.outcome}`, "data-test-id": "handout-outcome" },
        "办理结果：", ...words(OUTCOME[c.outcome], c.outcome)) : null),
    h("p", { class: "case-matter" }, `${c.matter_name}（${c.matter}）`),
    h("p", { class: "case-applicant", "data-test-id": "handout-applicant" }, "申请人 ", en("applicant"), " ", c.applicant.name,
      c.applicant.id_masked ? ` · ${c.applicant.id_masked}` : "", c.applicant.phone ? ` · ${c.applicant.phone}` : "",
      c.agent ? ` · 代办人 ${c.agent.name}` : ""),
    c.opinion ? h("p", { class: "case-note", "data-test-id": "handout-opinion" }, `审批意见：${c.opinion}`) : null,
    h("p", { class: "case-note" }, `办结 ${c.decided_at ? `${dayText(localDay(c.decided_at, S.tz))} ${localTime(c.decided_at, S.tz)}` : "—"}`,
      ho.via ? ` · 出件方式：${VIA[ho.via][0]}` : "", ho.via ? en(` (${VIA[ho.via][1]})`) : "",
      ho.address ? ` · 地址：${ho.address}` : ""),
    h("div", { class: "case-subform" }, body(c)),
    c.status === "delivered" && ho.via === "window" ? printBox(c) : null,
    h("div", { class: "dialog-buttons" }, done())].filter(Boolean));
}

function done() {
  const b = h("button", { type: "button", class: "primary", "data-test-id": "handout-done" }, "完成 ", en("Done"));
  b.addEventListener("click", () => dialog.close());
  return b;
}

// -- what the case's state allows -----------------------------------------------------------------------------------
function body(c) {
  const ho = c.handout || {};
  if (c.status === "decided") return locker.loading.has(c.id) ? locker.part(c, run) : [readyForm(c), locker.part(c, run)];
  if (c.status === "ready" && ho.via === "window") return collectorForm(c);
  if (c.status === "ready" && ho.via === "mail") return waybillForm(c);
  if (c.status === "ready" && ho.via === "locker") return locker.held(c, run);
  if (c.status === "delivered") {
    const col = ho.collector;
    return h("p", { class: "case-note", "data-test-id": "handout-done-note" }, ...(col
      ? [`已由 ${col.name}${col.id_masked ? `（${col.id_masked}）` : ""}${col.proxy ? " 代领" : " 本人领取"}，经办 ${ho.delivered_by || ""}`,
        " ", en(col.proxy ? "collected by an authorised proxy" : "collected in person")]
      : [`已寄出，运单号 ${ho.waybill || "—"}`, " ", en(`sent, waybill ${ho.waybill || "—"}`)]));
  }
  return h("p", { class: "case-note", "data-test-id": "handout-not-yet" },
    `办件当前为「${STATUS[c.status] ? STATUS[c.status][0] : c.status}」，结果尚未作出，不能出件`, " ",
    en(`the case is ${c.status}: there is no result to hand out yet`));
}

function form(id, title, parts, submitText, submit) {
  const f = h("form", { class: "subform", "data-test-id": id, novalidate: true }, h("h3", {}, ...title), ...parts,
    h("div", { class: "dialog-buttons" }, h("button", { type: "submit", class: "primary", "data-test-id": `${id}-submit` }, ...submitText)));
  f.addEventListener("submit", (e) => { e.preventDefault(); submit(f); });
  return f;
}
const field = (id, zh, enText, attrs = {}) => [h("label", { for: id }, zh, " ", en(enText)),
  h("input", { id, "data-test-id": id, autocomplete: "off", ...attrs })];
const choice = (name, value, zh, enText, checked) => h("label", { class: "choice" },
  h("input", { type: "radio", name, value, checked, "data-test-id": `${name}-${value}` }), " ", zh, " ", en(enText));

function readyForm(c) {
  const address = h("textarea", { id: "handout-address", "data-test-id": "handout-address", rows: "2", maxlength: "300" });
  const f = form("handout-ready", ["转待取件 ", en("Make the result ready to hand out")], [
    h("div", { class: "choices" }, choice("handout-via", "window", "窗口领取", "collect at the 出件 window", true),
      choice("handout-via", "mail", "邮寄送达", "send by mail", false)),
    h("label", { for: "handout-address" }, "收件地址（邮寄） ", en("Address (mail)")), address],
  ["转待取件 ", en("Make ready")], (fm) => {
    const via = fm.querySelector("input[name=handout-via]:checked").value;
    const addr = address.value.trim();
    if (via === "mail" && !addr) {
      say("邮寄送达请填写收件地址", "a result sent by mail needs the address");
      address.focus();
      return;
    }
    act(c, "ready", via === "mail" ? { via, address: addr } : { via });
  });
  const sync = () => { address.disabled = !f.querySelector('input[value="mail"]').checked; };
  for (const r of f.querySelectorAll("input[name=handout-via]")) r.addEventListener("change", sync);
  sync();
  return f;
}

function collectorForm(c) {
  const proxyBox = h("input", { type: "checkbox", "data-test-id": "handout-proxy" });
  const authBox = h("input", { type: "checkbox", "data-test-id": "handout-authorised" });
  const auth = h("label", { class: "choice", hidden: true }, authBox, " 已核验授权委托书及委托人身份证复印件 ",
    en("authorisation and the applicant's ID copy checked"));
  const f = form("handout-collect", ["出件：登记领取人 ", en("Hand out: who collects it")], [
    ...field("handout-name", "领取人姓名 *", "Collector's name", { maxlength: "40", value: c.applicant.name }),
    ...field("handout-id", "领取人身份证号", "Collector's ID number (kept only masked)", { maxlength: "18",
      spellcheck: "false", "data-secret": "" }),
    h("label", { class: "choice" }, proxyBox, " 代领（非申请人本人） ", en("collected by a proxy for the applicant")), auth],
  ["确认出件 ", en("Hand out")], (fm) => {
    const name = fm.querySelector("#handout-name").value.trim();
    const idNumber = fm.querySelector("#handout-id").value.replace(/\s+/g, "").toUpperCase();
    if (!name) { say("请填写领取人姓名", "enter the collector's name"); fm.querySelector("#handout-name").focus(); return; }
    if (idNumber && !ID_RE.test(idNumber)) {
      say("身份证号应为 18 位（末位可为 X），请核对", "an ID number has 18 characters (the last may be X)");
      fm.querySelector("#handout-id").focus();
      return;
    }
    if (proxyBox.checked && !authBox.checked) {
      say("代领须核验授权委托书及委托人身份证复印件，核验后请勾选", "a proxy needs the written authorisation checked: tick it once seen");
      authBox.focus();
      return;
    }
    const collector = { name, proxy: proxyBox.checked, ...(idNumber ? { id_number: idNumber } : {}),
      ...(proxyBox.checked ? { authorisation: "授权委托书及委托人身份证复印件已核验 / authorisation and ID copy checked" } : {}) };
    act(c, "deliver", { collector });
  });
  proxyBox.addEventListener("change", () => {
    auth.hidden = !proxyBox.checked;
    const nameInput = f.querySelector("#handout-name");
    if (proxyBox.checked && nameInput.value === c.applicant.name) nameInput.value = "";
    if (!proxyBox.checked && !nameInput.value) nameInput.value = c.applicant.name;
  });
  return f;
}

function waybillForm(c) {
  return form("handout-mail", ["寄出 ", en("Sent by mail")], [
    h("p", { class: "hint" }, `收件地址：${c.handout.address || "—"}`, " ", en("address")),
    ...field("handout-waybill", "运单号 *", "Waybill number", { maxlength: "40", spellcheck: "false" })],
  ["已寄出 ", en("Mark as sent")], (fm) => {
    const waybill = fm.querySelector("#handout-waybill").value.trim();
    if (!waybill) { say("请填写运单号", "enter the waybill number"); fm.querySelector("#handout-waybill").focus(); return; }
    act(c, "deliver", { waybill });
  });
}

async function run(fn) {             // one action at a time; its refusal said in the view
  if (S.busy) return;
  S.busy = true;
  view.dataset.busy = "true";
  quiet();
  try {
    await fn();
  } catch (e) {
    say(...explain(e));
  } finally {
    S.busy = false;
    delete view.dataset.busy;
  }
}

function act(c, action, payload) {
  return run(async () => {
    const after = await api("POST", `/cases/${c.id}/${action}`, payload);
    for (const i of dialog.querySelectorAll("input[data-secret]")) i.value = "";     // the number stays with the server
    S.cases[S.at] = after;
    draw();
    say(...outcomeWords(after), "info");
    lists.refreshSoon();
  });
}

function outcomeWords(c) {
  const ho = c.handout || {};
  if (c.status === "ready") {
    return ho.via === "mail" ? [`已转待寄出：${ho.address}`, "ready to be sent by mail"]
      : ["已转待取件：申请人可在自助机取出件号", "ready: the applicant may take an 出件 ticket at the kiosk"];
  }
  if (ho.via === "mail") return [`已寄出，运单号 ${ho.waybill}`, `sent, waybill ${ho.waybill}`];
  return ["已出件：请打印领取回执，请领取人签名", "handed out: print the collection receipt for the collector to sign"];
}

// -- the 领取回执 -------------------------------------------------------------------------------------------------
function printBox(c) {
  const result = h("p", { class: "print-result", "data-test-id": "handout-print-result", role: "status" });
  const show = (state, zh, enText) => {
    result.dataset.state = state;
    result.replaceChildren(h("span", { class: "zh" }, zh), " ", en(enText));
  };
  const win = h("button", { type: "button", class: "primary", "data-test-id": "handout-print-window" },
    `在 ${n} 号窗口打印 `, en(`Print at window ${n}`));
  const a4 = h("button", { type: "button", "data-test-id": "handout-print-a4" }, "A4 打印 ", en("Print on A4"));
  win.addEventListener("click", async () => {
    win.disabled = true;
    show("busy", "正在打印…", "printing…");
    try {
      const r = await printAtWindow(c.id, "collection", n);
      show("ok", `领取回执已在 ${n} 号窗口打印（${r.device}）`, `collection receipt printed at window ${n}`);
    } catch (e) {
      show("error", ...explain(e));
    } finally {
      win.disabled = false;
    }
  });
  a4.addEventListener("click", () => printA4(c.id, "collection", show));
  return h("div", { class: "case-print", "data-test-id": "handout-print" },
    h("p", { class: "print-title" }, "打印 领取回执 ", en("print the collection receipt")), win, a4, result);
}

// -- following the desk -----------------------------------------------------------------------------------------------
const openButton = h("button", { type: "button", class: "intake-open", "data-test-id": "handout-open", hidden: true },
  "出件 ", en("Hand out"));
const head = document.querySelector(".materials-head");
if (head) head.append(openButton);
openButton.addEventListener("click", () => { const t = current(); if (t) openCases(t.cases.map((c) => c.id), t); });

function current() {           // the called ticket, when it is an 出件 ticket this clerk holds
  const st = S.st;
  const cur = st && st.win && st.win.current;
  if (!cur || !st.me || !st.ticket || st.ticket.id !== cur.id || !(st.ticket.cases || []).length) return null;
  const holds = st.me.role !== "clerk" || st.win.clerk === st.me.username;
  return holds ? st.ticket : null;
}

document.addEventListener("terminal:drawn", (e) => {
  S.st = e.detail;
  if (e.detail.hall) S.tz = e.detail.hall.timezone;
  if (!e.detail.me) { if (dialog.open) dialog.close(); S.opened = null; }
  lists.follow(e.detail);
  const t = current();
  openButton.hidden = !t;
  if (t && S.opened !== t.id) {         // called just now (or found called on a reload): open its cases once
    S.opened = t.id;
    if (!document.querySelector("dialog[open]")) openCases(t.cases.map((c) => c.id), t);
  }
});
document.addEventListener("terminal:event", (e) => { lists.onEvent(e.detail); locker.onEvent(e.detail); });
