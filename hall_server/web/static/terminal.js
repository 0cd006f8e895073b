// The clerk's window terminal /window/N. No framework, no build.
//
// Log-in: POST /api/v1/auth/login, the token kept in sessionStorage (a reload keeps the session, closing
// the tab ends it), then POST /api/v1/windows/N/login. The page's state is read from the API — the hall
// (matters, windows), the window, its current ticket, the queue and the window's day — and kept right by
// following WS /api/v1/events?since=<seq> as the calling screens do (EventSocket, from event_socket.js):
// an event that touches this window re-reads the window and its day, any ticket event re-reads the
// waiting counts (each at most every 400 ms); the socket reconnects with back-off from the last seq, and
// a new day or a stream reset reloads everything. API errors are shown as they come, Chinese first,
// English below. The API client is terminal_api.js's; intake (受理, the cases) is intake.js's, which follows
// this desk through the document's terminal:drawn and terminal:event.

import { $, ApiError, api, en, h, session } from "./terminal_api.js";

const REFRESH_GAP_MS = 400;
const KEYS = { 1: "call-next", 2: "recall", 3: "start", 4: "skip", 5: "finish", 6: "transfer", 7: "pause",
  8: "resume", 9: "open", 0: "close" };
const PRIORITY = { normal: ["普通", "regular"], elderly: ["老年人优先", "elderly, priority"],
  disabled: ["残疾人优先", "disabled, priority"], veteran: ["军人优先", "military / veteran, priority"],
  pregnant: ["孕妇优先", "pregnant, priority"], appointment: ["预约优先", "appointment, priority"],
  handout: ["出件优先", "collecting a result, priority"] };
const STATE = { closed: ["已关窗", "closed"], open: ["空闲", "open, free"], paused: ["暂停", "paused"],
  serving: ["办理中", "serving"] };
const STATUS = { called: ["已呼叫，等候到达", "called, waiting for the citizen"],
  serving: ["办理中", "being served"] };
const IDLE = { open: ["暂无，按 1 呼叫下一位 ", "none — press 1 to call the next"],
  paused: ["暂停中，按 8 恢复 ", "paused — press 8 to resume"], closed: ["已关窗，按 9 开窗 ", "closed — press 9 to open"] };
const OUTCOME = { active: "办理中", done: "办结", no_show: "过号", transferred: "转出" };

const n = Number(document.body.dataset.window);
const pad = (x) => String(x).padStart(2, "0");
// intake.js follows the desk through these: "drawn" (the state, after each draw) and "event" (each event)
const tell = (name, detail) => document.dispatchEvent(new CustomEvent(`terminal:${name}`, { detail }));

// -- the hall's time: its UTC offset and the server's clock, from the window's day --------------------
const clock = { skewMs: 0, offsetMin: 0, known: false };

