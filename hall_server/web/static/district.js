// The district board (/district): every hall's row from GET /api/v1/district/halls, one hall's windows and queues
// (GET /api/v1/district/halls/{code}) when its name is clicked, the commands to halls, and the service's health.
// Live: the WebSocket /api/v1/district/events says "changed" after every batch the projector applied (and when a
// hall goes on- or offline); the board then reads again, at most every 300 ms. Every 10 s it reads anyway, so the
// lag of a silent hall keeps growing on screen. The statistics are district_stats.js's; it hears "district:changed".
import { ACTIONS, CASE_STATES, LEVELS, WINDOW_STATES, duration, el, getJSON, num, rate, words } from "./district_words.js";

const $ = (id) => document.querySelector(`[data-test-id="${id}"]`);
const state = { halls: [], open: null, timer: null, reading: false, again: false };

function levelBadge(level) {
  const [zh, en] = LEVELS[level] || [level, level];
  return el("span", { class: `level level-${level}`, title: en }, zh);
}

function onlineCell(h) {
  return h.online
    ? el("span", { class: "badge ok", "data-test-id": "hall-online" }, words("在线", "online"))
    : el("span", { class: "badge bad", "data-test-id": "hall-online" }, words("离线", "offline"));
}

function lagText(h) {
  if (h.lag_events === 0 && h.online) return words("已同步", "in step");
  const parts = [];
  if (h.lag_events) parts.push(`${h.lag_events} 条未报送`);
  if (h.lag_s !== null && h.lag_s !== undefined) parts.push(`${duration(h.lag_s)}前联系`);
  return parts.join("，") || "–";
}

function casesCell(cases) {
  const entries = Object.entries(cases || {}).filter(([, n]) => n);
  if (!entries.length) return el("span", { class: "muted" }, "–");
  const box = el("span", { class: "cases" });
  for (const [s, n] of entries) box.append(el("span", { class: `case-chip s-${s}`, title: s }, `${CASE_STATES[s] || s} ${n}`));
  return box;
}

function hallRow(h) {
  const name = el("button", { type: "button", class: "link hall-name", "data-test-id": "hall-open",
                              onclick: () => openHall(h.code) }, h.name);
  const tr = el("tr", { "data-test-id": "hall-row", "data-hall": h.code, "data-online": String(h.online),
                        class: h.online ? "" : "offline" },
    el("th", { scope: "row" }, levelBadge(h.level), " ", name),
    el("td", {}, onlineCell(h)),
    el("td", { "data-test-id": "hall-lag" }, lagText(h)),
    el("td", { class: "num", "data-test-id": "hall-open-windows" }, `${h.open_windows}/${h.windows_total}`),
    el("td", { class: "num", "data-test-id": "hall-waiting" }, num(h.waiting)),
    el("td", { class: "num", "data-test-id": "hall-longest" }, h.waiting ? duration(h.longest_wait_s) : "–"),
    el("td", { class: "num", "data-test-id": "hall-issued" }, num(h.issued_today)),
    el("td", { class: "num", "data-test-id": "hall-served" }, num(h.served_today)),
    el("td", { "data-test-id": "hall-cases" }, casesCell(h.cases)),
    el("td", { class: `num${h.overdue ? " red" : ""}`, "data-test-id": "hall-overdue" }, num(h.overdue)),
    el("td", { class: "num", "data-test-id": "hall-good", title: `本月 ${rate(h.good_rate_month)}（${h.rated_month} 条评价）` },
       h.rated_today ? `${rate(h.good_rate)}（${h.rated_today}）` : "–"),
    el("td", { class: `num${h.commands_rejected ? " red" : ""}`, "data-test-id": "hall-commands" },
       h.commands_pending || h.commands_rejected ? `${h.commands_pending} 待 / ${h.commands_rejected} 退` : "–"));
  return tr;
}

function totals(halls) {
  const sum = (k) => halls.reduce((a, h) => a + (h[k] || 0), 0);
  const rated = sum("rated_today");
  const good = halls.reduce((a, h) => a + (h.rated_today ? Math.round(h.good_rate * h.rated_today) : 0), 0);
  $("t-online").textContent = `${halls.filter((h) => h.online).length}/${halls.length}`;
  $("t-open").textContent = String(sum("open_windows"));
  $("t-waiting").textContent = String(sum("waiting"));
  $("t-served").textContent = String(sum("served_today"));
  $("t-cases").textContent = String(halls.reduce((a, h) => a + Object.values(h.cases || {}).reduce((x, y) => x + y, 0), 0));
  $("t-overdue").textContent = String(sum("overdue"));
  $("t-good").textContent = rated ? rate(good / rated) : "–";
}

function showHalls(data) {
  state.halls = data.halls;
  $("hall-rows").replaceChildren(...data.halls.map(hallRow));
  $("hall-count").textContent = String(data.halls.length);
  $("no-halls").hidden = data.halls.length > 0;
  totals(data.halls);
  const today = data.halls.length ? data.halls[0].today : data.at.slice(0, 10);
  if (document.body.dataset.today !== today) document.body.dataset.today = today;
  $("clock").textContent = new Date(data.at).toLocaleString("zh-CN", { hour12: false });
}

