// The back office /office: a department officer's worklist, the overdue cases per department and the case
// pane (office_detail.js). No framework, no build.
//
// After log-in (a department or supervisor token, kept in sessionStorage) the page reads
// GET /api/v1/office/worklist — the running cases of the account's departments by due date, each with the
// working days left as the hall's calendar counts them — then follows WS /api/v1/events?since=<latest_seq>
// (EventSocket, event_socket.js): every case.* event reads the worklist again (at most every 250 ms) and the
// open case too when the event is about it. Filters (claimed by me, unclaimed, overdue, department) are
// applied here, to the list as read.

import {
  $, ApiError, DEADLINE_TEXT, STATUS_TEXT, TASK_TEXT, TOKEN_KEY, api, bi, clearError, deadlineBadge, h, hallDateTime,
  hallToday, leftText, session, setHallTime, showError, word,
} from "/static/office_api.js";
import { clearDetail, initDetail, selectedCase, setLeft, showCase } from "/static/office_detail.js";

const ROLES = new Set(["department", "supervisor", "admin"]);
const REFRESH_GAP_MS = 250;
const view = { filter: "all", department: "", order: "asc", list: null };

// -- log-in ----------------------------------------------------------------------------------------------
function showLogin() {
  $("desk").hidden = true;
  $("logout").hidden = true;
  $("today").hidden = true;
  $("user").textContent = "";
  $("login-panel").hidden = false;
  setConnection("idle");
  $("login-username").focus();
}

function refuseRole(me) {
  return new ApiError(403, { code: "role_forbidden",
    message_zh: `${me.username} 是 ${me.role} 账号，后台审批需要部门人员或值班长账号，请换一个账号登录`,
    message_en: `${me.username} is a ${me.role}; the back office needs a department or supervisor account: log in with one` });
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
      throw refuseRole(me);
    }
    sessionStorage.setItem(TOKEN_KEY, session.token);
    form.password.value = "";
    await begin(me);
  } catch (exc) {
    forget();
    showError(exc);
  }
}

async function logOut() {
  await api("POST", "/api/v1/auth/logout").catch(() => {});
  forget();
}

function forget() {             // the token is gone or expired: back to the log-in form
  session.token = null;
  session.user = null;
  sessionStorage.removeItem(TOKEN_KEY);
  feed.stop();
  view.list = null;
  clearDetail();
  showLogin();
}

function handleAuth(exc) {
  forget();
  showError(exc);
}

async function begin(me) {
  session.user = me;
  const deps = me.role === "department" ? `：${me.departments.join("、")}` : "";
  $("user").textContent = `${me.username}（${me.role}${deps}）`;
  $("logout").hidden = false;
  $("login-panel").hidden = true;
  await feed.start();
  if (!feed.running) return;
  $("desk").hidden = false;
}

// -- the feed: worklist, events, reconnect ---------------------------------------------------------------
function setConnection(s) {
  const c = $("connection");
  c.dataset.state = s;
  c.replaceChildren(...({ idle: [], connecting: bi("连接中…", "connecting…"), connected: bi("实时", "live"),
    reconnecting: bi("连接中断，正在重连…", "reconnecting…") }[s]));
}

class Feed {
  constructor() {
    this.socket = new EventSocket({
      onEvent: (e) => this.event(e),
      onResync: (e) => this.resync(e),
      onState: setConnection,
      onReconnected: () => { this.refreshSoon(); if (selectedCase()) showCase(selectedCase()); },
    });
    this.timer = null;
    this.busy = false;
    this.again = false;
    this.last = 0;
    this.running = false;
  }

  async start() {
    this.running = true;
    setConnection("connecting");
    for (;;) {
      try {
        await this.load(true);
        if (this.running) this.socket.open();
        return;
      } catch (exc) {
        if (exc instanceof ApiError && (exc.status === 401 || exc.status === 403)) { handleAuth(exc); return; }
        await this.socket.backOff();
        if (!this.running) return;
      }
    }
  }

  stop() {
    this.running = false;
    this.socket.close();
    clearTimeout(this.timer);
    this.timer = null;
  }

  // `initial`: before the socket follows; the socket then starts from the snapshot's seq. A refresh while it
  // follows leaves lastSeq alone: an event committed before the refresh read may still be on its way, and
  // moving past it would drop it (a joint case's last decision never redrew the open case).
  async load(initial = false) {
    const list = await api("GET", "/api/v1/office/worklist");
    if (!this.running) return;
    setHallTime(list.now, list.today);
    if (initial) this.socket.lastSeq = Math.max(this.socket.lastSeq, list.latest_seq);
    view.list = list;
    render();
  }

  event(e) {
    if (!e.type.startsWith("case.")) return;
    this.refreshSoon();
    if (e.data && e.data.case === selectedCase()) showCase(e.data.case);
  }

  async resync(e) {       // a new day, or a log that started over: from a fresh worklist's seq
    this.socket.close();
    if (!this.running) return;
    if (e.type === "stream.reset") this.socket.lastSeq = 0;
    else if (e.seq) this.socket.lastSeq = e.seq;
    await this.start();
  }

