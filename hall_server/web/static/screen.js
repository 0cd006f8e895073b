// The calling screens: /screen (the hall) and /screen/window/N (one window). No framework, no build.
//
// A screen loads the snapshot GET /api/v1/screen, draws it, then follows WS /api/v1/events?since=<seq>
// (EventSocket, from event_socket.js, loaded before this script) and applies each event as it comes. It
// remembers the last seq applied and, when the socket closes, errors or stays silent for 25 s (the server
// sends a heartbeat every 10 s), reconnects with back-off (0.5 s doubling to 5 s) from that seq, so no
// event is missed across a server restart. Waiting counts come from re-reading the snapshot (at most every
// 500 ms) after events that may change them; a new service day or a stream reset reloads the snapshot.
// The page itself is never reloaded.

const REFRESH_GAP_MS = 500;
const LIVE_MS = 30000;          // a call older than this (replayed after an outage) is shown, not announced
const KEEP_EVENTS = 500;        // events re-applied over a snapshot that may be older than them
const WAV_TIMEOUT_MS = 15000;
const QUIET_TYPES = new Set(["heartbeat", "device.health"]);
const HANDLED_TYPES = new Set(["ticket.called", "ticket.recalled", "ticket.finished", "ticket.no_show",
  "ticket.transferred", "ticket.serving", "window.opened", "window.paused", "window.resumed", "window.closed"]);
const WEEKDAYS_ZH = "日一二三四五六";
const WEEKDAYS_EN = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS_EN = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const STATE_TEXT = {       // a window tile without a current ticket
  open: ["—", ""],
  paused: ["暂停", "Paused"],
  closed: ["关闭", "Closed"],
};
const WINDOW_TEXT = {
  open: ["欢迎", "Welcome"],
  paused: ["暂停服务", "Service paused"],
  closed: ["停止服务", "Closed"],
};

const $ = (id) => document.querySelector(`[data-test-id="${id}"]`);

function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined && c !== "") e.append(c);
  return e;
}

// -- the hall's time: the server's clock and UTC offset, ticking locally ------------------------------
const clock = { skewMs: 0, offsetMin: 0, known: false, timer: null };

