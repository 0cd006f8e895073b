// The dashboard's open “办不成事” complaints panel (issue 17, item 5), beside the 好差评 panel: counts open /
// amber (将到期) / red (已超期) and lists the open complaints — number, class, department, the step now due and its
// day — each a link to /complaints#<id>, from GET /api/v1/complaints?status=open (hall_server/api/complaints.py).
//
// A module of its own, loaded by dashboard.html beside dashboard.js and wired to nothing in it: it reads the
// supervisor's token dashboard.js keeps in sessionStorage, starts when the board shows and stops when it hides
// (log-out, an expired token). It follows the event stream itself (EventSocket, from the latest seq at the time it
// starts) and reads the list again after a complaint.* event (a little later, so a burst is one read), after a
// reconnect or resync, and every minute whatever happens (the deadlines turn amber/red with the clock, not with
// an event). Contacts never show here: the list is masked and the panel does not print them anyway.

const TOKEN_KEY = "onewindow.dashboard.token";      // dashboard.js's key
const EVERY_MS = 60000;
const SOON_MS = 300;
const NEXT_ZH = { classify: "待分类", assign: "待转办", answer: "待答复", feedback: "待反馈", check: "待核查", file: "待备案" };
const NEXT_EN = { classify: "to classify", assign: "to assign", answer: "to answer", feedback: "to call back",
  check: "to check", file: "to file" };
const NEXT_OF = { registered: "classify", classified: "assign", assigned: "answer", answered: "feedback",
  fed_back: "check", checked: "file" };
const DEADLINE = { ok: ["正常", "on time"], amber: ["将到期", "due soon"], red: ["已超期", "overdue"] };
const RANK = { red: 0, amber: 1, ok: 2 };
const S = { running: false, socket: null, timer: null, soon: null, seq: 0 };

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) e.setAttribute(k, v);
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== "") e.append(c);
  return e;
}
const en = (text) => el("span", { class: "en", lang: "en" }, text);
const q = (id) => document.querySelector(`[data-test-id="${id}"]`);

async function get(path) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) throw new Error("no token");
  const res = await fetch(path, { headers: { authorization: `Bearer ${token}` }, cache: "no-store" });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return res.json();
}

async function start() {
  if (S.running) return;
  S.running = true;
  S.timer = setInterval(load, EVERY_MS);
  if (typeof EventSocket === "function") {
    S.socket = new EventSocket({
      onEvent: (e) => { if (/^complaint\./.test(e.type || "")) loadSoon(); },
      onResync: (e) => { S.socket.lastSeq = (e.data && e.data.latest_seq) || S.socket.lastSeq; loadSoon(); },
      onReconnected: loadSoon,
    });
    try {
      const page = await get("/api/v1/events?since=9007199254740991&limit=1");   // only the latest seq
      if (S.running) S.socket.open(page.latest_seq);
    } catch { /* the minute's read still runs; the stream is tried again at the next start */ }
  }
  load();
}

function stop() {
  S.running = false;
  clearInterval(S.timer);
  clearTimeout(S.soon);
  if (S.socket) S.socket.close();
  S.socket = null;
  S.seq++;                                           // a read under way is not drawn
}

function loadSoon() {
  clearTimeout(S.soon);
  S.soon = setTimeout(load, SOON_MS);
}

async function load() {
  if (!S.running) return;
  const seq = ++S.seq;
  try {
    const data = await get("/api/v1/complaints?status=open&limit=500");
    if (seq !== S.seq) return;                       // stopped, or a later read is under way
    draw(data.complaints || []);
    q("bc-panel").dataset.state = "ok";
  } catch {
    if (seq === S.seq) q("bc-panel").dataset.state = "stale";     // kept as drawn; the next read tries again
  }
}

function draw(list) {
  const n = { amber: 0, red: 0 };
  for (const c of list) if (c.deadline in n) n[c.deadline]++;
  q("bc-open").textContent = String(list.length);
  q("bc-amber").textContent = String(n.amber);
  q("bc-red").textContent = String(n.red);
  q("bc-counts").classList.toggle("alerting", n.red > 0);
  const sorted = [...list].sort((a, b) => (RANK[a.deadline] ?? 3) - (RANK[b.deadline] ?? 3)
    || String(a.due || "").localeCompare(String(b.due || "")) || a.id - b.id);
  const rows = sorted.map((c) => {
    const next = NEXT_OF[c.status];
    const dept = c.assigned_department || c.department || "—";
    const dl = DEADLINE[c.deadline] || [c.deadline || "", ""];
    return el("tr", { "data-test-id": `bc-row-${c.id}`, class: `bc bc-${c.deadline}`, "data-status": c.status,
      "data-deadline": c.deadline },
      el("th", { scope: "row" }, el("a", { href: `/complaints#${c.id}`, "data-test-id": `bc-link-${c.id}` }, c.number)),
      el("td", { "data-test-id": `bc-class-${c.id}` }, c.class_name || "未分类"),
      el("td", { "data-test-id": `bc-dept-${c.id}`, title: dept }, dept),
      el("td", { "data-test-id": `bc-step-${c.id}`, title: next ? NEXT_EN[next] : "" },
        next ? NEXT_ZH[next] : (c.status_name || c.status)),
      el("td", { class: "num", "data-test-id": `bc-due-${c.id}`, title: `${c.due || ""} ${dl[1]}` },
        c.due ? c.due.slice(5) : "—", " ",
        el("span", { class: `fdl fdl-${c.deadline}`, "data-test-id": `bc-deadline-${c.id}` }, dl[0])));
  });
  if (!rows.length) rows.push(el("tr", { class: "empty" },
    el("td", { colspan: "5", class: "muted" }, "没有未办结的“办不成事”反映 ", en("no open complaints"))));
  q("bc-rows").replaceChildren(...rows);
}

function follow() {
  const board = q("board");
  if (!board || !q("bc-panel")) return;
  const check = () => (board.hidden || !sessionStorage.getItem(TOKEN_KEY) ? stop() : start());
  new MutationObserver(check).observe(board, { attributes: true, attributeFilter: ["hidden"] });
  check();
}

follow();