function setHallTime(iso) {
  clock.skewMs = Date.parse(iso) - Date.now();
  const m = /([+-])(\d\d):(\d\d)$/.exec(iso);
  clock.offsetMin = m ? (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
  clock.known = true;
}
const hallNowMs = () => Date.now() + clock.skewMs;

function hms(ms, seconds = true) {     // a moment, as the hall's wall time
  const t = new Date(ms + clock.offsetMin * 60000);
  const s = `${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}`;
  return seconds ? `${s}:${pad(t.getUTCSeconds())}` : s;
}
const at = (iso) => (iso ? hms(Date.parse(iso)) : "");

function span(s) {                     // a duration: 1:05:09, 12:04, 0:07
  s = Math.max(0, Math.floor(s));
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  return hh ? `${hh}:${pad(mm)}:${pad(s % 60)}` : `${mm}:${pad(s % 60)}`;
}

// -- messages -----------------------------------------------------------------------------------------
function showMessage(zh, enText, kind = "error") {
  const box = $("error");
  box.dataset.kind = kind;
  $("error-zh").textContent = zh;
  $("error-en").textContent = enText;
  box.hidden = false;
}
const showError = (e) => showMessage(e.zh || String(e), e.en || "", "error");
function clearMessage() { $("error").hidden = true; }

// -- state --------------------------------------------------------------------------------------------
const st = { hall: null, matters: new Map(), groups: new Map(), win: null, ticket: null, queue: null,
  queueAt: 0, day: null, busy: false, me: null };

function holds() {
  return st.me && (st.me.role !== "clerk" || (st.win && st.win.clerk === st.me.username));
}

function allowed(action) {
  const w = st.win;
  if (!w || !st.me) return false;
  const cur = w.current;
  if (action === "open") return w.state === "closed" && (holds() || !w.clerk);
  if (!holds()) return false;
  switch (action) {
    case "call-next": return w.state === "open" || w.state === "serving";
    case "recall": case "start": case "skip": return !!cur && cur.status === "called";
    case "finish": case "transfer": return !!cur;
    case "pause": return w.state === "open";
    case "resume": return w.state === "paused";
    case "close": return w.state === "open" || w.state === "paused";
    default: return false;
  }
}

// -- drawing ------------------------------------------------------------------------------------------
function drawWindow() {
  const w = st.win;
  const pill = $("window-state");
  pill.dataset.state = w.state;
  pill.replaceChildren(STATE[w.state][0], " ", en(STATE[w.state][1]));
  $("window-reason").textContent = w.state === "paused" || w.state === "closed" ? (w.reason || "") : "";
  $("clerk-name").textContent = st.me ? `${st.me.username}` : "";
  for (const b of document.querySelectorAll("[data-action]")) {
    if (b.dataset.action === "take") continue;
    b.disabled = !allowed(b.dataset.action);
  }
  const take = $("action-take");
  take.hidden = !(st.me && st.me.role === "clerk" && w.clerk !== st.me.username && w.state !== "closed");
  take.disabled = st.busy;
}

function drawCurrent() {
  const cur = st.win && st.win.current;
  const t = cur && st.ticket && st.ticket.id === cur.id ? st.ticket : null;
  const box = $("current");
  box.dataset.status = cur ? cur.status : "";
  $("current-number").textContent = cur ? cur.number : "—";
  const m = cur ? st.matters.get(cur.matter) : null;
  const matter = $("current-matter");
  if (!cur) {
    matter.replaceChildren(...(IDLE[st.win ? st.win.state : "open"] || IDLE.open).map((x, i) => (i ? en(x) : x)));
    $("current-priority").replaceChildren();
    $("current-times").replaceChildren();
    $("materials").hidden = true;
    return;
  }
  matter.replaceChildren(m ? m.name : cur.matter, " ", en(m && m.name_en ? m.name_en : cur.matter));
  const prio = PRIORITY[t ? t.priority : "normal"] || [t.priority, t.priority];
  const status = STATUS[cur.status] || [cur.status, cur.status];
  $("current-priority").replaceChildren(
    h("span", { class: `prio prio-${t ? t.priority : "normal"}`, "data-test-id": "current-priority-class" },
      prio[0], " ", en(prio[1])),
    h("span", { class: "status-text", "data-test-id": "current-status" }, status[0], " ", en(status[1])));
  drawTimes();
  const list = $("checklist");
  list.replaceChildren(...(m ? m.materials : []).map((text, i) => h("li", {},
    h("label", {}, h("input", { type: "checkbox", "data-test-id": `material-${i}` }), " ", text))));
  $("matter-kind").textContent = m ? `${m.kind}件${m.promised_days ? ` · 承诺 ${m.promised_days} 个工作日` : " · 当场办结"}`
    : "";
  $("materials").hidden = !m;
}

function drawTimes() {                 // every second: the called-ago counter ticks
  const cur = st.win && st.win.current;
  const t = cur && st.ticket && st.ticket.id === cur.id ? st.ticket : null;
  if (!cur) return;
  const now = hallNowMs();
  const parts = [];
  if (t) parts.push(`取号 ${at(t.issued_at)}`);
  if (cur.called_at) parts.push(`呼叫 ${at(cur.called_at)}，已过 ${span((now - Date.parse(cur.called_at)) / 1000)}`);
  if (t && t.started_at) parts.push(`到达 ${at(t.started_at)}`);
  parts.push(`重呼 ${cur.recalls} 次`);
  if (t && t.transfers) parts.push(`转移 ${t.transfers} 次`);
  const el = $("current-times");
  const text = parts.join(" · ");
  if (el.textContent !== text) el.textContent = text;
}

function servedMatters() {
  const serves = st.win ? st.win.serves : [];
  return new Set(st.hall.matters.filter((m) => serves.includes(m.code) || serves.includes(m.group))
    .map((m) => m.code));
}

function drawQueue() {
  if (!st.queue || !st.win) return;
  const served = servedMatters();
  const waiting = st.queue.matters.filter((m) => served.has(m.code));
  const total = waiting.reduce((a, m) => a + m.waiting, 0);
  $("waiting-total").textContent = String(total);
  $("waiting-priority").textContent = String(waiting.reduce((a, m) => a + m.priority_waiting, 0));
  const rows = st.win.serves.map((code) => {
    const g = st.groups.get(code);
    const ms = waiting.filter((m) => (g ? m.group === code : m.code === code));
    const count = ms.reduce((a, m) => a + m.waiting, 0);
    const longest = Math.max(0, ...ms.map((m) => m.longest_wait_s));
    const name = g ? g.name : (st.matters.get(code) || { name: code }).name;
    return h("li", { "data-test-id": `queue-${code}`, "data-count": String(count), class: count ? "busy" : "none" },
      h("span", { class: "qname" }, name), h("span", { class: "qcount" }, String(count)),
      h("span", { class: "qwait", "data-longest": String(longest) }, count ? span(longest) : ""));
  });
  $("queue-list").replaceChildren(...rows);
  drawWaits();
}

function drawWaits() {                 // every second: the longest waits grow between reads
  if (!st.queue || !st.win) return;
  const grown = (Date.now() - st.queueAt) / 1000;
  const served = servedMatters();
  const ms = st.queue.matters.filter((m) => served.has(m.code) && m.waiting);
  $("longest-wait").textContent = ms.length ? span(Math.max(...ms.map((m) => m.longest_wait_s)) + grown) : "—";
  for (const q of document.querySelectorAll(".qwait[data-longest]")) {
    if (q.textContent) q.textContent = span(Number(q.dataset.longest) + grown);
  }
}

function drawHistory() {
  const d = st.day;
  if (!d) return;
  $("history-counts").textContent = `办结 ${d.done} · 过号 ${d.no_show} · 转出 ${d.transferred}`;
  const rows = [...d.tickets].reverse().map((t) => {
    let outcome = OUTCOME[t.outcome];
    if (t.outcome === "transferred" && t.to) outcome += /^\d+$/.test(t.to) ? ` → ${t.to}号窗口` : ` → ${t.to}`;
    return h("tr", { "data-test-id": "history-row", "data-number": t.number, "data-outcome": t.outcome },
      h("td", { class: "num" }, t.number), h("td", { class: "matter" }, t.matter_name),
      h("td", {}, at(t.called_at)), h("td", {}, at(t.ended_at)), h("td", { class: `out out-${t.outcome}` }, outcome));
  });
  if (!rows.length) rows.push(h("tr", {}, h("td", { colspan: "5", class: "empty" }, "今天还没有呼叫 No calls yet today")));
  $("history").replaceChildren(...rows);
}

function drawAll() {
  drawWindow();
  drawCurrent();
  drawQueue();
  drawHistory();
  tell("drawn", st);
}

function showView(authed) {
  document.body.dataset.auth = authed ? "in" : "out";
  $("login-view").hidden = authed;
  $("desk").hidden = !authed;
  for (const e of document.querySelectorAll("[data-auth-only]")) e.hidden = !authed;
  tell("drawn", st);
}

// -- reading ------------------------------------------------------------------------------------------
async function loadHall() {
  st.hall = await api("GET", "/hall");
  st.matters = new Map(st.hall.matters.map((m) => [m.code, m]));
  st.groups = new Map(st.hall.groups.map((g) => [g.code, g]));
  fillTransferChoices();
}

async function loadWindow() {          // the window, its day and its current ticket
  const day = await api("GET", `/windows/${n}/today`);    // first: its latest_seq is where the feed starts
  const win = await api("GET", `/windows/${n}`);
  setHallTime(day.now);
  st.day = day;
  st.win = win;
  st.ticket = win.current ? await api("GET", `/tickets/${win.current.id}`) : null;
}

async function loadQueue() {
  st.queue = await api("GET", "/queue");
  st.queueAt = Date.now();
}

async function loadAll() {
  if (!st.hall) await loadHall();
  await Promise.all([loadWindow(), loadQueue()]);
  drawAll();
}

// -- the event feed -----------------------------------------------------------------------------------
const socket = new EventSocket({
  onEvent(e) {
    tell("event", e);
    const d = e.data || {};
    const mine = d.window === n || d.from_window === n || d.to_window === n;
    if (mine && (e.type.startsWith("window.") || e.type.startsWith("ticket."))) feed.refreshSoon(true, true);
    else if (e.type.startsWith("ticket.")) feed.refreshSoon(false, true);
  },
  onResync(e) {           // the socket goes on, and everything is read again
    if (e.type === "stream.reset") socket.lastSeq = e.data.latest_seq;   // another log (a backup): from its end
    else if (e.seq > socket.lastSeq) socket.lastSeq = e.seq;             // a new day
    else return;
    feed.refreshSoon(true, true);
  },
  onState: showConnection,
  onReconnected: () => feed.refreshSoon(true, true),      // what changed while we were away
});

const feed = {
  pending: { window: false, queue: false }, timer: null, lastRefresh: 0, running: false,

  refreshSoon(win, queue) {
    this.pending.window ||= win;
    this.pending.queue ||= queue;
    if (this.timer) return;
    const wait = Math.max(0, this.lastRefresh + REFRESH_GAP_MS - Date.now());
    this.timer = setTimeout(() => { this.timer = null; this.refresh(); }, wait);
  },

  async refresh() {
    if (this.running) { setTimeout(() => this.refreshSoon(false, false), REFRESH_GAP_MS); return; }
    if (!st.me) return;
    const { window: win, queue } = this.pending;
    this.pending = { window: false, queue: false };
    this.running = true;
    this.lastRefresh = Date.now();
    try {
      await Promise.all([win ? loadWindow() : null, queue ? loadQueue() : null]);
      drawAll();
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) expired(e);
      else this.refreshSoon(win, queue);      // the network, most likely: the socket reconnects too
    } finally {
      this.running = false;
    }
  },
};

