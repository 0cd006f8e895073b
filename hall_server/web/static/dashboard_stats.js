// The dashboard's headline figures of today (issue 18): tickets issued and served, waiting now, the median wait,
// 好评率, cases accepted, cases overdue and complaints, from GET /api/v1/stats/today (hall_server/api/stats.py)
// with the dashboard's own token, and a link to the full reports. A strip of its own above the board, shown and
// hidden with it.
//
// No socket of its own: dashboard.js calls refreshStats(api) each time it draws a snapshot, which it reads again
// after the events it follows (see refreshStats for when this reads), and a minute without any still reads once,
// so the median wait stays fresh.

const SETTLE_MS = 1500;
const AGAIN_MS = 5000;
const STALE_MS = 60000;
const FIGURES = [
  ["issued", "今日取号", "issued"], ["served", "已办结", "served"], ["waiting", "等候中", "waiting"],
  ["wait_p50_s", "等候中位数", "median wait"], ["good_rate", "好评率", "good rate"],
  ["cases_accepted", "受理办件", "cases accepted"], ["cases_overdue", "超期办件", "cases overdue"],
  ["complaints", "办不成事反映", "complaints"],
];
const T = { api: null, timer: null, again: null, last: 0, seq: 0, strip: null, interval: null };

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) e.setAttribute(k, v);
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== "") e.append(c);
  return e;
}
const en = (text) => el("span", { class: "en", lang: "en" }, text);

function value(key, v) {             // null (nothing to count yet) is "—", never a made-up 0
  if (v === null || v === undefined) return "—";
  if (key === "wait_p50_s") return v < 60 ? `${Math.round(v)} 秒` : `${Math.round(v / 60)} 分`;
  if (key === "good_rate") return `${Math.round(v * 1000) / 10}%`;
  return String(v);
}

function strip() {
  if (T.strip) return T.strip;
  const board = document.querySelector('[data-test-id="board"]');
  if (!board) return null;
  T.strip = el("section", { class: "stats-strip", "data-test-id": "st-panel", "aria-label": "今日概况 Today at a glance" },
    el("h2", {}, "今日 ", en("Today")),
    el("ul", { class: "st-figures" }, ...FIGURES.map(([k, zh, e]) => el("li", { class: `st st-${k}` },
      el("span", {}, zh, " ", en(e)), el("b", { "data-test-id": `st-${k}` }, "—")))),
    el("a", { href: "/reports", class: "st-link", "data-test-id": "st-reports" }, "统计报表 ", en("Reports")));
  T.strip.hidden = board.hidden;
  board.before(T.strip);
  new MutationObserver(() => {
    T.strip.hidden = board.hidden;
    if (board.hidden) { clearTimeout(T.timer); clearTimeout(T.again); T.timer = T.again = null; T.seq++; }
  }).observe(board, { attributes: true, attributeFilter: ["hidden"] });
  return T.strip;
}

async function load() {
  T.timer = null;
  T.last = Date.now();
  const seq = ++T.seq;
  const box = strip();
  try {
    const data = await T.api("GET", "/api/v1/stats/today");
    if (seq !== T.seq || !box) return;
    for (const [k] of FIGURES) {
      const b = box.querySelector(`[data-test-id="st-${k}"]`);
      b.textContent = value(k, data[k]);
      b.title = k === "wait_p50_s" && typeof data[k] === "number" ? `${Math.round(data[k])} 秒 / s` : "";
    }
    box.querySelector(".st-cases_overdue").classList.toggle("alerting", (data.cases_overdue || 0) > 0);
    box.dataset.state = "ok";
  } catch {
    if (seq === T.seq && box) box.dataset.state = "stale";      // kept as drawn; the next snapshot tries again
  }
}

// Called by dashboard.js after each snapshot it draws (the snapshot follows the event stream). The figures come
// from the statistics' projector, which gathers events for half a second before it applies them: the read is
// SETTLE_MS after the first snapshot of a burst (later ones in the burst do not push it back, so a busy hall is
// still read), and once more AGAIN_MS after it for a projector slowed by a loaded machine.
export function refreshStats(api) {
  T.api = api;
  strip();
  if (!T.interval) {
    T.interval = setInterval(() => {
      if (T.api && !T.timer && T.strip && !T.strip.hidden && Date.now() - T.last >= STALE_MS) load();
    }, STALE_MS);
  }
  if (!T.last) { load(); return; }                  // the board's first snapshot: at once
  if (!T.timer) T.timer = setTimeout(load, SETTLE_MS);
  if (!T.again) T.again = setTimeout(() => { T.again = null; load(); }, AGAIN_MS);
}
