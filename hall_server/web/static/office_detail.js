// The case pane of /office: one case as GET /api/v1/cases/{id} gives it (materials, the applicant — a staff
// page: name and phone, the ID number only masked as the server keeps it — the 联办 tasks, the history), and
// the actions the caller may take on it now. Claim, release and resume post at once; suspend, report,
// decide, reassign and extend ask in the action dialog first. Every refusal is shown as the server wrote it.

import {
  $, ApiError, KIND_TEXT, OUTCOME_TEXT, STATUS_TEXT, TASK_TEXT, api, bi, clearError, deadlineBadge, h,
  hallDateTime, leftText, session, showError, word,
} from "/static/office_api.js";

const MATERIAL_TEXT = { original: ["原件", "original"], copy: ["复印件", "copy"], electronic: ["电子件", "electronic"],
  missing: ["缺", "missing"], "n/a": ["不适用", "n/a"] };
const HISTORY_TEXT = {
  received: ["收件", "received"], supplement_requested: ["一次性告知补正", "asked for materials"],
  materials_received: ["补交材料", "materials in"], accepted: ["受理", "accepted"], refused: ["不予受理", "refused"],
  claimed: ["认领", "claimed"], released: ["退回认领", "released"], reassigned: ["改派", "reassigned"],
  suspended: ["暂停计时", "suspended"], resumed: ["恢复计时", "resumed"], extended: ["延期", "extended"],
  reported: ["上报", "reported up"], task_decided: ["部门决定", "department decided"], decided: ["办结", "decided"],
  ready: ["待取件", "ready"], delivered: ["出件", "handed out"], withdrawn: ["撤回", "withdrawn"],
};
// action → [zh, en, the dialog's fields (none: posted at once)]
const ACTIONS = {
  claim: ["认领", "Claim", null], release: ["退回认领", "Release", null], resume: ["恢复计时", "Resume", null],
  suspend: ["暂停计时", "Suspend", ["reason"]], report: ["上报", "Report up", ["opinion", "authority"]],
  decide: ["作出决定", "Decide", ["outcome", "opinion"]], reassign: ["改派", "Reassign", ["officer"]],
  extend: ["延期", "Extend", ["days", "reason"]],
};
const RUNNING = new Set(["accepted", "in_review", "suspended"]);

const state = { id: null, case: null, left: null, onChanged: () => {}, onAuth: () => {}, dialog: null };

export function initDetail({ onChanged, onAuth }) {
  state.onChanged = onChanged;
  state.onAuth = onAuth;
  $("action-form").addEventListener("submit", submitDialog);
  $("action-cancel").addEventListener("click", closeDialog);
}

export const selectedCase = () => state.id;

export function clearDetail() {
  state.id = null;
  state.case = null;
  $("detail").hidden = true;
  $("detail").replaceChildren();
  $("detail-empty").hidden = false;
}

// Show case `id`; `left` is the working days left the worklist counted (kept while the case is in it).
let asked = 0;         // the latest read of the case: an older one answering late never draws over it

export async function showCase(id, left) {
  if (state.id !== id) state.left = null;
  state.id = id;
  if (left !== undefined) state.left = left;
  const mine = ++asked;
  try {
    const c = await api("GET", `/api/v1/cases/${id}`);
    if (state.id !== id || mine !== asked) return;
    state.case = c;
    draw(c);
  } catch (exc) {
    if (exc instanceof ApiError && exc.status === 401) { state.onAuth(exc); return; }
    if (state.id === id && mine === asked) clearDetail();
    showError(exc);
  }
}

export function setLeft(id, left) {
  if (state.id === id && state.left !== left) {
    state.left = left;
    if (state.case) draw(state.case);
  }
}

// -- drawing ---------------------------------------------------------------------------------------------
const field = (zh, en, value, id) => [h("dt", {}, ...bi(zh, en)), h("dd", { "data-test-id": id }, value ?? "—")];

