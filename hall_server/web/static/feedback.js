// The 差评 ledger (台账), /feedback: every bad rating's record with its current step, due day and colour; the
// open one's rating (window, clerk, level, reasons), its steps so far, and a form for each step this account
// may take now (核实 verify, 整改 rectify, 反馈 callback, 复核 recheck, 申诉 appeal and its decision), through
// /api/v1/badratings (shapes in hall_server/api/evaluations.py). The CSV export of the ledger for supervisors.
// Follows WS /api/v1/events: a badrating.* or evaluation.recorded event reads the list again. An ES module.

import { $, h, bi, api, session, showError, clearError, ApiError, DEADLINE_TEXT } from "/static/office_api.js";

const TOKEN_KEY = "onewindow.feedback.token";
const ROLES = new Set(["supervisor", "admin", "clerk", "department"]);
const TZ = document.body.dataset.timezone || "Asia/Shanghai";
// who may take each step (the server checks it again: 403 role_forbidden)
const STEP_ROLES = {
  verify: ["supervisor", "admin"], rectify: ["department", "clerk", "supervisor", "admin"],
  callback: ["supervisor", "admin", "clerk"], recheck: ["supervisor", "admin"],
  appeal: ["clerk", "department", "supervisor", "admin"], "appeal-decision": ["supervisor", "admin"],
};
const STEP_TEXT = {
  verify: ["核实", "Verify"], rectify: ["整改", "Rectify"], callback: ["反馈（回访）", "Call back"],
  recheck: ["复核", "Re-check"], appeal: ["申诉", "Appeal"], "appeal-decision": ["申诉裁定", "Decide the appeal"],
  opened: ["登记", "Opened"],
};
const STATE_EN = { verify: "to verify", rectify: "to rectify", callback: "to call back", recheck: "to re-check",
  closed: "closed" };
const APPEAL_TEXT = { pending: ["申诉中", "appeal pending"], upheld: ["申诉成立", "appeal upheld"],
  rejected: ["申诉驳回", "appeal rejected"] };
// the fields of each step's form: [name, kind, zh, en, required]
const FIELDS = {
  verify: [["finding", "text", "核实情况", "Finding", true], ["department", "line", "责任部门（可选）", "Responsible department (optional)"],
    ["window", "number", "责任窗口（可选）", "Responsible window (optional)"]],
  rectify: [["measures", "text", "整改措施", "Measures taken", true]],
  callback: [["result", "text", "回访结果", "Result of the call", true], ["reached", "check", "已联系上群众", "Citizen reached"],
    ["satisfied", "check", "群众表示满意", "Citizen satisfied"]],
  recheck: [["note", "text", "复核意见", "Re-check note", true], ["passed", "check", "复核通过（不通过则退回整改）", "Passed (else back to rectify)"]],
  appeal: [["reason", "text", "申诉理由", "Reason for the appeal", true]],
  "appeal-decision": [["upheld", "check", "申诉成立（该评价不计入统计）", "Upheld (the rating leaves the figures)"],
    ["note", "text", "裁定意见", "Decision note", true]],
};
const CHECKED = { reached: true, passed: true, satisfied: false, upheld: false };

const S = { filter: "open", list: [], current: null, user: null, socket: null, loading: false, again: false };
const fmt = new Intl.DateTimeFormat("zh-CN", { timeZone: TZ, year: "numeric", month: "2-digit", day: "2-digit",
  hour: "2-digit", minute: "2-digit", hour12: false });
const when = (iso) => (iso ? fmt.format(new Date(iso)).replaceAll("/", "-") : "—");

function badge(b, id) {
  const [zh, en] = b.state === "closed" ? ["已办结", "closed"] : DEADLINE_TEXT[b.deadline] || [b.deadline, ""];
  return h("span", { class: `dl dl-${b.state === "closed" ? "closed" : b.deadline}`, "data-test-id": id,
    "data-deadline": b.deadline }, ...bi(zh, en));
}

// -- log-in --------------------------------------------------------------------------------------------------
function showLogin() {
  $("ledger").hidden = true;
  $("logout").hidden = true;
  $("user").textContent = "";
  $("login-panel").hidden = false;
}

