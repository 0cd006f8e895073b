// The self-service ticket kiosk (取号机): a touch page served by the local kiosk program. No framework, no build.
//
// One page, several screens (sections shown one at a time). Data comes from the kiosk program's same-origin API:
// GET /api/state (re-read every 30 s, and pushed as `state` events), POST /api/tickets, GET /api/tickets/lookup,
// and the Server-Sent Events of /api/events (`swipe`, `card_error`, `state`). Chinese leads, English below; the
// language toggle swaps them. Elder mode (长者版) scales the page, shows fewer items per page and speaks short
// prompts through /api/speech.wav. An idle timer brings the kiosk back to its first screen for the next citizen.
// The case query (办件查询, POST /api/cases/lookup) lives in kiosk-cases.js.
// Locker pickup (自助取件) and the 受理通知书 printed again (补打受理通知书) live in kiosk-lockers.js.
import { caseQuery } from "./kiosk-cases.js";
import { complaintScreen } from "./kiosk-complaint.js";
import { LOCKER_SCREENS, lockerScreens } from "./kiosk-lockers.js";
import { KIND, KIND_SHORT, MESSAGES, PRIORITY, PROMPT, STATUS, clockIn, nextOpeningWords, spokenNumber, weekWords }
  from "./kiosk-words.js";