function showConnection(state) {       // "connected" or "reconnecting": shown only the last
  const c = $("connection");
  c.dataset.state = state;
  c.hidden = state === "connected";
}

// -- acting -------------------------------------------------------------------------------------------
async function act(action, body) {
  if (st.busy) return;
  st.busy = true;
  clearMessage();
  document.body.dataset.busy = "true";
  try {
    if (action === "take" || (action === "open" && st.me.role === "clerk" && st.win.clerk !== st.me.username)) {
      await api("POST", `/windows/${n}/login`);
    }
    if (action !== "take") {
      const r = await api("POST", `/windows/${n}/${action}`, body);
      if (action === "call-next" && r === null) showMessage("当前没有等候的人", "nobody is waiting for this window", "info");
    }
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) { expired(e); return; }
    showError(e);
  } finally {
    st.busy = false;
    delete document.body.dataset.busy;
  }
  try { await loadWindow(); await loadQueue(); drawAll(); } catch { feed.refreshSoon(true, true); }
}

function press(action) {
  const b = $(`action-${action}`);
  if (!b || b.disabled || st.busy) return;
  if (action === "transfer") openTransfer();
  else if (action === "pause") openPause();
  else act(action);
}

function fillTransferChoices() {
  const win = $("transfer-window");
  win.replaceChildren(...st.hall.windows.filter((w) => w.number !== n).map((w) =>
    h("option", { value: String(w.number) }, `${w.number}号 ${w.name}`)));
  const matter = $("transfer-matter");
  matter.replaceChildren(...st.hall.groups.map((g) => {
    const og = h("optgroup", { label: g.name });
    og.append(...st.hall.matters.filter((m) => m.group === g.code).map((m) =>
      h("option", { value: m.code }, `${m.prefix} ${m.name}（${m.code}）`)));
    return og;
  }));
}