async function logIn(ev) {
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
      session.token = null;
      throw new ApiError(403, { code: "role_forbidden", message_zh: `${me.username} 是 ${me.role}，差评台账需要值班长、窗口或部门账号`,
        message_en: `${me.username} is a ${me.role}; the ledger needs a supervisor, clerk or department account` });
    }
    sessionStorage.setItem(TOKEN_KEY, session.token);
    form.password.value = "";
    begin(me);
  } catch (exc) {
    forget();
    showError(exc);
  }
}

function forget() {
  session.token = null;
  sessionStorage.removeItem(TOKEN_KEY);
  if (S.socket) S.socket.close();
  showLogin();
}

async function begin(me) {
  S.user = me;
  $("user").textContent = `${me.username}（${me.role}）`;
  $("logout").hidden = false;
  $("login-panel").hidden = true;
  $("ledger").hidden = false;
  $("export-csv").hidden = !["supervisor", "admin"].includes(me.role);
  await load();
  if (!S.socket && typeof EventSocket !== "undefined") {
    S.socket = new EventSocket({
      onEvent: (e) => { if (e.type.startsWith("badrating.") || e.type === "evaluation.recorded") load(); },
      onReconnected: () => load(),
      onState: (state) => {
        const c = $("connection");
        c.dataset.state = state;
        c.replaceChildren(...(state === "connected" ? bi("实时", "live") : bi("连接中断，正在重连…", "reconnecting…")));
      },
    });
  }
  if (S.socket && !S.socket.active) {
    const r = await api("GET", "/api/v1/events?since=9007199254740991&limit=1").catch(() => null);
    S.socket.open(r ? r.latest_seq : undefined);
  }
}

// -- the list --------------------------------------------------------------------------------------------------
async function load() {
  if (S.loading) { S.again = true; return; }
  S.loading = true;
  try {
    const q = S.filter ? `?state=${S.filter}` : "";
    const r = await api("GET", `/api/v1/badratings${q}`);
    S.list = r.badratings;
    drawList();
    if (S.current) await openRecord(S.current.id, { keepForms: true });
  } catch (exc) {
    if (exc instanceof ApiError && exc.status === 401) { forget(); showError(exc); return; }
    showError(exc);
  } finally {
    S.loading = false;
    if (S.again) { S.again = false; load(); }
  }
}

function drawList() {
  $("list-count").textContent = String(S.list.length);
  const rows = S.list.map((b) => h("tr", { "data-test-id": `row-${b.id}`, class: `row dl-row-${b.deadline}`,
    "aria-selected": String(S.current?.id === b.id) },
    h("th", { scope: "row" }, h("button", { type: "button", class: "link", "data-test-id": `open-${b.id}`,
      onclick: () => openRecord(b.id) }, b.number)),
    h("td", {}, b.level_name),
    h("td", { class: "num" }, b.window ? `${b.window} 号` : "—"),
    h("td", { title: b.matter_name || "" }, b.matter_name || "—"),
    h("td", { "data-test-id": `row-state-${b.id}`, "data-state": b.state }, ...bi(b.state_name, STATE_EN[b.state] || ""),
      b.appeal ? h("small", { class: "appeal" }, " · ", APPEAL_TEXT[b.appeal]?.[0] || b.appeal) : ""),
    h("td", { class: "num", "data-test-id": `row-due-${b.id}` }, b.state === "closed" ? "—" : (b.due || "—")),
    h("td", {}, badge(b, `row-deadline-${b.id}`))));
  if (!rows.length) rows.push(h("tr", { class: "empty" }, h("td", { colspan: "7", class: "muted" }, ...bi("没有差评记录", "no records"))));
  $("list").replaceChildren(...rows);
}

// -- one record ------------------------------------------------------------------------------------------------
async function openRecord(id, { keepForms = false } = {}) {
  try {
    const b = await api("GET", `/api/v1/badratings/${id}`);
    const same = S.current && S.current.id === b.id && S.current.state === b.state && S.current.appeal === b.appeal
      && (S.current.steps || []).length === (b.steps || []).length;
    S.current = b;
    if (keepForms && same) return;
    drawDetail(b);
    for (const tr of $("list").children) tr.setAttribute("aria-selected", String(tr.dataset.testId === `row-${b.id}`));
  } catch (exc) {
    showError(exc);
  }
}