(() => {
  "use strict";

  const REQUEST_TIMEOUT_MS = 15000;
  const STATE_POLL_MS = 30000;
  const EVENTS_GRACE_MS = 10000;
  const IDLE_WARNING_S = 10;
  const SCREENS = ["home", "group", "search", "matter", "ticket", "lookup", "cases", ...LOCKER_SCREENS, "complaint", "closed"];
  const PER_PAGE = { home: [20, 6], group: [8, 4], search: [5, 3] };      // [normal, elder]
  const S = { state: null, screen: "home", elder: false, lead: "zh", group: null, matter: null, from: "home", swipe: null,
    swipeTimer: 0, pages: { home: 0, group: 0, search: 0 }, busy: false, lastActive: Date.now(), idleDeadline: 0,
    ticketDeadline: 0, eventsDownSince: null, stateFailed: false, audio: null, lookupDone: false, scan: "", scanAt: 0 };
  let cases = null;          // the case query (kiosk-cases.js), made in wire()
  let lockers = null;        // locker pickup and the notice reprint (kiosk-lockers.js), made in wire()
  let complaint = null;      // 办不成事反映 (kiosk-complaint.js), made in wire()

  // -- little helpers ---------------------------------------------------------------------------------------
  const $ = (id) => document.querySelector(`[data-test-id="${id}"]`);
  const pad = (x) => String(x).padStart(2, "0");
  const hallNow = () => clockIn((S.state && S.state.hall && S.state.hall.timezone) || "Asia/Shanghai");
  const fill = (s, vars) => s.replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ""));

  function h(tag, attrs = {}, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") e.className = v;
      else if (k === "on") e.addEventListener("click", v);
      else e.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat()) if (c !== null && c !== undefined && c !== "") e.append(c);
    return e;
  }
  // A bilingual label: Chinese then English; CSS stacks them and the language toggle swaps the order.
  const bi = (zh, en) => (en ? [h("span", { class: "zh" }, zh), " ", h("span", { class: "en", lang: "en" }, en)]
    : [h("span", { class: "zh" }, zh)]);
  const pair = (tag, attrs, [zh, en]) => h(tag, attrs, bi(zh, en));
  const minutes = (s) => Math.max(0, Math.ceil((Number(s) || 0) / 60));
  const matterOf = (code) => (S.state?.matters || []).find((m) => m.code === code);
  const groupOf = (code) => (S.state?.groups || []).find((g) => g.code === code);

  function live(text) {
    const el = $("live");
    el.textContent = "";
    setTimeout(() => { el.textContent = text; }, 50);
  }

  // -- the API: JSON, a 15 s time-out, errors as {code, message_zh, message_en} ---------------------------
  const failure = (code) => ({ code, message_zh: MESSAGES[code][0], message_en: MESSAGES[code][1] });

  async function api(method, path, body) {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), REQUEST_TIMEOUT_MS);
    try {
      const res = await fetch(path, { method, cache: "no-store", signal: ctl.signal,
        headers: body ? { "Content-Type": "application/json" } : {}, body: body ? JSON.stringify(body) : undefined });
      const data = await res.json().catch(() => null);
      if (res.ok) return data;
      const err = data?.error || {};
      if (err.code === "server_unreachable" || (!err.code && res.status >= 502)) throw failure("server_unreachable");
      if (!err.message_zh) throw MESSAGES[err.code] ? failure(err.code) : { ...failure("unknown"), code: err.code || `http_${res.status}` };
      throw err;
    } catch (e) {
      if (e && e.message_zh) throw e;
      throw failure(ctl.signal.aborted ? "timeout" : "server_unreachable");
    } finally {
      clearTimeout(timer);
    }
  }

  function showError(err) {
    const box = $("error");
    box.querySelector(".error-zh").textContent = err.message_zh || MESSAGES.unknown[0];
    box.querySelector(".error-en").textContent = err.message_en || MESSAGES.unknown[1];
    box.dataset.code = err.code || "";
    box.hidden = false;
  }
  const hideError = () => { $("error").hidden = true; };

  // -- speech (elder mode only) -------------------------------------------------------------------------------
  function speak(text) {
    if (!text || !S.elder || !S.state?.speech) return;
    document.body.dataset.spoken = text;
    try {
      if (S.audio) S.audio.pause();
      S.audio = new Audio("/api/speech.wav?text=" + encodeURIComponent(text));
      const played = S.audio.play();
      if (played && played.catch) played.catch(() => {});
    } catch (_) { /* no audio: the words are on the screen anyway */ }
  }

  // -- screens ------------------------------------------------------------------------------------------------
  function show(name, { quiet = false } = {}) {
    for (const s of SCREENS) $(`screen-${s}`).hidden = s !== name;
    const changed = S.screen !== name;
    S.screen = name;
    document.body.dataset.screen = name;
    $("back").hidden = ["home", "closed", "ticket"].includes(name);
    if (changed) hideError();
    if (name !== "ticket") S.ticketDeadline = 0;
    render();
    if (!quiet && PROMPT[name]) speak(name === "group" && S.group ? `${groupOf(S.group)?.name || ""}，${PROMPT.group}` : PROMPT[name]);
  }
  const hallOpen = () => S.state?.hall?.tickets_open !== false;
  const goHome = (opts) => show(hallOpen() ? "home" : "closed", opts);

  function render() {
    if (!S.state) return;
    const f = { home: renderHome, group: renderGroup, search: renderResults, matter: renderMatter, closed: renderClosed,
      cases: () => cases && cases.render() }[S.screen];
    if (f) f();
  }

  function pageOf(kind, items) {
    let per = PER_PAGE[kind][S.elder ? 1 : 0] + (kind === "home" && !S.elder && portrait() ? 1 : 0);
    if (kind === "home" && S.elder && S.swipe && !portrait()) per = 3;      // the swipe banner takes a row
    const pages = Math.max(1, Math.ceil(items.length / per));
    S.pages[kind] = Math.min(Math.max(0, S.pages[kind]), pages - 1);
    const p = S.pages[kind];
    return { items: items.slice(p * per, (p + 1) * per), page: p, pages };
  }
  const portrait = () => window.innerHeight > window.innerWidth;

  function renderPager(kind, prevId, nextId, { page, pages }) {
    const box = document.querySelector(`[data-pager="${kind}"]`);
    box.hidden = pages <= 1;
    $(prevId).disabled = page === 0;
    $(nextId).disabled = page >= pages - 1;
    box.querySelector(".page-no").textContent = `${page + 1} / ${pages}`;
  }

  // -- home: the groups as tiles ------------------------------------------------------------------------------
  function renderHome() {
    const slice = pageOf("home", S.state.groups || []);
    $("groups").replaceChildren(...slice.items.map((g) => h("button", { type: "button", class: "tile", "data-test-id": `group-${g.code}`,
      on: () => openGroup(g.code) },
    h("span", { class: "name" }, bi(g.name, g.name_en)),
    h("span", { class: "waiting" }, bi(`等候 ${g.waiting} 人`, `${g.waiting} waiting`)))));
    renderPager("home", "page-prev", "page-next", slice);
  }

  function openGroup(code) {
    S.group = code;
    S.pages.group = 0;
    show("group");
  }

  // -- lists of matters ---------------------------------------------------------------------------------------
  function kindWords(m, short = false) {
    if (short) {
      const days = m.kind !== "即办" && m.promised_days > 0;
      const [zh, en] = KIND_SHORT[m.kind] || [m.kind, ""];
      return [zh + (days ? ` · ${m.promised_days}个工作日` : ""), en + (days ? ` · ${m.promised_days} working days` : "")];
    }
    const [zh, en] = KIND[m.kind] || [m.kind, ""];
    const days = !zh.includes("{n}") && m.promised_days > 0;
    return [fill(zh, { n: m.promised_days }) + (days ? `，${m.promised_days}个工作日内办结` : ""),
      fill(en, { n: m.promised_days }) + (days ? `, within ${m.promised_days} working days` : "")];
  }

  function matterRow(m) {
    return h("li", {}, h("button", { type: "button", class: "row", "data-test-id": `matter-${m.code}`, on: () => openMatter(m.code) },
      h("span", { class: "name" }, bi(m.name, m.name_en)),
      h("span", { class: "meta" }, pair("span", { class: "kind", "data-kind": m.kind }, kindWords(m, true)),
        h("span", { class: "waiting" }, bi(`等候 ${m.waiting ?? 0} 人`, `${m.waiting ?? 0} waiting`))),
      h("span", { class: "go", "aria-hidden": "true" }, "›")));
  }

  function renderGroup() {
    const g = groupOf(S.group);
    if (!g) return goHome();
    $("group-title").replaceChildren(...bi(g.name, g.name_en));
    const slice = pageOf("group", S.state.matters.filter((m) => m.group === g.code));
    $("group-matters").replaceChildren(...slice.items.map(matterRow));
    renderPager("group", "list-prev", "list-next", slice);
  }

  // -- search: name, English name, code, full pinyin, pinyin initials ------------------------------------------
  function score(m, raw) {
    const q = raw.trim().toLowerCase();
    const flat = q.replace(/\s+/g, "");
    if (!flat) return 0;
    if ((m.initials || "").startsWith(flat)) return 5;
    if (m.name.includes(raw.trim())) return 4;
    if ((m.pinyin || "").includes(flat) || (m.initials || "").includes(flat)) return 3;
    if ((m.name_en || "").toLowerCase().includes(q)) return 2;
    if (m.code.toLowerCase().includes(flat)) return 1;
    return 0;
  }

  function renderResults() {
    const raw = $("search-input").value;
    const found = (S.state.matters || []).map((m) => [score(m, raw), m]).filter(([s]) => s > 0)
      .sort((a, b) => b[0] - a[0]).map(([, m]) => m);
    const slice = pageOf("search", found);
    $("search-results").replaceChildren(...slice.items.map(matterRow));
    $("search-empty").hidden = !raw.trim() || found.length > 0;
    renderPager("search", "results-prev", "results-next", slice);
  }

  function buildKeyboard() {
    const keys = [..."ABCDEFGHIJKLMNOPQRSTUVWXYZ"].map((k) => h("button", { type: "button", class: "btn key", "data-test-id": `key-${k}`,
      on: () => typeInto("search-input", k) }, k));
    keys.push(h("button", { type: "button", class: "btn key fn", "data-test-id": "key-back", on: () => typeInto("search-input", "back") },
      bi("退格", "Delete")));
    keys.push(h("button", { type: "button", class: "btn key fn", "data-test-id": "key-clear", on: () => typeInto("search-input", "clear") },
      bi("清空", "Clear")));
    $("keyboard").replaceChildren(...keys);
  }

  function typeInto(id, key) {
    const input = $(id);
    if (id === "lookup-input" && S.lookupDone) { input.value = ""; S.lookupDone = false; }
    if (key === "back") input.value = input.value.slice(0, -1);
    else if (key === "clear") input.value = "";
    else input.value += key;
    input.dispatchEvent(new Event("input", { bubbles: true }));
  }

  // -- a matter: what to bring, take a ticket -------------------------------------------------------------------
  function openMatter(code) {
    S.from = S.screen === "matter" ? S.from : S.screen;
    S.matter = code;
    show("matter");
  }

  function renderMatter() {
    const m = matterOf(S.matter);
    if (!m) return goHome();
    $("matter-title").replaceChildren(...bi(m.name, m.name_en));
    const facts = [pair("span", { class: "kind", "data-kind": m.kind }, kindWords(m))];
    if (m.department) facts.push(h("span", {}, bi(`办理部门：${m.department}`, "")));
    $("matter-facts").replaceChildren(...facts);
    const g = groupOf(m.group);
    const n = g ? g.waiting : (m.waiting ?? 0);
    const mins = Math.ceil(n * (Number(m.minutes) || 0));
    $("matter-wait").replaceChildren(...(n > 0 ? bi(`现在约有 ${n} 人等候，预计约 ${mins} 分钟`, `About ${n} people waiting, roughly ${mins} minutes`)
      : bi("现在无人等候", "Nobody is waiting now")));
    const items = (m.materials || []).length ? m.materials.map((x) => h("li", {}, x))
      : [h("li", {}, bi("无需特别材料，请带上身份证", "No special documents: bring your ID card"))];
    $("materials").replaceChildren(...items);
    const note = $("matter-swipe");
    note.hidden = !S.swipe;
    const pri = S.swipe && PRIORITY[S.swipe.priority];
    note.hidden = !pri;
    if (pri) note.replaceChildren(...bi(`本次取号：${pri[0]}`, `This ticket: ${pri[1].toLowerCase()}`));
  }

  async function takeTicket() {
    const btn = $("take-ticket");
    if (S.busy || !S.matter) return;
    S.busy = true;
    btn.disabled = true;
    btn.setAttribute("aria-busy", "true");
    hideError();
    try {
      const res = await api("POST", "/api/tickets", { matter: S.matter, swipe: S.swipe ? S.swipe.id : null });
      if (S.swipe) endSwipe();
      showTicket(res);
    } catch (err) {
      if (err.code === "hall_closed") {
        if (S.state) S.state.hall.tickets_open = false;      // the next state (event or poll) says when it opens
        show("closed");
      } else if (err.code === "swipe_expired") {
        endSwipe();
      }
      showError(err);
      live(err.message_zh);
    } finally {
      S.busy = false;
      btn.disabled = false;
      btn.removeAttribute("aria-busy");
    }
  }

  // -- the ticket ---------------------------------------------------------------------------------------------
  function showTicket({ ticket, print, qr_svg: qr }) {
    $("ticket-number").textContent = ticket.number;
    $("ticket-matter").replaceChildren(...bi(ticket.matter_name || matterOf(ticket.matter)?.name || ticket.matter,
      matterOf(ticket.matter)?.name_en));
    const ahead = ticket.waiting_ahead ?? 0;
    $("waiting-ahead").replaceChildren(...bi(`前面还有 ${ahead} 人`, `${ahead} ${ahead === 1 ? "person" : "people"} ahead of you`));
    const mins = minutes(ticket.estimated_wait_s);
    $("estimated-wait").replaceChildren(...(mins === 0 ? bi("马上就到您", "It is almost your turn")
      : bi(`预计等候约 ${mins} 分钟`, `About ${mins} minutes`)));
    const state = $("print-state");
    const failed = $("print-failed");
    failed.hidden = !(print && print.ok === false);
    state.hidden = !failed.hidden;
    if (print && print.ok === false) {
      failed.replaceChildren(...bi(print.message_zh || "小票打印失败，但您的号码有效，请记下号码或到服务台咨询",
        print.message_en || "The receipt could not be printed, but your number is valid. Please note it or ask at the service desk."));
    } else if (print && print.ok) {
      state.dataset.state = "ok";
      state.replaceChildren(...bi("请取走小票", "Please take your ticket"));
    } else {
      state.dataset.state = "none";
      state.replaceChildren(...bi("本机不打印小票，请记下您的号码或扫码", "This kiosk does not print tickets: note your number or scan the code"));
    }
    const box = $("ticket-qr");
    box.innerHTML = qr || "";
    box.querySelectorAll("svg").forEach((svg) => { svg.setAttribute("aria-hidden", "true"); svg.setAttribute("focusable", "false"); });
    box.hidden = !qr;
    show("ticket", { quiet: true });
    S.ticketDeadline = Date.now() + 1000 * (S.state?.ticket_return_s ?? (S.elder ? 60 : 30));
    tickTicket();
    live(`已取号 ${ticket.number}，前面还有 ${ahead} 人`);
    speak(`您的号码是${spokenNumber(ticket.number)}，前面还有${ahead}人，请留意叫号`);
  }

  function tickTicket() {
    if (S.screen !== "ticket" || !S.ticketDeadline) return;
    const left = Math.max(0, Math.ceil((S.ticketDeadline - Date.now()) / 1000));
    $("auto-return").replaceChildren(...bi(`${left} 秒后自动返回首页`, `Back to the start in ${left} s`));
    if (left === 0) resetAll();
  }

  // -- look up a ticket (typed, or a receipt's QR code read by the hand scanner, which types it + Enter) --------
  function buildKeypad() {
    const letters = [...new Set((S.state?.matters || []).flatMap((m) => [...(m.prefix || "")]))].sort();
    const keys = [...letters, ..."1234567890"].map((k) => h("button", { type: "button", class: "btn key",
      "data-test-id": `lookup-key-${k}`, on: () => typeInto("lookup-input", k) }, k));
    keys.push(h("button", { type: "button", class: "btn key fn", "data-test-id": "lookup-key-back",
      on: () => typeInto("lookup-input", "back") }, bi("退格", "Delete")));
    keys.push(h("button", { type: "button", class: "btn key fn", "data-test-id": "lookup-key-clear",
      on: () => typeInto("lookup-input", "clear") }, bi("清空", "Clear")));
    $("lookup-keypad").replaceChildren(...keys);
  }

  async function lookup(text) {
    const q = (text ?? $("lookup-input").value).trim();
    if (/\/c\/[A-Za-z0-9_-]{8,}/.test(q)) return cases.open(q);          // a notice's QR code: a case, not a ticket
    const out = $("lookup-result");
    hideError();
    if (!q) return renderLookup(out, null, failure("lookup_empty"));
    S.lookupDone = true;
    out.hidden = false;
    out.setAttribute("aria-busy", "true");
    try {
      const res = await api("GET", "/api/tickets/lookup?q=" + encodeURIComponent(q));
      renderLookup(out, res.ticket, null);
    } catch (err) {
      renderLookup(out, null, err);
    } finally {
      out.removeAttribute("aria-busy");
    }
  }

  function renderLookup(out, t, err) {
    out.hidden = false;
    out.classList.toggle("failed", !!err);
    if (err) {
      out.dataset.status = "error";
      out.replaceChildren(pair("p", { class: "status" }, [err.message_zh, err.message_en]));
      live(err.message_zh);
      return;
    }
    out.dataset.status = t.status;
    const [zh, en] = STATUS[t.status] || [t.status, t.status];
    const words = [fill(zh, { w: t.window ?? "" }), fill(en, { w: t.window ?? "" })];
    const parts = [h("p", { class: "number" }, t.number), h("p", {}, t.matter_name || matterOf(t.matter)?.name || t.matter),
      pair("p", { class: "status", "data-test-id": "lookup-status" }, words)];
    if (t.status === "waiting") {
      const mins = minutes(t.estimated_wait_s);
      parts.push(pair("p", {}, [`前面还有 ${t.waiting_ahead ?? 0} 人`, `${t.waiting_ahead ?? 0} ahead of you`]));
      parts.push(pair("p", {}, mins === 0 ? ["马上就到您", "It is almost your turn"] : [`预计等候约 ${mins} 分钟`, `About ${mins} minutes`]));
    }
    out.replaceChildren(...parts);
    live(`${t.number} ${words[0]}`);
    speak(`${spokenNumber(t.number)}，${words[0]}`);
  }

  function openLookup() {
    $("lookup-result").hidden = true;
    show("lookup");
    $("lookup-input").focus();
  }

  // -- after hours ------------------------------------------------------------------------------------------------
  function renderClosed() {
    const hall = S.state.hall || {};
    $("opening-today").replaceChildren(...(hall.opening_today ? bi(hall.opening_today, "") : bi("今天休息", "Closed today")));
    $("next-opening").replaceChildren(...bi(...nextOpeningWords(hall.next_opening, hallNow())));
    $("hall-phone").textContent = hall.phone || "—";
    $("opening-week").replaceChildren(...bi(...weekWords(hall.opening)));
  }

  // -- swipe of an ID / social-security card ------------------------------------------------------------------------
  const swipeHeadline = (d) => [h("span", { class: "greet" }, bi(d.greeting_zh || "您好", d.greeting_en || "Hello"))];
  function priorityBadge(d, id) {
    if (!d.priority || d.priority === "normal") return [];
    return [pair("span", { class: "badge priority", "data-test-id": id }, PRIORITY[d.priority] || ["优先", d.priority])];
  }
  const hhmm = (s) => (/(\d\d:\d\d)/.exec(s || "") || ["", s || ""])[1];

  function onSwipe(d) {
    S.swipe = d;
    S.lastActive = Date.now();
    clearTimeout(S.swipeTimer);
    const left = Date.parse(d.expires_at) - Date.now();
    if (Number.isFinite(left)) S.swipeTimer = setTimeout(endSwipe, Math.min(Math.max(0, left), 2 ** 31 - 1));
    if (d.priority === "elderly" && !S.elder) setElder(true, { quiet: true });
    hideError();
    renderSwipe();
    render();
    live(d.greeting_zh || "您好");
    speak(d.greeting_zh);
    if (S.screen === "cases") cases.bySwipe(d);         // swiped to find their cases
    if (LOCKER_SCREENS.includes(S.screen)) lockers.bySwipe(d);
  }

  function renderSwipe() {
    const d = S.swipe;
    const box = $("swipe-greeting");
    box.hidden = !d;
    document.body.classList.toggle("swiped", !!d);
    if (!d) return box.replaceChildren();
    const notes = (d.notices || []).map((n) => pair("li", {}, [n.zh, n.en]));
    for (const t of d.tickets_today || []) {
      const [zh, en] = STATUS[t.status] || [t.status, t.status];
      notes.push(pair("li", {}, [`您今天已取号 ${t.number}（${fill(zh, { w: "" })}）`, `Your ticket today: ${t.number} (${fill(en, { w: "" })})`]));
    }
    const jumps = (d.suggestions || []).map((s) => h("button", { type: "button", class: "btn", "data-test-id": `suggest-${s.matter}`,
      on: () => openMatter(s.matter) }, bi(s.name || matterOf(s.matter)?.name || s.matter, s.name_en || matterOf(s.matter)?.name_en)));
    for (const a of d.appointments || []) {
      const m = matterOf(a.matter);
      const slot = `${hhmm(a.slot_start)}-${hhmm(a.slot_end)}`;
      notes.push(pair("li", {}, [`您今天 ${slot} 预约了 ${m?.name || a.matter}`, `Appointment today ${slot}: ${m?.name_en || a.matter}`]));
      if (!["cancelled", "checked_in", "done", "no_show"].includes(a.status)) {
        jumps.push(h("button", { type: "button", class: "btn primary", "data-test-id": `appointment-${a.id}`, on: () => openMatter(a.matter) },
          bi(`预约签到 ${slot}`, `Check in ${slot}`)));
      }
    }
    box.replaceChildren(...swipeHeadline(d), ...priorityBadge(d, "swipe-priority"),
      h("button", { type: "button", class: "btn end", "data-test-id": "swipe-end", on: () => { endSwipe(); goHome(); } }, bi("退出", "End")),
      notes.length ? h("ul", { class: "notes" }, notes) : "",
      jumps.length ? h("div", { class: "jump" }, jumps) : "");
  }

  function endSwipe() {
    clearTimeout(S.swipeTimer);
    S.swipe = null;
    renderSwipe();
    render();
  }

  // -- state: polled, and pushed over the event stream -----------------------------------------------------------
  function applyState(st) {
    if (!st || !st.hall) return;
    const first = !S.state;
    S.state = st;
    S.stateFailed = false;
    if (first) { buildKeypad(); goHome(); }
    const open = hallOpen();
    if (!open && ["home", "group", "search", "matter"].includes(S.screen)) show("closed");
    else if (open && S.screen === "closed") show("home");
    else if (!S.busy) render();
    renderStatus();
  }

  async function refreshState() {
    try { applyState(await api("GET", "/api/state")); } catch (_) { S.stateFailed = true; renderStatus(); }
  }

  function connectEvents() {
    const es = new EventSource("/api/events");
    const json = (e) => { try { return JSON.parse(e.data); } catch (_) { return null; } };
    // body[data-events] says whether the kiosk's card reads can reach this page (technicians, tests)
    es.addEventListener("open", () => { S.eventsDownSince = null; document.body.dataset.events = "open"; renderStatus(); });
    es.addEventListener("error", () => {
      S.eventsDownSince = S.eventsDownSince || Date.now();
      document.body.dataset.events = "down";
      if (es.readyState === EventSource.CLOSED) setTimeout(connectEvents, 3000);
    });
    es.addEventListener("swipe", (e) => { const d = json(e); if (d) onSwipe(d); });
    es.addEventListener("card_error", (e) => {
      const d = json(e) || {};
      showError({ code: "card_error", message_zh: d.message_zh || "请重新放置卡片", message_en: d.message_en || "Please place your card again" });
    });
    es.addEventListener("state", (e) => applyState(json(e)));
  }

  // -- device status strip: problems only ----------------------------------------------------------------------------
  function renderStatus() {
    const out = [];
    const broken = (d) => d && ["offline", "fault"].includes(d.state);
    const dev = S.state?.devices || {};
    const down = S.stateFailed || (S.eventsDownSince && Date.now() - S.eventsDownSince > EVENTS_GRACE_MS);
    if (down || (S.state && S.state.server && !S.state.server.ok)) out.push(MESSAGES.server_unreachable);
    if (broken(dev.printer)) {
      out.push(/paper|纸/i.test(dev.printer.detail || "") ? ["本机小票纸已用完，取号后请记下号码", "This kiosk is out of paper: please note your number after taking a ticket"]
        : ["本机暂时不能打印小票，取号后请记下号码", "The printer is not working: please note your number after taking a ticket"]);
    }
    if (broken(dev.idcard)) out.push(["读卡器暂不可用，请直接点选办理事项", "The card reader is not available: please choose your service on the screen"]);
    const strip = $("device-status");
    const text = out.map((x) => x[0]).join("|");
    if (strip.dataset.text === text) return;
    strip.dataset.text = text;
    strip.hidden = out.length === 0;
    strip.replaceChildren(...out.map((x) => pair("p", {}, x)));
  }

  // -- modes: language, elder; idle reset -------------------------------------------------------------------------
  function setLead(lead) {
    S.lead = lead;
    document.body.classList.toggle("lead-en", lead === "en");
    const btn = $("lang-toggle");
    btn.replaceChildren(lead === "en" ? h("span", { lang: "zh-CN" }, "中文") : h("span", { lang: "en" }, "English"));
    btn.setAttribute("aria-label", lead === "en" ? "切换到中文 / Chinese first" : "切换到英文 / English first");
  }

  function setElder(on, { quiet = false } = {}) {
    S.elder = on;
    document.documentElement.classList.toggle("elder", on);
    $("elder-toggle").setAttribute("aria-pressed", String(on));
    Object.keys(S.pages).forEach((k) => { S.pages[k] = 0; });
    render();
    if (on && !quiet && PROMPT[S.screen]) speak(PROMPT[S.screen]);
  }

  function resetAll() {
    $("idle-warning").hidden = true;
    S.idleDeadline = 0;
    endSwipe();
    $("search-input").value = "";
    $("lookup-input").value = "";
    $("lookup-result").hidden = true;
    if (cases) cases.reset();
    if (lockers) lockers.reset();
    if (complaint) complaint.reset();
    setLead("zh");
    setElder(false);
    S.group = S.matter = null;
    goHome({ quiet: true });
    hideError();
    S.lastActive = Date.now();
  }

  function tickIdle() {
    const warn = $("idle-warning");
    if (!warn.hidden) {
      const left = Math.max(0, Math.ceil((S.idleDeadline - Date.now()) / 1000));
      $("idle-countdown").textContent = String(left);
      if (left === 0) resetAll();
      return;
    }
    if (!S.state || ["home", "closed"].includes(S.screen)) return;
    const limit = (S.elder ? S.state.elder_idle_s : S.state.idle_s) ?? (S.elder ? 120 : 60);
    if (Date.now() - S.lastActive > limit * 1000) {
      S.idleDeadline = Date.now() + IDLE_WARNING_S * 1000;
      $("idle-countdown").textContent = String(IDLE_WARNING_S);
      warn.hidden = false;
      $("idle-continue").focus();
      speak("还需要更多时间吗？请点击继续");
    }
  }

  function keepGoing() {
    $("idle-warning").hidden = true;
    S.idleDeadline = 0;
    S.lastActive = Date.now();
  }

  // A hand scanner types a status URL + Enter; when no field has the focus, catch it and look the ticket up.
  function onGlobalKey(e) {
    const inField = e.target instanceof HTMLInputElement;
    if (inField || e.ctrlKey || e.altKey || e.metaKey) return;
    const now = Date.now();
    if (now - S.scanAt > 500) S.scan = "";
    S.scanAt = now;
    if (e.key === "Enter" && S.scan.length >= 3) {
      const text = S.scan;
      S.scan = "";
      if (/\/c\/[A-Za-z0-9_-]{8,}/.test(text)) return cases.open(text);      // a notice's QR code: a case
      openLookup();
      $("lookup-input").value = text;
      lookup(text);
    } else if (e.key.length === 1) {
      S.scan += e.key;
    }
  }

  function tickClock() {
    const now = hallNow();
    $("clock").textContent = `${pad(now.H)}:${pad(now.M)}`;
  }

  // -- wiring ---------------------------------------------------------------------------------------------------------
  function wire() {
    for (const ev of ["pointerdown", "keydown", "touchstart", "input"]) {
      document.addEventListener(ev, () => { if ($("idle-warning").hidden) S.lastActive = Date.now(); }, { capture: true, passive: true });
    }
    document.addEventListener("keydown", onGlobalKey);
    const on = (id, f) => $(id).addEventListener("click", f);
    on("back", () => {
      if (S.screen === "cases" && cases.back()) return;
      if (LOCKER_SCREENS.includes(S.screen) && lockers.back()) return;
      if (S.screen === "matter" && ["group", "search"].includes(S.from)) show(S.from); else goHome();
    });
    on("lang-toggle", () => setLead(S.lead === "zh" ? "en" : "zh"));
    on("elder-toggle", () => setElder(!S.elder));
    on("open-search", () => { show("search"); $("search-input").focus(); });
    on("open-lookup", openLookup);
    on("closed-lookup", openLookup);
    cases = caseQuery({ $, h, bi, pair, api, show, speak, live, showError, hideError, endSwipe, resetAll, showTicket,
      state: () => S.state, elder: () => S.elder, swipe: () => S.swipe });
    cases.wire();
    lockers = lockerScreens({ $, h, bi, pair, api, show, speak, live, showError, hideError, endSwipe, resetAll,
      state: () => S.state, elder: () => S.elder, swipe: () => S.swipe, screen: () => S.screen });
    lockers.wire();
    complaint = complaintScreen({ $, h, bi, pair, api, show, speak, live, showError, hideError, resetAll });
    complaint.wire();
    on("open-cases", () => cases.open());
    on("closed-cases", () => cases.open());
    on("take-ticket", takeTicket);
    on("done", resetAll);
    on("error-close", hideError);
    on("idle-continue", keepGoing);
    $("idle-warning").addEventListener("click", (e) => { if (e.target === e.currentTarget) keepGoing(); });
    const pager = (prev, next, kind) => {
      on(prev, () => { S.pages[kind] -= 1; render(); });
      on(next, () => { S.pages[kind] += 1; render(); });
    };
    pager("page-prev", "page-next", "home");
    pager("list-prev", "list-next", "group");
    pager("results-prev", "results-next", "search");
    $("search-input").addEventListener("input", () => { S.pages.search = 0; renderResults(); });
    $("lookup-input").addEventListener("keydown", (e) => {
      if (S.lookupDone && e.key.length === 1) { e.target.value = ""; S.lookupDone = false; }
    });
    $("lookup-form").addEventListener("submit", (e) => { e.preventDefault(); lookup(); });
    window.addEventListener("resize", render);
    buildKeyboard();
    setLead("zh");
    tickClock();
    setInterval(tickClock, 1000);
    setInterval(() => { tickIdle(); tickTicket(); renderStatus(); }, 250);
    setInterval(refreshState, STATE_POLL_MS);
    refreshState();
    connectEvents();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", wire); else wire();
})();