// -- one hall ------------------------------------------------------------------------------------------------
function windowRow(w) {
  const [zh, en] = WINDOW_STATES[w.current_status === "serving" ? "serving" : w.state] || [w.state, w.state];
  return el("tr", { "data-test-id": "window-row", "data-window": String(w.number), "data-state": w.state },
    el("td", { class: "num" }, String(w.number)),
    el("td", {}, w.name || ""),
    el("td", {}, el("span", { class: `badge w-${w.state}` }, words(zh, en)), w.staffed ? "" : el("span", { class: "muted" }, " 无人")),
    el("td", { "data-test-id": "window-current" }, w.current ? `${w.current}${w.current_matter ? ` · ${w.current_matter}` : ""}` : "–"),
    el("td", { class: "num" }, String(w.served_today)),
    el("td", { class: "num" }, duration(w.handle_mean_s)));
}

function queueRow(q) {
  return el("tr", { "data-test-id": "queue-row", "data-matter": q.matter },
    el("td", {}, `${q.name}`, el("span", { class: "muted" }, ` ${q.matter}`)),
    el("td", { class: "num", "data-test-id": "queue-waiting" }, String(q.waiting)),
    el("td", { class: "num" }, String(q.at_windows)),
    el("td", { class: "num" }, q.waiting ? duration(q.longest_wait_s) : "–"),
    el("td", { "data-test-id": "queue-next" }, q.next.join("、") || "–"));
}

async function readHall(code) {
  const h = await getJSON(`/api/v1/district/halls/${encodeURIComponent(code)}`);
  if (state.open !== code) return;
  const panel = $("hall-detail");
  panel.dataset.hall = code;
  $("detail-name").textContent = h.name;
  $("detail-name-en").textContent = h.name_en || "";
  $("detail-state").replaceChildren(h.online ? words("在线", "online") : words("离线", "offline"));
  $("detail-state").className = `badge ${h.online ? "ok" : "bad"}`;
  panel.querySelector('[data-test-id="detail-windows"] tbody').replaceChildren(...h.windows.map(windowRow));
  panel.querySelector('[data-test-id="detail-queues"] tbody').replaceChildren(...h.queues.map(queueRow));
  $("detail-no-queue").hidden = h.queues.length > 0;
  panel.hidden = false;
}

function openHall(code) {
  state.open = code;
  history.replaceState(null, "", `#hall=${encodeURIComponent(code)}`);
  readHall(code).then(() => $("hall-detail").scrollIntoView({ block: "nearest" })).catch(problem);
}

function closeHall() {
  state.open = null;
  $("hall-detail").hidden = true;
  history.replaceState(null, "", location.pathname);
}

// -- commands and health -------------------------------------------------------------------------------------
function commandRow(c) {
  const rejected = c.state === "rejected";
  return el("tr", { "data-test-id": "command-row", "data-state": c.state, class: rejected ? "rejected" : "" },
    el("td", {}, c.hall_name || c.hall),
    el("td", {}, c.case_number),
    el("td", {}, ACTIONS[c.action] || c.action),
    el("td", {}, rejected ? words("被退回", "rejected") : c.state === "pending" ? words("待回传", "pending") : words("已执行", "applied")),
    el("td", {}, duration(c.age_s)),
    el("td", { "data-test-id": "command-reason" }, rejected && c.reason ? words(c.reason.message_zh || "", c.reason.message_en || "") : ""));
}

async function readCommands() {
  const data = await getJSON("/api/v1/district/commands");
  $("command-rows").replaceChildren(...data.commands.map(commandRow));
  $("command-count").textContent = String(data.commands.length);
  $("no-commands").hidden = data.commands.length > 0;
}

function problem(err) {
  $("db-warning").hidden = false;
  $("db-warning-zh").textContent = err.zh || "区级服务暂时无法访问，请稍后重试。";
  $("db-warning-en").textContent = err.en || String(err);
}

async function readHealth() {
  const h = await getJSON("/api/v1/health");
  if (h.ok) { $("db-warning").hidden = true; return; }
  problem({ zh: h.warning_zh || "区级数据库暂时无法访问，数据可能不是最新。", en: h.warning_en || (h.database && h.database.error) || "" });
}

// -- reading, debounced ----------------------------------------------------------------------------------------
async function readAll() {
  if (state.reading) { state.again = true; return; }
  state.reading = true;
  try {
    showHalls(await getJSON("/api/v1/district/halls"));
    if (state.open) await readHall(state.open);
    await readCommands();
    await readHealth();
  } catch (err) {
    problem(err);
  } finally {
    state.reading = false;
    if (state.again) { state.again = false; soon(); }
  }
}

function soon(ms = 300) {
  if (state.timer) return;
  state.timer = setTimeout(() => { state.timer = null; readAll(); }, ms);
}

function live(attempt = 0) {
  const proto = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${proto}://${location.host}/api/v1/district/events`);
  const badge = $("live");
  ws.onopen = () => {
    badge.dataset.state = "connected";
    badge.replaceChildren(words("实时", "live"));
    attempt = 0;
    soon(0);
  };
  ws.onmessage = (m) => {
    const msg = JSON.parse(m.data);
    if (msg.type === "changed") {
      soon();
      document.dispatchEvent(new CustomEvent("district:changed", { detail: msg }));
    }
  };
  ws.onclose = () => {
    badge.dataset.state = "reconnecting";
    badge.replaceChildren(words("重新连接中…", "reconnecting…"));
    setTimeout(() => live(attempt + 1), Math.min(10000, 500 * 2 ** attempt));
  };
}

$("detail-close").addEventListener("click", closeHall);
const m = location.hash.match(/^#hall=(.+)$/);
if (m) openHall(decodeURIComponent(m[1]));
readAll();
live();
setInterval(readAll, 10000);