function openTransfer() {
  const dlg = $("transfer-dialog");
  dlg.returnValue = "";
  $("transfer-reason").value = "";
  const cur = st.win.current;
  if (cur) $("transfer-matter").value = cur.matter;
  syncTransferKind();
  dlg.showModal();
  $("transfer-window").focus();
}

function syncTransferKind() {
  const toWindow = $("transfer-to-window").checked;
  $("transfer-window").disabled = !toWindow;
  $("transfer-matter").disabled = toWindow;
}

function openPause() {
  const dlg = $("pause-dialog");
  dlg.returnValue = "";
  $("pause-reason-break").checked = true;
  $("pause-other").value = "";
  syncPauseOther();
  dlg.showModal();
  $("pause-reason-break").focus();
}

function syncPauseOther() {
  const other = $("pause-reason-other").checked;
  $("pause-other").disabled = !other;
  $("pause-other").required = other;
}

// -- session ------------------------------------------------------------------------------------------
async function logIn(username, password) {
  clearMessage();
  $("login-submit").disabled = true;
  try {
    const r = await api("POST", "/auth/login", { username, password });
    session.set({ token: r.token, username: r.username, role: r.role });
    await enter(true);
  } catch (e) {
    showError(e);
  } finally {
    $("login-submit").disabled = false;
  }
}

