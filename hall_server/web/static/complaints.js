// The staff page /complaints (“办不成事”反映, issue 17 item 4): log-in, the register form (the 办不成事 window's
// clerk, supervisors), the list with status, class, department, due date and colour, and one complaint with
// the form of its next step for the logged-in role. Only the API of api/complaints.py (shapes in its
// docstring); the helpers (elements, API client, error banner) are the back office's, office_api.js.
// A complaint can be opened directly as /complaints#<id>. No framework, no build.

import { $, ApiError, DEADLINE_TEXT, api, bi, clearError, h, hallDateTime, session, showError, word }
  from "/static/office_api.js";

const TOKEN_KEY = "onewindow.complaints.token";
const STAFF = new Set(["supervisor", "admin", "clerk", "department"]);
const SUPERVISE = new Set(["supervisor", "admin"]);
const STATUS = {
  registered: ["已登记", "registered"], classified: ["已分类", "classified"], assigned: ["已转办", "assigned"],
  answered: ["已办结（答复）", "answered"], fed_back: ["已反馈", "fed back"], checked: ["已核查", "checked"],
  filed: ["已备案", "filed"], closed: ["已关闭", "closed"],
};
const CLASS = { simple: ["简单", "simple"], complex: ["复杂", "complex"], special: ["特殊", "special"] };
const CLOSE = { court: ["已进入诉讼程序", "in court"], petition: ["已进入信访程序", "a petition (信访)"],
  other: ["其他不属受理范围", "otherwise out of scope"] };
const CHANNEL = { window: ["窗口登记", "at the window"], kiosk: ["自助机", "kiosk"], status_page: ["办件状态页", "case status page"] };
const STEP = {
  classify: ["分类", "Classify"], assign: ["转办", "Assign to a department"], answer: ["办结答复", "Answer"],
  feedback: ["反馈", "Feedback to the citizen"], check: ["核查", "Check"], file: ["备案", "File"],
  close: ["不予受理，关闭", "Close: out of scope"],
};
// who may take which step (the server decides; the page offers only the forms that can succeed)
function mayTake(step) {
  const role = session.user && session.user.role;
  if (SUPERVISE.has(role)) return step !== "answer";
  if (role === "department") return step === "answer";
  if (role === "clerk") return step === "feedback";
  return false;
}

const view = { list: [], open: null };
session.token = sessionStorage.getItem(TOKEN_KEY);

// -- messages --------------------------------------------------------------------------------------------
const EXPLAIN = {          // what to do, by HTTP status, after the server's own words
  403: ["当前账号无权进行此操作，请换用有权限的账号。", "This account may not do that: log in with one that may."],
  409: ["该反映的状态已变化，已重新读取，请按最新状态办理。", "The complaint has moved on: it was read again, go on from its state now."],
  422: ["请检查填写的内容后重试。", "Check what was entered and try again."],
};

function fail(exc) {
  if (exc instanceof ApiError && exc.status === 401) { forget(); }
  showError(exc);
  const more = exc instanceof ApiError ? EXPLAIN[exc.status] : null;
  if (more) {
    $("error-zh").textContent = `${$("error-zh").textContent} ${more[0]}`;
    $("error-en").textContent = `${$("error-en").textContent} ${more[1]}`;
  }
  $("error").dataset.status = exc instanceof ApiError ? String(exc.status) : "";
}

function notice(zh, en) {
  const n = $("notice");
  n.replaceChildren(...bi(zh, en));
  n.hidden = false;
}

// -- log-in ----------------------------------------------------------------------------------------------
function showLogin() {
  $("desk").hidden = true;
  $("logout").hidden = true;
  $("csv-link").hidden = true;
  $("user").textContent = "";
  $("login-panel").hidden = false;
}

function forget() {
  session.token = null;
  session.user = null;
  sessionStorage.removeItem(TOKEN_KEY);
  view.open = null;
  showLogin();
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
    if (!STAFF.has(me.role)) {
      await api("POST", "/api/v1/auth/logout").catch(() => {});
      throw new ApiError(403, { code: "role_forbidden",
        message_zh: `${me.username} 是 ${me.role} 账号，本页需要办不成事窗口工作人员、值班长或部门账号`,
        message_en: `${me.username} is a ${me.role}; this page needs the 办不成事 window's clerk, a supervisor or a department account` });
    }
    sessionStorage.setItem(TOKEN_KEY, session.token);
    form.password.value = "";
    await begin(me);
  } catch (exc) {
    session.token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    fail(exc);
  }
}

async function begin(me) {
  session.user = me;
  $("login-panel").hidden = true;
  $("desk").hidden = false;
  $("logout").hidden = false;
  $("user").textContent = `${me.username}（${me.role}${me.departments && me.departments.length ? " · " + me.departments.join("、") : ""}）`;
  $("user").dataset.role = me.role;
  $("register-panel").hidden = !(SUPERVISE.has(me.role) || me.role === "clerk");
  $("csv-link").hidden = !SUPERVISE.has(me.role);
  await refresh();
  const id = Number(location.hash.slice(1));
  if (id) await openComplaint(id);
}