const dt = (zh, en, ...value) => [h("dt", {}, ...bi(zh, en)), h("dd", {}, ...value)];

function drawDetail(b) {
  $("detail-empty").hidden = true;
  const box = $("detail");
  box.hidden = false;
  const resp = b.responsible || {};
  const contact = b.contact ? (b.contact.phone || b.contact.phone_masked || "—") : null;
  box.replaceChildren(
    h("h3", { "data-test-id": "detail-number" }, b.number, " ", badge(b, "detail-deadline")),
    h("dl", { class: "facts" },
      ...dt("评价", "Level", h("b", { "data-test-id": "detail-level", "data-level": b.level }, `${b.level_name}（${b.level}）`)),
      ...dt("原因", "Reasons", h("span", { "data-test-id": "detail-reasons" }, b.reasons.length ? b.reasons.join("、") : "未选择")),
      ...dt("窗口", "Window", h("span", { "data-test-id": "detail-window" }, b.window ? `${b.window} 号窗口` : "—")),
      ...dt("工作人员", "Clerk", h("span", { "data-test-id": "detail-clerk" }, b.clerk || "—")),
      ...dt("事项", "Matter", b.matter_name || "—"),
      ...dt("部门", "Departments", b.departments.join("、") || "—"),
      ...dt("办理号", "Handling", b.handling || "—"),
      ...dt("评价时间", "Rated", when(b.rated_at)),
      ...dt("当前步骤", "Step", h("span", { "data-test-id": "detail-state", "data-state": b.state }, ...bi(b.state_name, STATE_EN[b.state] || ""))),
      ...dt("本步期限", "Due", h("span", { "data-test-id": "detail-due" }, b.state === "closed" ? "—" : (b.due || "—"))),
      ...dt("责任", "Responsible", [resp.department, resp.window ? `${resp.window} 号窗口` : null].filter(Boolean).join(" · ") || "—"),
      ...(b.appeal ? dt("申诉", "Appeal", h("span", { "data-test-id": "detail-appeal" }, ...bi(...(APPEAL_TEXT[b.appeal] || [b.appeal, ""])),
        b.appeal_due ? ` · 期限 ${b.appeal_due}` : "")) : []),
      ...(contact ? dt("回访电话", "Call-back phone", contact) : []),
      ...(b.state === "closed" ? dt("办结", "Closed", `${when(b.closed_at)} · ${b.closed_how === "appeal_upheld" ? "申诉成立" : "复核办结"}`) : [])),
    h("h4", {}, ...bi("办理经过", "Steps")),
    h("ol", { class: "steps", "data-test-id": "detail-steps" }, ...(b.steps || []).map((s) => h("li", { "data-step": s.step },
      h("b", {}, s.name || (STEP_TEXT[s.step] || [s.step])[0]), " ", h("span", { class: "muted" }, `${when(s.at)} · ${s.by || "—"}`),
      s.note ? h("p", {}, s.note) : "")),
      (b.steps || []).length ? "" : h("li", { class: "muted none" }, ...bi("尚无办理记录", "no step taken yet"))),
    ...stepForms(b));
}