async function enter(fresh) {           // the token is good: take the window (a clerk) and show the desk
  const me = await api("GET", "/auth/me");
  st.me = { username: me.username, role: me.role };
  if (!st.hall) await loadHall();
  const win = await api("GET", `/windows/${n}`);
  if (me.role === "clerk" && win.clerk !== me.username && (fresh || !win.clerk)) {
    try { await api("POST", `/windows/${n}/login`); } catch (e) { showError(e); }
  }
  $("login-password").value = "";
  await loadAll();
  showView(true);
  if (document.activeElement) document.activeElement.blur();
  if (!socket.active) socket.open(st.day.latest_seq);
}

function expired(e) {
  session.clear();
  st.me = null;
  showView(false);
  showError(e);
}

async function logOut() {
  clearMessage();
  try {
    if (st.me.role === "clerk" && st.win && st.win.clerk === st.me.username) {
      await api("POST", `/windows/${n}/logout`);
    }
    await api("POST", "/auth/logout");
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 401) { showError(e); return; }
  }
  session.clear();
  st.me = null;
  showView(false);
  $("login-username").focus();
}

// -- keyboard: digits (top row or keypad), never while typing or in a dialog --------------------------
function onKey(e) {
  if (e.ctrlKey || e.altKey || e.metaKey || e.repeat || !st.me) return;
  if (document.querySelector("dialog[open]")) return;
  const t = e.target;
  if (t && (t.isContentEditable || ["INPUT", "SELECT", "TEXTAREA"].includes(t.tagName))) return;
  const m = /^(?:Digit|Numpad)(\d)$/.exec(e.code);
  if (!m) return;
  e.preventDefault();
  press(KEYS[m[1]]);
}

// -- start --------------------------------------------------------------------------------------------
function tick() {
  setTimeout(tick, 1000 - (hallNowMs() % 1000) + 5);
  if (clock.known) $("clock").textContent = hms(hallNowMs());
  drawTimes();
  drawWaits();
}

async function main() {
  $("login-form").addEventListener("submit", (e) => {
    e.preventDefault();
    logIn($("login-username").value.trim(), $("login-password").value);
  });
  $("logout").addEventListener("click", logOut);
  $("error-close").addEventListener("click", clearMessage);
  for (const b of document.querySelectorAll("[data-action]")) b.addEventListener("click", () => press(b.dataset.action));
  document.addEventListener("keydown", onKey);
  for (const r of document.querySelectorAll('input[name="transfer-to"]')) r.addEventListener("change", syncTransferKind);
  for (const r of document.querySelectorAll('input[name="pause-reason"]')) r.addEventListener("change", syncPauseOther);
  $("transfer-dialog").addEventListener("close", () => {
    if ($("transfer-dialog").returnValue !== "ok") return;
    const body = { reason: $("transfer-reason").value.trim() };
    if ($("transfer-to-window").checked) body.to_window = Number($("transfer-window").value);
    else body.to_matter = $("transfer-matter").value;
    act("transfer", body);
  });
  $("pause-dialog").addEventListener("close", () => {
    if ($("pause-dialog").returnValue !== "ok") return;
    const choice = document.querySelector('input[name="pause-reason"]:checked').value;
    const other = $("pause-other").value.trim();
    act("pause", { reason: choice === "其他" ? `其他：${other}` : choice });
  });
  tick();
  showView(false);
  if (!session.get()) { $("login-username").focus(); return; }
  $("login-view").hidden = true;          // a reload: no log-in form flashing while the state is read
  for (;;) {              // a reload: the session is kept, the state read again
    try {
      await enter(false);
      return;
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) { expired(e); return; }
      await socket.backOff();
    }
  }
}

main();
