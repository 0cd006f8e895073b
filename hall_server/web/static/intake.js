// 受理 at the window terminal (issue 15): from the ticket being served, the clerk opens "受理 Take in", chooses
// the matter (the ticket's by default; any of the hall's, searchable), marks each item of its checklist
// (原件, 复印件, 电子, 缺, and 不适用 for optional items), enters the applicant (name, phone, ID number — sent
// to the server only, shown back only masked), an agent and the channel, and registers the case
// (POST /api/v1/cases with the ticket). The case then shows in case_panel.js with the actions its status
// allows and its notices; window_cases.js lists this window's cases and those waiting for 补正.
//
// terminal.js owns the desk; this module follows it through the document's terminal:drawn (the desk's state)
// and terminal:event (each event of the hall's stream) and never changes it.

import { api, en, h } from "./terminal_api.js";
import { CasePanel } from "./case_panel.js";
import { WindowCases } from "./window_cases.js";
import { explain, matterFacts, pickedStates, statePicker } from "./case_words.js";
import "./handout.js";        // 统一出件: the hand-out view of an 出件 ticket's cases, the 出件 window's lists

const $ = (id) => document.querySelector(`[data-test-id="${id}"]`);
const n = Number(document.body.dataset.window);
const desk = { st: null };
const form = { ticket: null, matter: null };

// -- messages inside the dialog (the desk's own line is under the modal's backdrop) -----------------------
function say(zh, enText = "", kind = "error") {
  const box = $("intake-error");
  if (!$("intake-dialog").open) {         // outside the dialog: the desk's message line
    const line = $("error");
    line.dataset.kind = kind;
    $("error-zh").textContent = zh;
    $("error-en").textContent = enText;
    line.hidden = false;
    return;
  }
  box.dataset.kind = kind;
  $("intake-error-zh").textContent = zh;
  $("intake-error-en").textContent = enText;
  box.hidden = false;
  box.scrollIntoView({ block: "nearest" });
}
function quiet() {
  $("intake-error").hidden = true;
  for (const b of document.querySelectorAll('[data-test-id="intake-earlier"]')) b.remove();
}

const panel = new CasePanel({ n, root: $("case-view"), say, tz: () => zone(),
  changed: (c) => cases.remember(c), done: () => $("intake-dialog").close() });
const cases = new WindowCases({ n, say, open: (id) => openCase(id), fresh: () => openForm(null) });

function zone() {
  return desk.st && desk.st.hall ? desk.st.hall.timezone : "Asia/Shanghai";
}

function matters() {
  return desk.st && desk.st.hall ? desk.st.hall.matters : [];
}

// -- the form -----------------------------------------------------------------------------------------------
function openForm(ticket) {
  if (!desk.st || !desk.st.me) return;
  form.ticket = ticket;
  quiet();
  $("intake-form").reset();
  $("intake-form").hidden = false;
  $("case-view").hidden = true;
  $("intake-agent").hidden = true;
  $("intake-ticket").replaceChildren(...(ticket ? [`票号 ${ticket.number}`, " ", en(`ticket ${ticket.number}`)]
    : ["无票收件", " ", en("no ticket")]));
  fillMatters("", ticket ? ticket.matter : null);
  const dlg = $("intake-dialog");
  if (!dlg.open) dlg.showModal();
  const earlier = ticket ? cases.forTicket(ticket.id) : [];
  if (earlier.length) offerEarlier(earlier);
  (ticket ? $("intake-name") : $("intake-search")).focus();
}

function offerEarlier(list) {
  say(`本票已登记办件 ${list.map((c) => c.number).join("、")}：可打开继续办理，或登记另一事项`,
    "this ticket already has a case: open it to go on, or register another matter", "info");
  const box = $("intake-error");
  for (const c of list) {
    const b = h("button", { type: "button", class: "small-button", "data-test-id": "intake-earlier" },
      `打开 ${c.number}`, " ", en("open"));
    b.addEventListener("click", () => openCase(c.id));
    box.append(b);
  }
}

function fillMatters(query, selected) {
  const q = query.trim().toLowerCase();
  const all = matters();
  const shown = all.filter((m) => !q || m.code.toLowerCase().includes(q) || m.name.includes(query.trim())
    || (m.name_en || "").toLowerCase().includes(q) || m.prefix.toLowerCase() === q);
  const pick = $("intake-matter");
  pick.replaceChildren(...shown.map((m) => h("option", { value: m.code }, `${m.name}（${m.code}）· ${m.kind}件`)));
  const keep = selected || form.matter;
  if (keep && shown.some((m) => m.code === keep)) pick.value = keep;
  else if (shown.length) pick.value = shown[0].code;
  drawMatter();
}

function drawMatter() {
  const code = $("intake-matter").value;
  const m = matters().find((x) => x.code === code);
  form.matter = m ? m.code : null;
  $("intake-facts").textContent = m ? matterFacts(m) : "没有符合的事项 no matter matches";
  $("intake-facts").dataset.kind = m ? m.kind : "";
  if (!m) { $("intake-items").replaceChildren(); return; }
  const optional = new Set(m.optional || []);
  const ticked = tickedAtDesk(m);
  $("intake-items").replaceChildren(...m.materials.map((name, i) =>
    statePicker("intake-item", i, name, !optional.has(name), ticked.has(name) ? "original" : "missing")));
}