  refreshSoon() {
    if (this.timer) return;
    const wait = Math.max(0, this.last + REFRESH_GAP_MS - Date.now());
    this.timer = setTimeout(() => { this.timer = null; this.refresh(); }, wait);
  }

  async refresh() {
    if (!this.running) return;
    if (this.busy) { this.again = true; return; }
    this.busy = true;
    this.last = Date.now();
    try {
      await this.load();
    } catch (exc) {
      if (exc instanceof ApiError && (exc.status === 401 || exc.status === 403)) handleAuth(exc);
      /* otherwise the socket's own failure handling reconnects, and that refreshes */
    } finally {
      this.busy = false;
      if (this.again) { this.again = false; this.refreshSoon(); }
    }
  }
}

const feed = new Feed();

// -- which tasks of a case are the viewer's --------------------------------------------------------------
function tasksInView(c, department = view.department) {
  const me = session.user;
  return c.departments.filter((t) => (!department || t.department === department)
    && (me.role !== "department" || me.departments.includes(t.department)));
}

function shown(c) {
  const tasks = tasksInView(c);
  if (!tasks.length) return false;
  if (view.filter === "mine") return tasks.some((t) => t.claimed_by === session.user.username);
  if (view.filter === "unclaimed") return tasks.some((t) => t.state === "open");
  if (view.filter === "overdue") return c.deadline === "red";
  return true;
}

// -- drawing ---------------------------------------------------------------------------------------------
// Rows are replaced only when what they show changed, so a button is not swapped under the pointer.
function sync(parent, items, key, build) {
  const old = new Map([...parent.children].map((el) => [el.dataset.key, el]));
  const els = items.map((item) => {
    const [k, sig] = key(item);
    const el = old.get(k);
    if (el && el.dataset.sig === sig) return el;
    const fresh = build(item);
    fresh.dataset.key = k;
    fresh.dataset.sig = sig;
    return fresh;
  });
  if (els.length !== parent.children.length || els.some((r, i) => parent.children[i] !== r)) parent.replaceChildren(...els);
}

function render() {
  const list = view.list;
  if (!list) return;
  $("today").hidden = false;
  $("today").replaceChildren(...bi(`今天 ${hallToday()}`, "today"));
  drawDepartments(list.departments);
  const cases = list.cases.filter(shown);
  $("work-count").textContent = String(cases.length);
  $("work-more").hidden = !list.more;
  drawWorklist(cases);
  drawOverdue(list);
  const sel = list.cases.find((c) => c.id === selectedCase());
  if (sel) setLeft(sel.id, sel.working_days_left);
  for (const b of document.querySelectorAll("[data-filter]")) b.setAttribute("aria-pressed", String(b.dataset.filter === view.filter));
}

function drawDepartments(departments) {
  const select = $("filter-department");
  $("filter-department-label").hidden = departments.length < 2;
  const want = ["", ...departments].join("|");
  if (select.dataset.options === want) return;
  select.dataset.options = want;
  select.replaceChildren(h("option", { value: "" }, "全部部门 All departments"),
    ...departments.map((d) => h("option", { value: d }, d)));
  select.value = departments.includes(view.department) ? view.department : "";
}

function claimers(c) {
  const tasks = c.departments.length > 1 ? tasksInView(c, "") : c.departments;
  const mine = session.user.role === "department";
  if (tasks.length > 2) {             // a supervisor's view of a 联办件: how far its departments are
    const n = (s) => tasks.filter((t) => t.state === s || (s === "claimed" && t.state === "decided")).length;
    const title = tasks.map((t) => `${t.department}：${t.claimed_by || "—"}`).join("\n");
    return [h("div", { class: "claimer", title }, ...bi(`已认领 ${n("claimed")}/${tasks.length}`, "claimed")),
      h("div", { class: "claimer", title }, ...bi(`已决定 ${n("decided")}/${tasks.length}`, "decided"))];
  }
  return tasks.map((t) => h("div", { class: `claimer task-${t.state}`, "data-department": t.department },
    c.departments.length > 1 ? h("span", { class: "muted" }, `${t.department} `) : null,
    t.claimed_by ? h("b", { class: mine && t.claimed_by === session.user.username ? "me" : "" }, t.claimed_by)
      : h("span", { class: `task task-${t.state}` }, ...word(TASK_TEXT, t.state)),
    t.state === "decided" && t.claimed_by ? h("span", { class: "muted" }, ` ${TASK_TEXT.decided[0]}`) : null));
}

function open(c) {
  showCase(c.id, c.working_days_left);
  for (const tr of $("worklist").children) tr.classList.toggle("selected", tr.dataset.key === String(c.id));
}