// -- the CSV (a link cannot carry the token: fetched, then saved) -----------------------------------------
async function exportCsv(ev) {
  ev.preventDefault();
  try {
    const r = await fetch("/api/v1/complaints.csv", { headers: { authorization: `Bearer ${session.token}` }, cache: "no-store" });
    if (!r.ok) {
      const data = await r.json().catch(() => null);
      throw new ApiError(r.status, data && data.error ? data.error : { code: `http_${r.status}`,
        message_zh: `导出失败（${r.status}）`, message_en: `export failed (${r.status})` });
    }
    const url = URL.createObjectURL(await r.blob());
    const a = h("a", { href: url, download: "complaints.csv" });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (exc) { fail(exc); }
}

// -- register --------------------------------------------------------------------------------------------
async function caseId(text) {
  if (!text) return null;
  if (/^\d+$/.test(text)) return Number(text);
  const r = await api("GET", `/api/v1/cases?q=${encodeURIComponent(text)}&limit=5`);
  const found = (r.cases || r.items || []).find((c) => c.number === text || c.query_code === text);
  if (!found) {
    throw new ApiError(422, { code: "unknown_case", message_zh: `没有办件编号为 ${text} 的办件，请核对后重填（也可留空）`,
      message_en: `no case numbered ${text}: check the number, or leave it empty` });
  }
  return found.id;
}

async function register(ev) {
  ev.preventDefault();
  clearError();
  const f = ev.target;
  $("reg-done").hidden = true;
  try {
    const body = { text: f.text.value.trim() };
    const cid = await caseId(f.case.value.trim());
    if (cid !== null) body.case = cid;
    if (f.matter.value) body.matter = f.matter.value;
    if (f.window.value) body.window = Number(f.window.value);
    if (f.department.value) body.department = f.department.value;
    const name = f.name.value.trim(), phone = f.phone.value.trim();
    if (name || phone) body.contact = { name: name || null, phone: phone || null };
    const r = await api("POST", "/api/v1/complaints", body);
    f.reset();
    const done = $("reg-done");
    done.replaceChildren(...bi(`已登记，编号 `, "Registered, number "), h("b", { "data-test-id": "reg-number" }, r.number),
      ...bi(`，应于 ${r.due} 前处理`, `, due ${r.due}`));
    done.hidden = false;
    await refresh();
    await openComplaint(r.id);
  } catch (exc) { fail(exc); }
}

// -- the list --------------------------------------------------------------------------------------------
function deadline(c) {
  const closed = c.status === "filed" || c.status === "closed";
  const [zh, en] = closed ? ["—", ""] : DEADLINE_TEXT[c.deadline] || [c.deadline, ""];
  return h("span", { class: `dl dl-${closed ? "none" : c.deadline}`, "data-deadline": c.deadline }, ...bi(zh, en));
}

async function refresh() {
  const status = $("filter-status").value;
  try {
    const r = await api("GET", `/api/v1/complaints${status ? `?status=${status}` : ""}`);
    view.list = r.complaints;
  } catch (exc) { fail(exc); return; }
  $("list-count").textContent = String(view.list.length);
  $("list").replaceChildren(...view.list.map((c) => h("tr", {
    "data-test-id": `row-${c.number}`, "data-id": c.id, "data-status": c.status, "data-deadline": c.deadline,
    class: view.open && view.open.id === c.id ? "selected" : null },
  h("td", {}, h("button", { type: "button", class: "link", "data-test-id": `open-${c.number}`,
    onclick: () => openComplaint(c.id) }, c.number)),
  h("td", { "data-test-id": "row-status" }, word(STATUS, c.status)),
  h("td", {}, c.class ? word(CLASS, c.class) : "—"),
  h("td", {}, c.assigned_department || c.department || "—"),
  h("td", {}, c.due || "—"),
  h("td", {}, deadline(c)))));
}

// -- one complaint ---------------------------------------------------------------------------------------
async function openComplaint(id) {
  clearError();
  try {
    show(await api("GET", `/api/v1/complaints/${id}`));
  } catch (exc) {
    view.open = null;
    $("detail").hidden = true;
    $("detail-empty").hidden = false;
    fail(exc);
  }
}

function field(zh, en, value, id) {
  return [h("dt", {}, ...bi(zh, en)), h("dd", id ? { "data-test-id": id } : {}, value ?? "—")];
}

function show(c) {
  view.open = c;
  history.replaceState(null, "", `#${c.id}`);
  const contact = c.contact ? [c.contact.name, c.contact.phone].filter(Boolean).join(" ") : null;
  const box = $("detail");
  box.replaceChildren(
    h("h3", { "data-test-id": "detail-number", "data-status": c.status }, c.number),
    h("dl", { class: "facts" },
      field("状态", "Status", word(STATUS, c.status), "detail-status"),
      field("分类", "Class", c.class ? word(CLASS, c.class) : null, "detail-class"),
      field("反映内容", "Text", c.text, "detail-text"),
      field("办件", "Case", c.case_number),
      field("事项", "Matter", c.matter_name || c.matter),
      field("窗口", "Window", c.window),
      field("登记部门", "Department", c.department),
      field("承办部门", "Assigned to", c.assigned_department, "detail-assigned"),
      field("渠道", "Channel", word(CHANNEL, c.channel)),
      field("联系人", "Contact", contact),
      field("当前期限", "Step due", c.due ? [c.due, " ", deadline(c)] : null, "detail-due"),
      field("承诺答复日", "Answer due", c.answer_due),
      c.closed_reason ? field("关闭原因", "Closed because", c.closed_reason_name || c.closed_reason) : []),
    h("ol", { class: "steps", "data-test-id": "detail-steps" }, ...(c.steps || []).map((s) => h("li", { "data-step": s.step },
      h("b", {}, s.name), " ", h("span", { class: "muted" }, `${hallDateTime(s.at)} · ${s.by || ""}`),
      s.department ? ` → ${s.department}` : "", s.text ? h("p", {}, s.text) : ""))),
    ...c.next.filter(mayTake).map((step) => stepForm(c, step)),
    c.next.length && !c.next.some(mayTake)
      ? h("p", { class: "muted", "data-test-id": "no-step" }, ...bi("下一步不由当前账号办理。", "The next step is not this account's.")) : "");
  box.hidden = false;
  $("detail-empty").hidden = true;
  for (const tr of $("list").children) tr.classList.toggle("selected", Number(tr.dataset.id) === c.id);
}

function select(name, table, id) {
  return h("select", { name, "data-test-id": id, required: true },
    ...Object.entries(table).map(([k, [zh, en]]) => h("option", { value: k }, `${zh} ${en}`)));
}

function note(required, id) {
  return h("textarea", { name: "text", rows: "3", maxlength: "2000", required, "data-test-id": id });
}

function stepForm(c, step) {
  const [zh, en] = STEP[step] || [step, step];
  const parts = [];
  if (step === "classify") {
    parts.push(h("label", {}, h("span", {}, ...bi("分类", "Class")), select("class", CLASS, "step-class")));
  } else if (step === "assign") {
    const dep = h("select", { name: "department", required: true, "data-test-id": "step-department" },
      ...[...document.querySelectorAll("#complaint-departments option")].map((o) => h("option", { value: o.value }, o.value)));
    parts.push(h("label", {}, h("span", {}, ...bi("承办部门", "Department")), dep));
  } else if (step === "close") {
    parts.push(h("label", {}, h("span", {}, ...bi("原因", "Reason")), select("reason", CLOSE, "step-reason")));
  }
  const needsText = step === "answer" || step === "feedback";
  parts.push(h("label", {}, h("span", {}, ...(needsText ? bi("内容", "Text") : bi("说明（可选）", "Note (optional)"))),
    note(needsText, `step-${step}-text`)));
  return h("form", { class: `step-form step-${step}`, "data-test-id": `step-${step}`, onsubmit: (ev) => takeStep(ev, c, step) },
    h("h4", {}, ...bi(zh, en)), ...parts,
    h("button", { type: "submit", "data-test-id": `step-${step}-submit` }, ...bi(zh, en)));
}

async function takeStep(ev, c, step) {
  ev.preventDefault();
  clearError();
  const f = ev.target;
  const body = {};
  const text = f.text.value.trim();
  if (text) body.text = text;
  if (f.class) body.class = f.class.value;
  if (f.department) body.department = f.department.value;
  if (f.reason) body.reason = f.reason.value;
  try {
    const out = await api("POST", `/api/v1/complaints/${c.id}/${step}`, body);
    show(out);
    notice(`${c.number}：${STEP[step][0]}已完成`, `${c.number}: ${STEP[step][1].toLowerCase()} done`);
    await refresh();
  } catch (exc) {
    fail(exc);
    if (exc instanceof ApiError && exc.status === 409) {
      try { show(await api("GET", `/api/v1/complaints/${c.id}`)); } catch { /* the banner says enough */ }
      await refresh();
    }
  }
}

// -- start -----------------------------------------------------------------------------------------------
$("login-form").addEventListener("submit", logIn);
$("logout").addEventListener("click", async () => { await api("POST", "/api/v1/auth/logout").catch(() => {}); forget(); });
$("error-close").addEventListener("click", clearError);
$("register-form").addEventListener("submit", register);
$("refresh").addEventListener("click", refresh);
$("filter-status").addEventListener("change", refresh);
$("csv-link").addEventListener("click", exportCsv);
window.addEventListener("hashchange", () => {
  const id = Number(location.hash.slice(1));
  if (id && session.user && (!view.open || view.open.id !== id)) openComplaint(id);
});

(async () => {
  if (!session.token) { showLogin(); return; }
  try { await begin(await api("GET", "/api/v1/auth/me")); } catch { forget(); }
})();