// the items the clerk ticked on the desk's checklist of the ticket's matter: originals here
function tickedAtDesk(m) {
  const out = new Set();
  if (!form.ticket || form.ticket.matter !== m.code) return out;
  m.materials.forEach((name, i) => {
    const box = $(`material-${i}`);
    if (box && box.checked) out.add(name);
  });
  return out;
}

function person(prefix) {
  const v = (id) => $(`${prefix}-${id}`).value.trim();
  const out = { name: v("name") };
  if (v("phone")) out.phone = v("phone");
  const idNumber = v("id").replace(/\s+/g, "").toUpperCase();
  if (idNumber) out.id_number = idNumber;
  return out;
}

function checkForm() {
  if (!form.matter) return ["请选择事项", "choose the matter", "intake-search"];
  if (!$("intake-name").value.trim()) return ["请填写申请人姓名", "enter the applicant's name", "intake-name"];
  const phones = [["intake-phone", "申请人"], ["intake-agent-phone", "代办人"]];
  for (const [id, who] of phones) {
    const v = $(id).value.trim();
    if (v && !/^[0-9+\- ]{3,20}$/.test(v)) return [`${who}电话格式有误（数字、+、-）`, "a phone has digits, + and - only", id];
  }
  if ($("intake-has-agent").checked && !$("intake-agent-name").value.trim()) {
    return ["请填写代办人姓名，或取消“代办人代为申请”", "enter the agent's name, or untick the agent", "intake-agent-name"];
  }
  return null;
}

async function register() {
  quiet();
  const bad = checkForm();
  if (bad) {
    say(bad[0], bad[1]);
    $(bad[2]).focus();
    return;
  }
  const body = { matter: form.matter, channel: $("intake-channel").value, applicant: person("intake"),
    materials: pickedStates($("intake-items")) };
  if (form.ticket) body.ticket = form.ticket.id;
  if ($("intake-has-agent").checked) body.agent = person("intake-agent");
  const button = $("intake-register");
  button.disabled = true;
  try {
    const c = await api("POST", "/cases", body);
    for (const id of ["intake-id", "intake-agent-id"]) $(id).value = "";      // the number stays with the server
    $("intake-form").hidden = true;
    panel.show(c);
    cases.remember(c);
    say(`已登记办件 ${c.number}${c.missing.length ? `，尚缺 ${c.missing.length} 项必备材料` : "，材料齐全"}`,
      `case ${c.number} registered${c.missing.length ? `; ${c.missing.length} required item(s) missing` : "; complete"}`,
      "info");
    $("case-view").querySelector("button").focus();
  } catch (e) {
    say(...explain(e));
    const field = e.details && e.details.field;
    if (field === "applicant.id_number") $("intake-id").focus();
    else if (field === "agent.id_number") $("intake-agent-id").focus();
  } finally {
    button.disabled = false;
  }
}

async function openCase(id) {
  quiet();
  try {
    const c = await api("GET", `/cases/${id}`);
    $("intake-form").hidden = true;
    $("intake-ticket").replaceChildren(`办件 ${c.number}`, " ", en(`case ${c.number}`));
    panel.show(c);
    const dlg = $("intake-dialog");
    if (!dlg.open) dlg.showModal();
    if (c.status === "supplement") {
      say(`待补正，尚缺：${c.missing.join("、")}`, `waiting for: ${c.missing.join(", ")}`, "info");
    }
  } catch (e) {
    say(...explain(e));
  }
}

// -- following the desk ---------------------------------------------------------------------------------------
function current() {
  const st = desk.st;
  const cur = st && st.win && st.win.current;
  if (!cur || !st.me) return null;
  const holds = st.me.role !== "clerk" || st.win.clerk === st.me.username;
  return holds ? { id: cur.id, number: cur.number, matter: cur.matter, status: cur.status } : null;
}

document.addEventListener("terminal:drawn", (e) => {
  desk.st = e.detail;
  $("intake-open").disabled = !current();
  cases.follow(e.detail);
  if (!e.detail.me && $("intake-dialog").open) $("intake-dialog").close();
});
document.addEventListener("terminal:event", (e) => cases.onEvent(e.detail));

$("intake-open").addEventListener("click", () => openForm(current()));
$("intake-close").addEventListener("click", () => $("intake-dialog").close());
$("intake-cancel").addEventListener("click", () => $("intake-dialog").close());
$("intake-search").addEventListener("input", (e) => fillMatters(e.target.value, null));
$("intake-matter").addEventListener("change", drawMatter);
$("intake-has-agent").addEventListener("change", (e) => { $("intake-agent").hidden = !e.target.checked; });
$("intake-all-original").addEventListener("click", () => {
  for (const f of $("intake-items").querySelectorAll("fieldset.item")) {
    f.querySelector('input[value="original"]').checked = true;
  }
});
$("intake-form").addEventListener("submit", (e) => { e.preventDefault(); register(); });
$("intake-dialog").addEventListener("close", () => {
  for (const id of ["intake-id", "intake-agent-id"]) $(id).value = "";
  quiet();
});