function setHallTime(iso) {
  clock.skewMs = Date.parse(iso) - Date.now();
  const m = /([+-])(\d\d):(\d\d)$/.exec(iso);
  clock.offsetMin = m ? (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
  clock.known = true;
  tick();
}

const hallNowMs = () => Date.now() + clock.skewMs;
const pad = (n) => String(n).padStart(2, "0");

function tick() {       // shown once the first snapshot gave the hall's time, then every second
  clearTimeout(clock.timer);
  clock.timer = setTimeout(tick, 1000 - (hallNowMs() % 1000) + 5);
  if (!clock.known) return;
  const t = new Date(hallNowMs() + clock.offsetMin * 60000);    // read with getUTC*: the hall's wall time
  const c = $("clock");
  const d = $("date");
  if (c) c.textContent = `${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}:${pad(t.getUTCSeconds())}`;
  if (d) {
    const wd = t.getUTCDay();
    d.textContent = `${t.getUTCFullYear()}年${t.getUTCMonth() + 1}月${t.getUTCDate()}日 星期${WEEKDAYS_ZH[wd]} · `
      + `${WEEKDAYS_EN[wd]} ${t.getUTCDate()} ${MONTHS_EN[t.getUTCMonth()]}`;
  }
}

// -- state: the snapshot, with events applied ---------------------------------------------------------
function stateFrom(snap, keep) {
  return {
    calls: snap.calls.slice(0, keep),
    keep,
    windows: new Map(snap.windows.map((w) => [w.number, { ...w }])),
    groups: snap.groups,
    notice: snap.notice,
  };
}

function applyEvent(st, e) {
  const d = e.data || {};
  if (e.type === "ticket.called" || e.type === "ticket.recalled") {
    if (!st.calls.some((c) => c.seq === e.seq)) {
      st.calls.push({ seq: e.seq, at: e.at, number: d.number, window: d.window, window_name: d.window_name || "",
        matter_name: d.matter_name || "", recall: e.type === "ticket.recalled" });
      st.calls.sort((a, b) => b.seq - a.seq);
      st.calls.length = Math.min(st.calls.length, st.keep);
    }
    const w = st.windows.get(d.window);
    if (w) { w.current = d.number; w.state = "serving"; }
  } else if (e.type === "ticket.finished" || e.type === "ticket.no_show" || e.type === "ticket.transferred") {
    const w = st.windows.get(d.window ?? d.from_window);
    if (w && w.current === d.number) {
      w.current = null;
      if (w.state === "serving") w.state = "open";
    }
  } else if (e.type.startsWith("window.") && d.state) {
    const w = st.windows.get(d.window);
    if (w) {
      if (d.state === "closed") w.current = null;
      w.state = d.state === "open" && w.current ? "serving" : d.state;
    }
  }
}

const touches = (e, n) => e.data && (e.data.window === n || e.data.from_window === n || e.data.to_window === n);

// -- the feed: snapshot, then the event stream, resumed from the last seq -----------------------------
class Feed {
  constructor({ onState, onEvent, needsRefresh }) {
    this.onState = onState;             // (state, {initial}) after a snapshot (and after each event)
    this.onEvent = onEvent;             // (event, live) after it is applied
    this.needsRefresh = needsRefresh;   // event -> true when the snapshot should be read again
    this.keep = Number(document.body.dataset.recentCalls || 6);
    this.applied = [];                  // the last events applied, for re-applying over a refreshed snapshot
    this.socket = new EventSocket({
      onEvent: (e) => this.receive(e),
      onResync: () => this.resync(),
      onState: showConnection,
      onReconnected: () => this.refreshSoon(),      // counts and the clock, after an outage
    });
    this.refreshTimer = null;
    this.refreshing = false;
    this.refreshAgain = false;
    this.lastRefresh = 0;
    this.audio = false;                 // the snapshot's: the screen plays the announcements
  }

  async start() {
    showConnection("connecting");
    for (;;) {
      try {
        const snap = await this.fetchSnapshot();
        this.socket.lastSeq = snap.latest_seq;
        this.applied = [];
        this.state = stateFrom(snap, this.keep);
        this.onState(this.state, { initial: true });
        this.socket.open();
        return;
      } catch (err) {
        await this.socket.backOff();
      }
    }
  }

  async fetchSnapshot() {
    const r = await fetch("/api/v1/screen", { cache: "no-store" });
    if (!r.ok) throw new Error(`GET /api/v1/screen: ${r.status}`);
    const snap = await r.json();
    setHallTime(snap.now);
    this.audio = snap.audio;
    return snap;
  }

  receive(e) {           // an event after the last seq seen
    applyEvent(this.state, e);
    this.applied.push(e);
    if (this.applied.length > KEEP_EVENTS) this.applied.splice(0, this.applied.length - KEEP_EVENTS);
    this.onEvent(e, hallNowMs() - Date.parse(e.at) < LIVE_MS);
    this.onState(this.state, { initial: false });
    if (!QUIET_TYPES.has(e.type) && this.needsRefresh(e)) this.refreshSoon();
  }

  async resync() {        // a new service day, or a stream that started over: everything from the snapshot
    this.socket.close();
    await this.start();
  }

  refreshSoon() {
    if (this.refreshTimer) return;
    const wait = Math.max(0, this.lastRefresh + REFRESH_GAP_MS - Date.now());
    this.refreshTimer = setTimeout(() => { this.refreshTimer = null; this.refresh(); }, wait);
  }

  async refresh() {
    if (this.refreshing) { this.refreshAgain = true; return; }
    this.refreshing = true;
    this.lastRefresh = Date.now();
    try {
      const snap = await this.fetchSnapshot();
      if (!this.socket.active) return;          // disconnected or resyncing meanwhile: that path redraws
      const st = stateFrom(snap, this.keep);
      // the snapshot shows everything up to its latest_seq; events after it that we applied may be missing
      for (const e of this.applied) if (e.seq > snap.latest_seq) applyEvent(st, e);
      this.state = st;
      this.onState(st, { initial: false });
    } catch { /* the socket's own failure handling reconnects; the next event refreshes again */ } finally {
      this.refreshing = false;
      if (this.refreshAgain) { this.refreshAgain = false; this.refreshSoon(); }
    }
  }
}

function showConnection(state) {     // "connecting", "connected", "reconnecting": shown only the last
  const c = $("connection");
  if (!c) return;
  c.dataset.state = state;
  c.hidden = state !== "reconnecting";
}

// -- announcements: the screen plays /api/v1/announcements/<seq>.wav, one at a time, in seq order ------
class Announcer {
  constructor(audio, note) {
    this.audio = audio;
    this.note = note;
    this.queue = [];
    this.busy = false;
    this.blocked = false;
    const unblock = () => {
      if (!this.blocked) return;
      this.blocked = false;
      this.note.hidden = true;
      const now = hallNowMs();
      this.queue = this.queue.filter((item) => now - item.at < LIVE_MS);
      this.pump();
    };
    document.addEventListener("click", unblock);
    document.addEventListener("keydown", unblock);
    this.probe();
  }

  async probe() {             // a silent sound at start shows at once whether the browser allows autoplay
    const wav = new Uint8Array(46);
    const v = new DataView(wav.buffer);
    const text = (at, s) => [...s].forEach((ch, i) => v.setUint8(at + i, ch.charCodeAt(0)));
    text(0, "RIFF"); v.setUint32(4, 38, true); text(8, "WAVEfmt "); v.setUint32(16, 16, true);
    v.setUint16(20, 1, true); v.setUint16(22, 1, true); v.setUint32(24, 8000, true); v.setUint32(28, 16000, true);
    v.setUint16(32, 2, true); v.setUint16(34, 16, true); text(36, "data"); v.setUint32(40, 2, true);
    const url = URL.createObjectURL(new Blob([wav], { type: "audio/wav" }));
    this.audio.src = url;
    try { await this.audio.play(); } catch (err) { if (err.name === "NotAllowedError") this.block(); }
    URL.revokeObjectURL(url);
  }

  block() {
    this.blocked = true;
    this.note.hidden = false;
  }

  add(e) {
    const item = { seq: e.seq, at: Date.parse(e.at), wav: this.fetchWav(e.seq) };
    this.queue.push(item);
    this.queue.sort((a, b) => a.seq - b.seq);
    this.pump();
  }

  async fetchWav(seq) {       // started at once, so rendering overlaps the playing of earlier calls
    try {
      const r = await fetch(`/api/v1/announcements/${seq}.wav`, { signal: AbortSignal.timeout(WAV_TIMEOUT_MS) });
      return r.ok ? await r.blob() : null;      // 404: the hall does not announce this call
    } catch {
      return null;
    }
  }

  async pump() {
    if (this.busy || this.blocked || this.queue.length === 0) return;
    this.busy = true;
    const item = this.queue.shift();
    try {
      const blob = await item.wav;
      if (blob) await this.play(item, blob);
    } catch (err) {
      if (err.name === "NotAllowedError") {     // autoplay refused: keep it, ask for a click
        this.queue.unshift(item);
        this.block();
      }
    } finally {
      this.busy = false;
    }
    this.pump();
  }

  async play(item, blob) {
    const url = URL.createObjectURL(blob);
    const a = this.audio;
    let timer = null;
    try {
      a.src = url;
      const done = new Promise((resolve) => {
        a.onended = a.onerror = resolve;
        timer = setTimeout(resolve, 60000);    // a WAV that never ends must not stop the queue
      });
      await a.play();
      await done;
      a.dataset.played = `${a.dataset.played ? `${a.dataset.played},` : ""}${item.seq}`;   // for tests
    } finally {
      clearTimeout(timer);
      a.onended = a.onerror = null;
      URL.revokeObjectURL(url);
    }
  }
}

function audioWanted(snapAudio, fallback) {
  const q = new URLSearchParams(location.search).get("audio");
  if (q === "1") return true;
  if (q === "0") return false;
  return fallback ?? snapAudio;
}

// -- the hall screen --------------------------------------------------------------------------------
function fill(template, call) {
  return template.replaceAll("{number}", call.number).replaceAll("{window}", String(call.window));
}

function drawHall(st, shown) {
  const body = document.body.dataset;
  const latest = st.calls[0];
  const box = $("latest-call");
  box.classList.toggle("empty", !latest);
  if (latest) {
    $("latest-number").textContent = latest.number;
    $("latest-window").replaceChildren(h("span", { class: "num" }, String(latest.window)), "号窗口");
    $("latest-sentence").textContent = fill(body.template || "请{number}号到{window}号窗口办理", latest);
    $("latest-sentence-en").textContent = fill(body.templateEn || "Number {number}, please go to window {window}", latest);
    $("latest-detail").replaceChildren(`${latest.window_name} · ${latest.matter_name}`,
      latest.recall ? h("span", { class: "badge", "data-test-id": "latest-recall" }, "重呼 Recall") : "");
  } else {                          // a new day: nobody called yet
    $("latest-number").textContent = "";
    $("latest-window").textContent = "";
    $("latest-sentence").textContent = "请留意叫号";
    $("latest-sentence-en").textContent = "Please watch for your number";
    $("latest-detail").textContent = "";
  }
  const seq = latest ? String(latest.seq) : "";
  if (shown.latest !== undefined && seq && seq !== shown.latest) flash(box);
  shown.latest = seq;
  box.dataset.seq = seq;

  // lists are rebuilt only when what they show changed: an event redraws a few nodes, not the page
  const recentKey = JSON.stringify(st.calls);
  if (recentKey !== shown.recentKey) { shown.recentKey = recentKey; drawRecent(st); }
  const windowsKey = JSON.stringify([...st.windows.values()].map((w) => [w.number, w.state, w.current]));
  if (windowsKey !== shown.windowsKey) { shown.windowsKey = windowsKey; drawTiles(st); }
  const groupsKey = JSON.stringify(st.groups.map((g) => g.waiting));
  if (groupsKey !== shown.groupsKey) { shown.groupsKey = groupsKey; drawGroups(st); }
  drawNotice(st);
}

function drawRecent(st) {
  const list = st.calls.map((c) => h("li", { "data-test-id": "recent-call", "data-seq": c.seq, "data-number": c.number,
    "data-window": c.window, "data-recall": c.recall },
  h("span", { class: "num", "data-test-id": "recent-call-number" }, c.number), h("span", { class: "arrow" }, "→"),
  h("span", { "data-test-id": "recent-call-window" }, `${c.window}号窗口`),
  c.recall ? h("span", { class: "badge" }, "重呼") : ""));
  $("recent-calls").replaceChildren(...(list.length ? list
    : [h("li", { class: "empty" }, "今日尚无呼叫 ", h("span", { class: "en" }, "No calls yet today"))]));
}

function drawTiles(st) {
  $("windows").replaceChildren(...[...st.windows.values()].map((w) => {
    const label = STATE_TEXT[w.state];
    const cur = w.current && w.state !== "closed" ? w.current
      : [label ? label[0] : w.state, label && label[1] ? h("span", { class: "en" }, label[1]) : ""];
    return h("div", { class: "tile", "data-test-id": `window-tile-${w.number}`, "data-state": w.state, title: w.name },
      h("span", { class: "wnum" }, String(w.number)), h("span", { class: "wname" }, shortName(w.name)),
      h("span", { class: "cur", "data-test-id": `window-current-${w.number}` }, ...[cur].flat()));
  }));
}

function drawGroups(st) {
  $("groups").replaceChildren(h("h2", { class: "label" }, "等候人数", h("span", { class: "en" }, "Waiting")),
    ...st.groups.map((g) => h("div",
    { class: `group ${g.waiting ? "busy" : "none"}`, "data-test-id": `group-${g.code}` },
    h("span", { class: "letters" }, g.prefixes.join("")),
    h("span", { class: "count" }, h("span", { "data-test-id": `group-count-${g.code}` }, String(g.waiting)),
      h("small", {}, "人")),
    h("span", { class: "gname" }, g.name))));
}

function drawNotice(st) {
  const notice = $("notice");
  notice.hidden = !st.notice;
  const text = notice.querySelector(".notice-text");
  if (text.textContent !== st.notice) {
    text.textContent = st.notice;
    text.style.animationDuration = `${Math.max(20, st.notice.length * 0.45)}s`;
  }
}

// "无差别综合受理 3号" -> "综合受理": the tile shows the window's number already
function shortName(name) {
  return name.replace(/^中介服务\s*/, "").replace(/^无差别/, "").replace(/[“”"]/g, "")
    .replace(/\s*\d+号$/, "").replace(/窗口$/, "").trim() || name;
}

function flash(el) {               // restarted in the next frame: no forced layout of the whole page
  el.classList.remove("flash");
  requestAnimationFrame(() => requestAnimationFrame(() => el.classList.add("flash")));
}

// -- a window's screen -------------------------------------------------------------------------------
function drawWindow(st, n, shown) {
  const w = st.windows.get(n);
  if (!w) return;
  const main = $("window-display");
  const state = w.current && w.state !== "closed" ? "called" : w.state;
  main.dataset.state = state;
  if (state === "called") {
    $("window-text").replaceChildren("请 ", h("span", { class: "num", "data-test-id": "window-ticket" }, w.current));
    $("window-text-en").textContent = `Number ${w.current}, please`;
  } else {
    const [zh, en] = WINDOW_TEXT[w.state] || WINDOW_TEXT.open;
    $("window-text").textContent = zh;
    $("window-text-en").textContent = en;
  }
  const call = st.calls.find((c) => c.window === n);
  const seq = call ? String(call.seq) : "";
  if (shown.latest !== undefined && seq && seq !== shown.latest && state === "called") flash(main);
  shown.latest = seq;
}

// -- start -------------------------------------------------------------------------------------------
function main() {
  const kind = document.body.dataset.screen;
  if (kind !== "hall" && kind !== "window") return;
  const n = Number(document.body.dataset.window);
  const shown = {};
  let announcer = null;
  let audioDecided = false;
  const draw = kind === "hall" ? (st) => drawHall(st, shown) : (st) => drawWindow(st, n, shown);
  const feed = new Feed({
    onState: (st, { initial }) => {
      if (initial && !audioDecided) {        // decided once, from the first snapshot and the URL
        audioDecided = true;
        if (audioWanted(feed.audio, kind === "window" ? false : undefined)) {
          announcer = new Announcer($("audio"), $("audio-note"));
        }
      }
      draw(st);
    },
    onEvent: (e, live) => {
      if (!announcer || !live || (e.type !== "ticket.called" && e.type !== "ticket.recalled")) return;
      if (kind === "hall" || e.data.window === n) announcer.add(e);
    },
    needsRefresh: (e) => (kind === "hall" ? true : touches(e, n) && !HANDLED_TYPES.has(e.type)),
  });
  tick();
  feed.start();
}

main();