function drawWorklist(cases) {
  const rows = cases.length ? cases : [null];
  sync($("worklist"), rows, (c) => (c ? [String(c.id), JSON.stringify([c.status, c.deadline, c.due, c.working_days_left,
    c.departments, c.id === selectedCase()])] : ["none", view.filter]), (c) => {
    if (!c) {
      return h("tr", { class: "empty" }, h("td", { colspan: "8", class: "muted" },
        ...(view.filter === "all" ? bi("没有待办件", "no cases to work on") : bi("没有符合筛选条件的办件", "no case matches the filter"))));
    }
    const [lzh, len] = leftText(c);
    const id = c.id;
    return h("tr", { "data-test-id": `case-row-${id}`, "data-deadline": c.deadline, "data-status": c.status,
      class: `dlrow-${c.status === "suspended" ? "paused" : c.deadline}${id === selectedCase() ? " selected" : ""}`,
      onclick: (ev) => { if (!ev.target.closest("button")) open(c); } },
    h("th", { scope: "row" }, h("button", { type: "button", class: "link", "data-test-id": `case-open-${id}`,
      onclick: () => open(c) }, c.number)),
    h("td", { class: "matter", title: c.matter_name }, h("span", { class: "code" }, c.matter), " ", c.matter_name),
    h("td", { class: "kind" }, `${c.kind}件`),
    h("td", { class: "date", title: `收件 received ${hallDateTime(c.received_at)}` }, c.accept_day || "—"),
    h("td", { class: "date", "data-test-id": `case-due-${id}` }, c.due || "—"),
    h("td", { "data-test-id": `case-left-${id}` }, deadlineBadge(c, `case-deadline-${id}`), " ",
      h("span", { class: "left" }, lzh, " ", h("span", { class: "en", lang: "en" }, len))),
    h("td", { "data-test-id": `case-status-${id}` }, h("span", { class: `status status-${c.status}` }, ...word(STATUS_TEXT, c.status))),
    h("td", { "data-test-id": `case-claimed-${id}` }, ...claimers(c)));
  });
}

function drawOverdue(list) {
  const red = list.cases.filter((c) => c.deadline === "red");
  const sign = view.order === "asc" ? 1 : -1;
  const groups = [];
  for (const d of list.departments) {
    const cases = red.filter((c) => c.departments.some((t) => t.department === d && t.state !== "decided"))
      .sort((a, b) => sign * (a.due < b.due ? -1 : a.due > b.due ? 1 : a.id - b.id));
    if (cases.length) groups.push({ d, cases });
  }
  const box = $("overdue");
  if (!groups.length) {
    box.replaceChildren(h("p", { class: "muted empty", "data-test-id": "overdue-none" }, ...bi("没有超期办件", "no overdue cases")));
    return;
  }
  box.replaceChildren(...groups.map(({ d, cases }) => h("section", { class: "dept", "data-test-id": `overdue-dept-${d}` },
    h("h3", {}, d, " ", h("b", { class: "count" }, String(cases.length))),
    h("table", { class: "grid" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, ...bi("办件编号", "Case No.")), h("th", { scope: "col" }, ...bi("事项", "Matter")),
        h("th", { scope: "col" }, ...bi("期限", "Due")), h("th", { scope: "col" }, ...bi("超期", "Over")),
        h("th", { scope: "col" }, ...bi("认领人", "Officer")))),
      h("tbody", {}, ...cases.map((c) => {
        const t = c.departments.find((x) => x.department === d);
        return h("tr", { "data-test-id": `overdue-row-${c.id}`, "data-deadline": "red" },
          h("th", { scope: "row" }, h("button", { type: "button", class: "link", onclick: () => open(c) }, c.number)),
          h("td", { class: "matter" }, c.matter_name),
          h("td", { class: "date", "data-test-id": `overdue-due-${c.id}` }, c.due),
          h("td", {}, h("span", { class: "dl dl-red" }, ...bi(DEADLINE_TEXT.red[0], DEADLINE_TEXT.red[1])), " ",
            `${-(c.working_days_left || 0)} 个工作日`),
          h("td", {}, t.claimed_by || h("span", { class: "task task-open" }, ...word(TASK_TEXT, "open"))));
      }))))));
}

// -- start -----------------------------------------------------------------------------------------------
function wire() {
  $("login-form").addEventListener("submit", logIn);
  $("logout").addEventListener("click", logOut);
  $("error-close").addEventListener("click", clearError);
  for (const b of document.querySelectorAll("[data-filter]")) {
    b.addEventListener("click", () => { view.filter = b.dataset.filter; render(); });
  }
  $("filter-department").addEventListener("change", (ev) => { view.department = ev.target.value; render(); });
  $("overdue-sort").addEventListener("click", () => {
    view.order = view.order === "asc" ? "desc" : "asc";
    const b = $("overdue-sort");
    b.dataset.order = view.order;
    b.replaceChildren(...(view.order === "asc" ? bi("按期限排序：最早在前", "due: earliest first")
      : bi("按期限排序：最晚在前", "due: latest first")));
    render();
  });
  initDetail({ onChanged: () => feed.refreshSoon(), onAuth: handleAuth });
}

async function main() {
  wire();
  if (!session.token) { showLogin(); return; }
  try {
    const me = await api("GET", "/api/v1/auth/me");
    if (!ROLES.has(me.role)) throw refuseRole(me);
    await begin(me);
  } catch (exc) {
    forget();
    if (!(exc instanceof ApiError && exc.status === 401)) showError(exc);
  }
}

main();
