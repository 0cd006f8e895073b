// The supervisor's dashboard /dashboard. No framework, no build.
//
// After log-in (a supervisor or admin token, kept in sessionStorage) the page loads GET /api/v1/dashboard,
// then follows WS /api/v1/events?since=<latest_seq> (EventSocket, from event_socket.js). Every event that
// may change what it shows (tickets, windows, device.health, alert.raised…) reads the snapshot again, at
// most every 250 ms. The socket is watched: closed, failed or silent for 25 s (the server sends a heartbeat
// every 10 s), it reconnects with back-off from the last seq seen, and the snapshot is read again once it
// is back; stream.reset and day.rolled_over start over from a fresh snapshot.
// Actions post to the API as the logged-in user; an API error is shown as the server wrote it.
// The cases panel (办件 by state, the overdue ones) is drawn by dashboard_cases.js, the 好差评 panel by
// dashboard_feedback.js, today's headline figures by dashboard_stats.js.

import { drawCases } from "/static/dashboard_cases.js";
import { noteFeedbackEvent, refreshFeedback } from "/static/dashboard_feedback.js";
import { refreshStats } from "/static/dashboard_stats.js";

const TOKEN_KEY = "onewindow.dashboard.token";
const REFRESH_GAP_MS = 250;
const ROLES = new Set(["supervisor", "admin"]);
const LONG_WAIT_S = Number(document.body.dataset.longWaitS || 1800);
const STATE_TEXT = {
  open: ["空闲", "open"], serving: ["服务中", "serving"], paused: ["暂停", "paused"], closed: ["关闭", "closed"],
};
const DEVICE_TEXT = { ok: ["正常", "ok"], degraded: ["注意", "degraded"], offline: ["离线", "offline"],
  fault: ["故障", "fault"] };
const ALERT_TEXT = { print_failed: ["打印失败", "print failed"], away: ["离岗", "clerk away"],
  seat_worker: ["座席监控进程", "seat worker"], case_due_soon: ["即将到期", "case due soon"],
  case_overdue: ["已超期", "case overdue"] };
const PRIORITY_TEXT = { elderly: "老", disabled: "残", veteran: "军", pregnant: "孕", appointment: "约" };

const $ = (id) => document.querySelector(`[data-test-id="${id}"]`);
const pad = (n) => String(n).padStart(2, "0");

function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c !== null && c !== undefined && c !== "") e.append(c);
  return e;
}

const bi = (zh, en) => [zh, " ", h("span", { class: "en", lang: "en" }, en)];

// -- the hall's time, from the snapshot ----------------------------------------------------------------
const clock = { skewMs: 0, offsetMin: 0, known: false };