function draw(c) {
  const me = session.user;
  const withLeft = { ...c, working_days_left: RUNNING.has(c.status) ? state.left : null };
  const [lzh, len] = leftText(withLeft);
  const head = h("div", { class: "case-head" },
    h("b", { class: "case-number", "data-test-id": "detail-number" }, c.number),
    h("span", { class: "tag" }, `${c.kind}件`, " ", h("span", { class: "en", lang: "en" }, KIND_TEXT[c.kind] || "")),
    h("span", { class: `status status-${c.status}`, "data-test-id": "detail-status", "data-status": c.status },
      ...word(STATUS_TEXT, c.status)),
    RUNNING.has(c.status) ? deadlineBadge(c, "detail-deadline") : null);
  const a = c.applicant || {};
  const facts = h("dl", { class: "facts" },
    ...field("事项", "Matter", `${c.matter} ${c.matter_name}`, "detail-matter"),
    ...field("申请人", "Applicant", a.name, "detail-applicant"),
    ...field("联系电话", "Phone", a.phone, "detail-phone"),
    ...field("证件号码", "ID (masked)", a.id_masked, "detail-id"),
    c.agent ? field("代办人", "Agent", [c.agent.name, c.agent.phone ? ` ${c.agent.phone}` : ""].join(""), "detail-agent") : null,
    ...field("收件时间", "Received", hallDateTime(c.received_at), "detail-received"),
    ...field("受理日", "Accepted", c.accept_day, "detail-accepted"),
    ...field("承诺期限", "Due", c.due ? [c.due, " ", h("span", { class: "muted" }, `（${c.promised_days} 个工作日）`)] : null,
      "detail-due"),
    ...field("法定期限", "Legal limit", c.legal_due, "detail-legal-due"),
    RUNNING.has(c.status) ? field("剩余", "Left", bi(lzh, len), "detail-left") : null,
    c.suspended_days ? field("已暂停", "Suspended", `${c.suspended_days} 个工作日`, "detail-suspended-days") : null,
    c.extended_days ? field("已延期", "Extended", `${c.extended_days} 个工作日`, "detail-extended-days") : null,
    c.outcome ? field("结果", "Outcome", [...word(OUTCOME_TEXT, c.outcome), c.opinion ? `：${c.opinion}` : ""],
      "detail-outcome") : null);
  const warn = c.calendar_warning ? h("p", { class: "warning", "data-test-id": "detail-calendar-warning" },
    c.calendar_warning.message_zh, " ", h("span", { class: "en", lang: "en" }, c.calendar_warning.message_en)) : null;
  const sections = [head, actionsOf(c, me), facts, warn, tasksOf(c), reportOf(c), materialsOf(c), historyOf(c)];
  $("detail").replaceChildren(...sections.filter(Boolean));
  $("detail").dataset.case = String(c.id);
  $("detail").hidden = false;
  $("detail-empty").hidden = true;
}

function tasksOf(c) {
  if (c.departments.length < 2 && !c.departments.some((t) => t.outcome)) return null;
  return h("section", { class: "sub" }, h("h3", {}, ...bi("各部门办理情况", "Departments")),
    h("table", { class: "grid tasks", "data-test-id": "detail-tasks" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, ...bi("部门", "Department")),
        h("th", { scope: "col" }, ...bi("状态", "State")), h("th", { scope: "col" }, ...bi("认领人", "Officer")),
        h("th", { scope: "col" }, ...bi("意见", "Opinion")))),
      h("tbody", {}, ...c.departments.map((t) => h("tr", { "data-test-id": `task-${t.department}`, "data-state": t.state },
        h("th", { scope: "row" }, t.department),
        h("td", {}, h("span", { class: `task task-${t.state}` }, ...word(TASK_TEXT, t.state)),
          t.outcome ? [" · ", ...word(OUTCOME_TEXT, t.outcome)] : null),
        h("td", {}, t.claimed_by || "—"), h("td", { class: "opinion" }, t.opinion || ""))))));
}

function reportOf(c) {
  if (!c.report) return null;
  return h("section", { class: "sub", "data-test-id": "detail-report" }, h("h3", {}, ...bi("上报", "Reported up")),
    h("p", {}, `${c.report.authority}：${c.report.opinion}`, h("span", { class: "muted" },
      ` · ${c.report.by} ${hallDateTime(c.report.at)}`)));
}