function stepForms(b) {
  const role = S.user?.role;
  const allowed = (b.next || []).filter((s) => (STEP_ROLES[s] || []).includes(role));
  if (!allowed.length) {
    return b.state === "closed" ? [] : [h("p", { class: "muted", "data-test-id": "no-step" },
      ...bi("当前步骤不由本账号办理", "the current step is not this account's to take"))];
  }
  return allowed.map((step) => {
    const [zh, en] = STEP_TEXT[step];
    const form = h("form", { class: "step-form", "data-test-id": `step-${step}`, "data-step": step },
      h("h4", {}, ...bi(zh, en)),
      ...FIELDS[step].map(([name, kind, fzh, fen, required]) => {
        const id = `step-${step}-${name}`;
        if (kind === "check") {
          return h("label", { class: "check" }, h("input", { type: "checkbox", name, "data-test-id": id,
            checked: CHECKED[name] || null }), ...bi(fzh, fen));
        }
        const input = kind === "text"
          ? h("textarea", { name, rows: "3", maxlength: "1000", "data-test-id": id, required: required || null })
          : h("input", { name, type: kind === "number" ? "number" : "text", min: kind === "number" ? "1" : null,
            "data-test-id": id, maxlength: kind === "number" ? null : "100",
            list: name === "department" ? "fb-departments" : null });
        return h("label", {}, h("span", {}, ...bi(fzh, fen)), input);
      }),
      name(step, b),
      h("p", { class: "form-error", "data-test-id": `step-${step}-error`, role: "alert", hidden: true }),
      h("button", { type: "submit", "data-test-id": `step-${step}-submit` }, ...bi(`提交${zh}`, en)));
    form.addEventListener("submit", (ev) => { ev.preventDefault(); takeStep(b, step, form); });
    return form;
  });
}

function name(step, b) {       // the departments of the record, offered as choices when verifying
  if (step !== "verify" || !b.departments.length) return "";
  return h("datalist", { id: "fb-departments" }, ...b.departments.map((d) => h("option", { value: d })));
}

async function takeStep(b, step, form) {
  const body = {};
  for (const [name, kind] of FIELDS[step]) {
    const el = form.elements[name];
    if (kind === "check") body[name] = el.checked;
    else if (kind === "number") { if (el.value) body[name] = Number(el.value); }
    else if (el.value.trim()) body[name] = el.value.trim();
  }
  if (step === "callback" && !body.reached) delete body.satisfied;
  const err = form.querySelector(".form-error");
  err.hidden = true;
  const submit = form.querySelector('button[type="submit"]');
  submit.disabled = true;
  try {
    const out = await api("POST", `/api/v1/badratings/${b.id}/${step}`, body);
    S.current = out;
    drawDetail(out);
    await load();
  } catch (exc) {
    const e = exc instanceof ApiError ? exc.err : { code: "error", message_zh: String(exc), message_en: "" };
    err.dataset.code = e.code || "";
    err.replaceChildren(e.message_zh || "", " ", h("span", { class: "en", lang: "en" }, e.message_en || ""));
    err.hidden = false;
    if (exc instanceof ApiError && exc.status === 401) forget();
  } finally {
    submit.disabled = false;
  }
}

// -- the CSV export (the token goes in a header, so the file is fetched and handed to the browser) ---------------
async function exportCsv() {
  try {
    const q = S.filter ? `?state=${S.filter}` : "";
    const r = await fetch(`/api/v1/badratings.csv${q}`, { headers: { authorization: `Bearer ${session.token}` }, cache: "no-store" });
    if (!r.ok) {
      let data = null;
      try { data = await r.json(); } catch { /* not JSON */ }
      throw new ApiError(r.status, data?.error || { code: `http_${r.status}`, message_zh: `导出失败（${r.status}）`,
        message_en: `the export answered ${r.status}` });
    }
    const blob = await r.blob();
    const m = /filename="([^"]+)"/.exec(r.headers.get("content-disposition") || "");
    const a = h("a", { href: URL.createObjectURL(blob), download: m ? m[1] : "badratings.csv" });
    document.body.append(a);
    a.click();
    setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  } catch (exc) {
    showError(exc);
  }
}

function main() {
  session.token = sessionStorage.getItem(TOKEN_KEY);
  $("login-form").addEventListener("submit", logIn);
  $("logout").addEventListener("click", async () => { await api("POST", "/api/v1/auth/logout").catch(() => {}); forget(); });
  $("error-close").addEventListener("click", clearError);
  $("export-csv").addEventListener("click", exportCsv);
  for (const b of document.querySelectorAll(".segmented button")) {
    b.addEventListener("click", () => {
      S.filter = b.dataset.state;
      for (const o of document.querySelectorAll(".segmented button")) o.setAttribute("aria-pressed", String(o === b));
      load();
    });
  }
  if (!session.token) { showLogin(); return; }
  api("GET", "/api/v1/auth/me").then((me) => (ROLES.has(me.role) ? begin(me) : forget())).catch(() => forget());
}

main();