function setHallTime(iso) {
  clock.skewMs = Date.parse(iso) - Date.now();
  const m = /([+-])(\d\d):(\d\d)$/.exec(iso);
  clock.offsetMin = m ? (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
  clock.known = true;
  showClock();
}

const hallNowMs = () => Date.now() + clock.skewMs;

function hallHM(iso) {           // "09:41", the hall's wall time of a UTC timestamp
  const t = new Date(Date.parse(iso) + clock.offsetMin * 60000);
  return `${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}`;
}

function duration(s) {           // "12 分", "1 时 05 分"
  const m = Math.max(0, Math.floor(s / 60));
  return m < 60 ? `${m} 分` : `${Math.floor(m / 60)} 时 ${pad(m % 60)} 分`;
}

const ago = (iso) => (hallNowMs() - Date.parse(iso)) / 1000;

function tickClock() {
  setTimeout(tickClock, 1000 - (hallNowMs() % 1000) + 5);
  showClock();
}

function showClock() {
  if (!clock.known) return;
  const t = new Date(hallNowMs() + clock.offsetMin * 60000);
  $("clock").hidden = false;
  $("clock").textContent = `${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}:${pad(t.getUTCSeconds())}`;
}

// -- the API -------------------------------------------------------------------------------------------
class ApiError extends Error {
  constructor(status, err) {
    super(err.message_en || `HTTP ${status}`);
    this.status = status;
    this.err = err;
  }
}

const session = { token: sessionStorage.getItem(TOKEN_KEY), user: null };

async function api(method, path, body) {
  const headers = { accept: "application/json" };
  if (session.token) headers.authorization = `Bearer ${session.token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  let r;
  try {
    r = await fetch(path, { method, headers, cache: "no-store", body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (exc) {
    throw new ApiError(0, { code: "network_error", message_zh: "无法连接服务器，请检查网络后重试",
      message_en: `${method} ${path}: the hall server did not answer (${exc.message}); check the network and retry` });
  }
  if (r.status === 204) return null;
  let data = null;
  try { data = await r.json(); } catch { /* not JSON: described below */ }
  if (!r.ok) {
    const err = data && data.error ? data.error : { code: `http_${r.status}`, message_zh: `服务器返回 ${r.status}`,
      message_en: `${method} ${path} answered ${r.status}` };
    throw new ApiError(r.status, err);
  }
  return data;
}

function showError(exc) {
  const err = exc instanceof ApiError ? exc.err : { code: "error", message_zh: String(exc), message_en: "" };
  $("error-code").textContent = err.code || "";
  $("error-zh").textContent = err.message_zh || "";
  $("error-en").textContent = err.message_en || "";
  $("error").hidden = false;
}

const clearError = () => { $("error").hidden = true; };

// -- log-in --------------------------------------------------------------------------------------------
function showLogin() {
  $("board").hidden = true;
  $("totals").hidden = true;
  $("logout").hidden = true;
  $("user").textContent = "";
  $("login-panel").hidden = false;
  setConnection("idle");
  $("login-username").focus();
}

async function logIn(ev) {
  ev.preventDefault();
  clearError();
  const form = ev.target;
  try {
    session.token = null;
    const r = await api("POST", "/api/v1/auth/login",
      { username: form.username.value.trim(), password: form.password.value });
    session.token = r.token;
    const me = await api("GET", "/api/v1/auth/me");
    if (!ROLES.has(me.role)) {
      await api("POST", "/api/v1/auth/logout").catch(() => {});
      session.token = null;
      throw new ApiError(403, { code: "role_forbidden", message_zh: `${me.username} 是 ${me.role}，值班监控需要值班长或管理员账号`,
        message_en: `${me.username} is a ${me.role}; the dashboard needs a supervisor or admin account` });
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
  sessionStorage.removeItem(TOKEN_KEY);
  feed.stop();
  showLogin();
}

async function begin(me) {
  session.user = me;
  $("user").textContent = `${me.username}（${me.role}）`;
  $("logout").hidden = false;
  $("login-panel").hidden = true;
  const hall = await api("GET", "/api/v1/hall");
  fillMoveChoices(hall);
  await feed.start();
  if (!feed.running) return;         // the token was refused meanwhile: the log-in form is back
  $("board").hidden = false;
  $("totals").hidden = false;
}

// -- the feed: snapshot, events, reconnect -------------------------------------------------------------
function setConnection(state) {
  const c = $("connection");
  c.dataset.state = state;
  c.replaceChildren(...({
    idle: [], connecting: bi("连接中…", "connecting…"), connected: bi("实时", "live"),
    reconnecting: bi("连接中断，正在重连…", "reconnecting…"),
  }[state]));
}

class Feed {
  constructor() {
    this.socket = new EventSocket({
      onEvent: (e) => { noteFeedbackEvent(e); this.refreshSoon(); },
      onResync: (e) => this.resync(e),
      onState: setConnection,
      onReconnected: () => this.refreshSoon(),
    });
    this.refreshTimer = null;
    this.refreshing = false;
    this.refreshAgain = false;
    this.lastRefresh = 0;
    this.running = false;
    this.snap = null;
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
    clearTimeout(this.refreshTimer);
    this.refreshTimer = null;
  }

  // `initial`: before the socket follows; the socket then starts from the snapshot's seq. A refresh while it
  // follows leaves lastSeq alone: an event committed before the refresh read may still be on its way, and
  // moving past it would drop it (a joint case's last decision never redrew the open case).
  async load(initial = false) {
    const snap = await api("GET", "/api/v1/dashboard");
    setHallTime(snap.now);
    snap.takenMs = hallNowMs();
    this.snap = snap;
    if (initial) this.socket.lastSeq = Math.max(this.socket.lastSeq, snap.latest_seq);
    render(snap);
    return snap;
  }

  async resync(e) {       // a new day, or a log that started over: from a fresh snapshot's seq
    this.socket.close();
    if (!this.running) return;
    if (e.type === "stream.reset") this.socket.lastSeq = 0;
    else if (e.seq) this.socket.lastSeq = e.seq;
    const lastSeq = this.socket.lastSeq;
    await this.start();
    if (this.socket.lastSeq < lastSeq) this.socket.lastSeq = lastSeq;
  }

  refreshSoon() {
    if (this.refreshTimer) return;
    const wait = Math.max(0, this.lastRefresh + REFRESH_GAP_MS - Date.now());
    this.refreshTimer = setTimeout(() => { this.refreshTimer = null; this.refresh(); }, wait);
  }

  async refresh() {
    if (!this.running) return;
    if (this.refreshing) { this.refreshAgain = true; return; }
    this.refreshing = true;
    this.lastRefresh = Date.now();
    try {
      await this.load();
    } catch (exc) {
      if (exc instanceof ApiError && (exc.status === 401 || exc.status === 403)) handleAuth(exc);
      /* otherwise the socket's own failure handling reconnects, and that refreshes */
    } finally {
      this.refreshing = false;
      if (this.refreshAgain) { this.refreshAgain = false; this.refreshSoon(); }
    }
  }
}

const feed = new Feed();

function handleAuth(exc) {
  forget();
  showError(exc);
}

// -- drawing -------------------------------------------------------------------------------------------
// Rows are replaced only when what they show changed, so a button is not swapped under the pointer.
function sync(tbody, items, key, build) {
  const old = new Map([...tbody.children].map((tr) => [tr.dataset.key, tr]));
  const rows = items.map((item) => {
    const [k, sig] = key(item);
    const tr = old.get(k);
    if (tr && tr.dataset.sig === sig) return tr;
    const fresh = build(item);
    fresh.dataset.key = k;
    fresh.dataset.sig = sig;
    return fresh;
  });
  if (rows.length !== tbody.children.length || rows.some((r, i) => tbody.children[i] !== r)) {
    tbody.replaceChildren(...rows);
  }
}

let grown = 0;        // seconds since the snapshot was taken: waits keep growing between snapshots

function render(snap) {
  grown = Math.max(0, (hallNowMs() - snap.takenMs) / 1000);
  drawTotals(snap);
  const seats = Object.fromEntries((snap.seats || []).map((s) => [s.window, s]));
  drawWindows(snap.windows.map((w) => ({ ...w, seat: seats[w.number] || null })));
  drawQueues(snap.groups);
  drawTickets(snap.tickets);
  drawHealth(snap);
  drawCases(snap.cases);
  refreshFeedback(api);
  refreshStats(api);
}

function drawTotals(snap) {
  $("total-waiting").textContent = snap.waiting;
  $("total-served").textContent = snap.windows.reduce((n, w) => n + (w.served_today || 0), 0);
  $("total-open").textContent = snap.windows.filter((w) => w.state === "open" || w.state === "serving").length;
}

function actionButton(n, action, zh, en, cls) {
  return h("button", { type: "button", class: cls, "data-test-id": `window-${action}-${n}`,
    onclick: () => windowAction(n, action) }, ...bi(zh, en));
}

// The seat camera's word on the clerk (座席监控): on the seat, away (and for how long: red once alerted), unknown.
function seatBadge(n, w) {
  const s = w.seat;
  if (!s || (!w.clerk && w.state === "closed")) return null;
  const away = Math.floor((s.away_s || 0) / 60);
  const [zh, en] = s.presence === "present" ? ["在岗", "at seat"]
    : s.presence === "away" ? [away ? `离岗 ${away} 分` : "离岗", away ? `away ${away} min` : "away"]
      : ["座位情况未知", "seat unknown"];
  return h("span", { class: `seat seat-${s.presence}${s.alert ? " seat-alert" : ""}`, "data-test-id": `window-seat-${n}`,
    "data-presence": s.presence, "data-alert": s.alert ? "yes" : "no" }, ...bi(zh, en));
}

// A 离岗 alert's evidence snapshot (blurred outside the seat), fetched with the supervisor's token.
async function openEvidence(id) {
  const res = await fetch(`/api/v1/evidence/${id}`, { headers: { authorization: `Bearer ${session.token}` }, cache: "no-store" });
  if (!res.ok) {
    const body = await res.json().catch(() => null);
    showError(new ApiError(res.status, (body && body.error) || { code: `http_${res.status}`, message_zh: "无法打开截图",
      message_en: `the snapshot could not be opened (${res.status})` }));
    return;
  }
  window.open(URL.createObjectURL(await res.blob()), "_blank", "noopener");
}

function drawWindows(windows) {
  sync($("windows"), windows, (w) => {
    const cur = w.current;
    const mins = Math.floor(ago(cur ? cur.called_at || w.since : w.since || 0) / 60);
    const seat = w.seat && [w.seat.presence, w.seat.alert, Math.floor(w.seat.away_s / 60)];
    return [String(w.number), JSON.stringify([w.state, w.reason, w.clerk, cur && cur.number, w.served_today, mins, seat])];
  }, (w) => {
    const n = w.number;
    const [zh, en] = STATE_TEXT[w.state] || [w.state, w.state];
    const state = h("td", { "data-test-id": `window-state-${n}` },
      h("span", { class: `state state-${w.state}` }, ...bi(zh, en)),
      w.state === "paused" && w.reason ? h("span", { class: "reason", "data-test-id": `window-reason-${n}` }, w.reason) : null,
      w.since && !w.current ? h("span", { class: "muted" }, ` ${hallHM(w.since)} 起`) : null);
    const cur = w.current;
    const current = h("td", { "data-test-id": `window-current-${n}` }, cur ? h("b", { class: "ticket" }, cur.number) : "—",
      cur && cur.called_at ? h("span", { class: "muted", "data-test-id": `window-since-${n}` },
        ` ${hallHM(cur.called_at)} · ${duration(ago(cur.called_at))}`) : null);
    const buttons = h("div", { class: "actions" });
    if (w.state === "closed") buttons.append(actionButton(n, "open", "开窗", "Open"));
    if (w.state === "open" || w.state === "serving") buttons.append(actionButton(n, "pause", "暂停", "Pause"));
    if (w.state === "paused") buttons.append(actionButton(n, "resume", "恢复", "Resume"));
    if (w.state !== "closed") buttons.append(actionButton(n, "close", "关窗", "Close", "ghost"));
    const actions = h("td", {}, buttons);
    return h("tr", { "data-test-id": `window-row-${n}`, "data-state": w.state, class: `row-${w.state}` },
      h("th", { scope: "row", class: "wnum" }, h("b", {}, String(n)), h("span", { class: "wname" }, w.name)),
      state,
      h("td", { "data-test-id": `window-clerk-${n}` }, w.clerk || h("span", { class: "muted" }, "—"), seatBadge(n, w)),
      current,
      h("td", { class: "num", "data-test-id": `window-served-${n}` }, String(w.served_today ?? 0)),
      actions);
  });
}

function queueRow(kind, code, label, waiting, longestAtSnapshot, extra) {
  const longest = longestAtSnapshot + grown;
  const long = waiting > 0 && longest > LONG_WAIT_S;
  return h("tr", { "data-test-id": `queue-${kind}-${code}`, class: `q-${kind}${waiting ? "" : " idle"}${long ? " long" : ""}`,
    "data-long": long ? "true" : "false" },
  h(kind === "group" ? "th" : "td", kind === "group" ? { scope: "row" } : {}, ...label),
  h("td", { class: "num", "data-test-id": `queue-waiting-${code}` }, String(waiting), extra),
  h("td", { class: "num", "data-test-id": `queue-longest-${code}` }, waiting ? duration(longest) : "—"));
}

function drawQueues(groups) {
  const rows = [];
  const minutes = (g) => Math.floor(g.longest_wait_s / 60);      // steadier than seconds: rows do not swap
  const sorted = groups.map((g, i) => ({ g, i }))
    .sort((a, b) => (b.g.waiting > 0) - (a.g.waiting > 0) || minutes(b.g) - minutes(a.g) || a.i - b.i)
    .map((x) => x.g);
  for (const g of sorted) {
    rows.push({ kind: "group", g });
    for (const m of g.matters) rows.push({ kind: "matter", g, m });
  }
  sync($("queues"), rows, (r) => {
    const x = r.m || r.g;
    return [`${r.kind}:${x.code}`, JSON.stringify([x.waiting, Math.floor((x.longest_wait_s + grown) / 60),
      x.priority_waiting])];
  }, (r) => {
    if (r.kind === "group") {
      return queueRow("group", r.g.code, [h("span", { class: "letters" }, r.g.prefixes.join("")), " ", r.g.name],
        r.g.waiting, r.g.longest_wait_s);
    }
    const m = r.m;
    return queueRow("matter", m.code, [h("span", { class: "code" }, m.code), " ", m.name], m.waiting, m.longest_wait_s,
      m.priority_waiting ? h("span", { class: "muted" }, `（优先 ${m.priority_waiting}）`) : null);
  });
}

function drawTickets(tickets) {
  const tbody = $("tickets");
  const rows = tickets.length ? tickets : [null];
  sync(tbody, rows, (t) => (t ? [String(t.id), JSON.stringify([t.matter, t.target_window, t.transfers,
    Math.floor((t.wait_s + grown) / 60)])] : ["none", "none"]), (t) => {
    if (!t) return h("tr", { class: "empty" }, h("td", { colspan: "4", class: "muted" }, ...bi("没有等候中的号", "nobody is waiting")));
    const waited = t.wait_s + grown;
    const long = waited > LONG_WAIT_S;
    return h("tr", { "data-test-id": `ticket-row-${t.id}`, "data-number": t.number, class: long ? "long" : "" },
      h("th", { scope: "row" }, h("b", { class: "ticket" }, t.number),
        PRIORITY_TEXT[t.priority] ? h("span", { class: "tag", title: t.priority }, PRIORITY_TEXT[t.priority]) : null),
      h("td", { class: "matter", title: t.matter_name },
        t.target_window ? h("span", { class: "tag", "data-test-id": `ticket-target-${t.id}` }, `→${t.target_window}号窗`) : null,
        t.target_window ? " " : null, t.matter_name),
      h("td", { class: "num" }, duration(waited)),
      h("td", {}, h("div", { class: "actions" },
        h("button", { type: "button", "data-test-id": `ticket-move-${t.id}`, onclick: () => openMove(t) }, ...bi("转移", "Move")),
        h("button", { type: "button", class: "ghost", "data-test-id": `ticket-cancel-${t.id}`, onclick: () => openCancel(t) },
          ...bi("作废", "Cancel")))));
  });
}

function drawHealth(snap) {
  const devices = snap.devices.map((d) => {
    const [zh, en] = DEVICE_TEXT[d.state] || [d.state, d.state];
    return h("li", { "data-test-id": `device-${d.name}`, "data-state": d.state, class: `dev dev-${d.state}` },
      h("span", { class: `state dstate-${d.state}` }, ...bi(zh, en)),
      h("b", {}, d.name), h("span", { class: "muted" }, ` ${d.kind}${d.kiosk ? ` · ${d.kiosk}` : ""}${d.window ? ` · ${d.window}号窗` : ""}`),
      d.detail && d.state !== "ok" ? h("div", { class: "detail" }, d.detail) : null);
  });
  const a = snap.announcer;
  const voiceBad = a.voice_state.startsWith("fault");
  const failed = (a.announcements && a.announcements.failed) || 0;
  devices.push(h("li", { "data-test-id": "device-announcer", "data-state": voiceBad ? "fault" : "ok",
    class: `dev dev-${voiceBad ? "fault" : "ok"}` },
  h("span", { class: `state dstate-${voiceBad ? "fault" : "ok"}` }, ...bi("语音", "voice")),
  h("b", {}, "announcer"), h("span", { class: "muted" }, ` ${a.voice_state} · 待播 ${a.queued_to_play}`
    + `${failed ? ` · 未播出 ${failed}` : ""}`)));
  $("devices").replaceChildren(...devices);

  const items = [];
  for (const d of snap.devices.filter((x) => x.state !== "ok")) {
    const [zh, en] = DEVICE_TEXT[d.state] || [d.state, d.state];
    items.push(h("li", { "data-test-id": `alert-device-${d.name}`, "data-kind": "device", class: `alert alert-${d.state}` },
      h("span", { class: "when" }, d.since ? hallHM(d.since) : ""),
      h("span", { class: "what" }, h("b", {}, `${d.name} ${zh}`), h("span", { class: "en", lang: "en" }, ` ${en}`),
        h("div", {}, d.detail || ""))));
  }
  if (voiceBad) {
    items.push(h("li", { "data-test-id": "alert-announcer", "data-kind": "device", class: "alert alert-fault" },
      h("span", { class: "when" }, ""),
      h("span", { class: "what" }, h("b", {}, "语音播报故障"), h("span", { class: "en", lang: "en" }, " voice fault"),
        h("div", {}, a.voice_state))));
  }
  for (const al of snap.alerts) {
    const [zh, en] = ALERT_TEXT[al.kind] || [al.kind, ""];
    const who = al.window ? `${al.window}号窗口` : al.device || (al.case ? "办件" : "");
    items.push(h("li", { "data-test-id": `alert-${al.seq}`, "data-kind": al.kind,
      class: `alert alert-event${al.cleared ? " cleared" : ""}`, "data-cleared": al.cleared ? "yes" : "no" },
      h("span", { class: "when" }, hallHM(al.at)),
      h("span", { class: "what" }, h("b", {}, `${who} ${zh}`), en ? h("span", { class: "en", lang: "en" }, ` ${en}`) : null,
        al.cleared ? h("span", { class: "muted" }, " · 已恢复 resolved") : null,
        h("div", {}, al.detail || ""),
        al.evidence ? h("button", { type: "button", class: "ghost", "data-test-id": `alert-evidence-${al.seq}`,
          onclick: () => openEvidence(al.evidence) }, ...bi("查看截图", "snapshot")) : null)));
  }
  if (!items.length) items.push(h("li", { class: "alert none muted" }, ...bi("今日无告警", "no alerts today")));
  $("alerts").replaceChildren(...items);
}

// -- actions -------------------------------------------------------------------------------------------
async function act(method, path, body) {
  clearError();
  try {
    await api(method, path, body);
    feed.refreshSoon();
    return true;
  } catch (exc) {
    if (exc instanceof ApiError && exc.status === 401) handleAuth(exc);
    else showError(exc);
    return false;
  }
}

let windowDialog = null;       // {n, action} while the dialog is open

function windowAction(n, action) {
  if (action === "open" || action === "resume") { act("POST", `/api/v1/windows/${n}/${action}`); return; }
  windowDialog = { n, action };
  const [zh, en] = action === "pause" ? ["暂停", "Pause"] : ["关闭", "Close"];
  $("window-dialog-title").replaceChildren(`${zh} ${n} 号窗口 `, h("span", { class: "en", lang: "en" }, `${en} window ${n}`));
  $("window-dialog-confirm").replaceChildren(...bi(zh, en));
  const reason = $("window-dialog-reason");
  reason.value = "";
  reason.required = action === "pause";
  $("window-dialog").showModal();
}

function fillMoveChoices(hall) {
  $("move-window").replaceChildren(h("option", { value: "" }, "—"),
    ...hall.windows.map((w) => h("option", { value: String(w.number) }, `${w.number} · ${w.name}`)));
  $("move-matter").replaceChildren(h("option", { value: "" }, "—"),
    ...hall.matters.map((m) => h("option", { value: m.code }, `${m.code} ${m.name}`)));
}

let moving = null;
let cancelling = null;

function openMove(t) {
  moving = t;
  $("move-number").textContent = t.number;
  $("move-window").value = "";
  $("move-matter").value = "";
  $("move-reason").value = "";
  $("move-dialog").showModal();
}

function openCancel(t) {
  cancelling = t;
  $("cancel-number").textContent = t.number;
  $("cancel-reason").value = "";
  $("cancel-dialog").showModal();
}

function wireDialogs() {
  $("window-dialog-form").addEventListener("submit", (ev) => {
    const d = windowDialog;
    windowDialog = null;
    if (!d) return;
    ev.preventDefault();
    $("window-dialog").close();
    act("POST", `/api/v1/windows/${d.n}/${d.action}`, { reason: $("window-dialog-reason").value.trim() });
  });
  $("window-dialog-cancel").addEventListener("click", () => { windowDialog = null; $("window-dialog").close(); });
  $("move-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const t = moving;
    moving = null;
    $("move-dialog").close();
    if (!t) return;
    const body = { reason: $("move-reason").value.trim() };
    if ($("move-window").value) body.to_window = Number($("move-window").value);
    if ($("move-matter").value) body.to_matter = $("move-matter").value;
    act("POST", `/api/v1/tickets/${t.id}/transfer`, body);
  });
  $("move-cancel").addEventListener("click", () => { moving = null; $("move-dialog").close(); });
  $("cancel-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const t = cancelling;
    cancelling = null;
    $("cancel-dialog").close();
    if (!t) return;
    act("POST", `/api/v1/tickets/${t.id}/cancel`, { reason: $("cancel-reason").value.trim() });
  });
  $("cancel-back").addEventListener("click", () => { cancelling = null; $("cancel-dialog").close(); });
}

// -- start ---------------------------------------------------------------------------------------------
async function main() {
  $("login-form").addEventListener("submit", logIn);
  $("logout").addEventListener("click", logOut);
  $("error-close").addEventListener("click", clearError);
  wireDialogs();
  tickClock();
  setInterval(() => { if (feed.snap && feed.running) render(feed.snap); }, 15000);    // the minutes move on
  if (!session.token) { showLogin(); return; }
  try {
    const me = await api("GET", "/api/v1/auth/me");
    if (!ROLES.has(me.role)) throw new ApiError(403, { code: "role_forbidden", message_zh: "需要值班长或管理员账号",
      message_en: "the dashboard needs a supervisor or admin account" });
    await begin(me);
  } catch (exc) {
    forget();
    if (!(exc instanceof ApiError && exc.status === 401)) showError(exc);
  }
}

main();