function materialsOf(c) {
  return h("section", { class: "sub" }, h("h3", {}, ...bi("材料", "Materials")),
    h("ul", { class: "materials", "data-test-id": "detail-materials" }, ...c.materials.map((m, i) =>
      h("li", { "data-test-id": `material-${i}`, "data-state": m.state },
        h("span", { class: `mstate mstate-${m.state === "n/a" ? "na" : m.state}` }, ...word(MATERIAL_TEXT, m.state)),
        " ", m.name, m.required ? null : h("span", { class: "muted" }, "（可缺 optional）")))));
}

function historyOf(c) {
  const items = (c.history || []).slice().reverse().map((e) => {
    const extra = [e.department, e.to ? `→ ${e.to}` : null, e.working_days ? `${e.working_days} 个工作日` : null,
      e.outcome ? (OUTCOME_TEXT[e.outcome] || [e.outcome])[0] : null, e.reason || e.note].filter(Boolean).join(" · ");
    return h("li", {}, h("span", { class: "when" }, hallDateTime(e.at)),
      h("span", {}, h("b", {}, ...word(HISTORY_TEXT, e.action)), e.by ? h("span", { class: "muted" }, ` ${e.by}`) : null,
        extra ? h("div", { class: "muted" }, extra) : null));
  });
  return h("section", { class: "sub" }, h("h3", {}, ...bi("办理记录", "History")),
    h("ol", { class: "history", "data-test-id": "detail-history" }, ...items));
}

// -- what the caller may do now --------------------------------------------------------------------------
function actionsOf(c, me) {
  const rows = [];
  const supervisor = me.role !== "department";
  const mine = supervisor ? c.departments : c.departments.filter((t) => me.departments.includes(t.department));
  const several = c.departments.length > 1;
  for (const t of mine) {
    const acts = supervisor ? supervisorActs(c, t) : officerActs(c, t, me);
    if (!acts.length) continue;
    rows.push(h("div", { class: "act-row" },
      several ? h("span", { class: "act-dept" }, t.department) : null,
      ...acts.map((a) => button(a, c, t.department))));
  }
  if (supervisor && RUNNING.has(c.status)) rows.push(h("div", { class: "act-row" }, button("extend", c, null)));
  if (!rows.length) return null;
  return h("div", { class: "actions-bar", "data-test-id": "detail-actions" }, ...rows);
}

function officerActs(c, t, me) {
  if (c.kind === "即办") return [];                     // decided at the window, in one sitting
  const holder = t.claimed_by === me.username;
  if (RUNNING.has(c.status) && c.status !== "suspended" && t.state === "open") return ["claim"];
  if (c.status === "in_review" && t.state === "claimed" && holder) {
    const last = c.kind === "上报" && !c.report ? ["report"] : ["decide"];
    return [...last, "suspend", "release"];
  }
  if (c.status === "suspended" && holder) return ["resume"];
  return [];
}

function supervisorActs(c, t) {
  if (!RUNNING.has(c.status) || t.state === "decided") return [];
  const acts = ["reassign"];
  if (c.status === "in_review" && t.state === "claimed") acts.push("release");
  if (c.status === "suspended") acts.push("resume");
  return acts;
}

function button(action, c, department) {
  const [zh, en] = ACTIONS[action];
  const primary = ["claim", "decide", "report", "resume"].includes(action);
  return h("button", { type: "button", class: primary ? "" : "ghost", "data-test-id": `act-${action}`,
    "data-department": department || "", onclick: () => start(action, c, department) }, ...bi(zh, en));
}

async function start(action, c, department) {
  if (!ACTIONS[action][2]) { post(action, c, department ? { department } : {}); return; }
  await openDialog(action, c, department);
}

async function post(action, c, body) {
  clearError();
  try {
    const updated = await api("POST", `/api/v1/cases/${c.id}/${action}`, body);
    if (state.id === c.id) { state.case = updated; draw(updated); }
    state.onChanged();
    return true;
  } catch (exc) {
    if (exc instanceof ApiError && exc.status === 401) state.onAuth(exc);
    else showError(exc);
    if (state.id === c.id) showCase(c.id);             // what the case is now, after the refusal
    return false;
  }
}

// -- the action dialog -----------------------------------------------------------------------------------
async function openDialog(action, c, department) {
  const [zh, en, fields] = ACTIONS[action];
  state.dialog = { action, c, department };
  $("action-title").replaceChildren(`${zh} `, h("span", { class: "en", lang: "en" }, en));
  $("action-case").textContent = `${c.number} · ${c.matter_name}${department && c.departments.length > 1 ? ` · ${department}` : ""}`;
  $("action-confirm").replaceChildren(...bi(zh, en));
  $("action-error").hidden = true;
  for (const el of $("action-form").querySelectorAll("[data-field]")) el.hidden = !fields.includes(el.dataset.field);
  $("action-form").reset();
  $("action-opinion-label").replaceChildren(...(action === "report" ? bi("初审意见", "First opinion") : bi("意见", "Opinion")));
  if (action === "report") $("action-authority").value = c.authority || "";
  if (action === "reassign") {
    const select = $("action-officer");
    select.replaceChildren(h("option", { value: "" }, "—"));
    try {
      const q = department ? `?department=${encodeURIComponent(department)}` : "";
      const { officers } = await api("GET", `/api/v1/office/officers${q}`);
      const holder = (c.departments.find((t) => t.department === department) || {}).claimed_by;
      select.append(...officers.filter((o) => o.username !== holder)
        .map((o) => h("option", { value: o.username }, `${o.username}（${o.departments.join("、")}）`)));
    } catch (exc) {
      showError(exc);
      return;
    }
  }
  $("action-dialog").showModal();
  const first = $("action-form").querySelector("[data-field]:not([hidden]) input:not([type=radio]), "
    + "[data-field]:not([hidden]) select, [data-field]:not([hidden]) textarea");
  if (first) first.focus();
}

function closeDialog() {
  state.dialog = null;
  $("action-dialog").close();
}

function dialogError(zh, en) {
  $("action-error").replaceChildren(zh, " ", h("span", { class: "en", lang: "en" }, en));
  $("action-error").hidden = false;
}

function submitDialog(ev) {
  ev.preventDefault();
  const d = state.dialog;
  if (!d) { closeDialog(); return; }
  const form = $("action-form");
  const reason = form.reason.value.trim();
  const opinion = form.opinion.value.trim();
  const body = d.department && d.action !== "report" ? { department: d.department } : {};   // a report is the case's
  if (d.action === "suspend") {
    if (!reason) { dialogError("请填写暂停计时的原因（如现场核查、检验检测）", "give the reason the clock stops (e.g. inspection)"); return; }
    body.reason = reason;
  } else if (d.action === "report") {
    if (!opinion) { dialogError("请填写初审意见", "write the first opinion"); return; }
    body.opinion = opinion;
    if (form.authority.value.trim()) body.authority = form.authority.value.trim();
  } else if (d.action === "decide") {
    body.outcome = form.outcome.value;
    if (body.outcome === "rejected" && !opinion) { dialogError("不予批准时请写明理由", "a rejection needs the reasons in the opinion"); return; }
    if (opinion) body.opinion = opinion;
  } else if (d.action === "reassign") {
    if (!form.officer.value) { dialogError("请选择改派给哪位人员", "choose the officer to reassign it to"); return; }
    body.to = form.officer.value;
  } else if (d.action === "extend") {
    const days = Number(form.days.value);
    if (!Number.isInteger(days) || days < 1 || days > 30) { dialogError("延长天数须为 1–30 个工作日", "working days: 1 to 30"); return; }
    if (!reason) { dialogError("请填写延期原因（经负责人批准）", "give the reason for the extension"); return; }
    Object.assign(body, { working_days: days, reason });
  }
  closeDialog();
  post(d.action, d.c, body);
}

