// The terminal's 办件 tab: this window's cases today and every case waiting for 补正 (the applicant may come
// back to any window with the missing items), a search by number, name or phone, and "new case without a
// ticket". The cases API lists the hall's cases newest first and knows no window: today's are its newest
// pages (up to MAX_PAGES of 200) filtered by `window` and the day they were received in the hall's zone.
// Read again when a case event touches a listed case or a new one is taken in (at most every second).

import { api, en, h } from "./terminal_api.js";
import { STATUS, dayText, explain, localDay, localTime, words } from "./case_words.js";

const PAGE = 200;
const MAX_PAGES = 5;
const GAP_MS = 1000;

export class WindowCases {
  // n: this window; open(caseId): show a case; fresh(): take one in without a ticket; say(zh, en): report
  constructor({ n, open, fresh, say }) {
    Object.assign(this, { n, open, fresh, say });
    this.today = [];
    this.waiting = [];
    this.known = new Set();
    this.timer = null;
    this.last = 0;
    this.tz = "Asia/Shanghai";
    this.day = "";
    this.loaded = false;
    this.tabs();
    const form = document.querySelector('[data-test-id="cases-search"]');
    form.addEventListener("submit", (e) => { e.preventDefault(); this.find(); });
    document.querySelector('[data-test-id="cases-new"]').addEventListener("click", () => this.fresh());
  }

  tabs() {
    const tabs = [...document.querySelectorAll('.history [role="tab"]')];
    const select = (tab) => {
      for (const t of tabs) {
        const on = t === tab;
        t.setAttribute("aria-selected", String(on));
        t.tabIndex = on ? 0 : -1;
        document.getElementById(t.getAttribute("aria-controls")).hidden = !on;
      }
      document.querySelector('[data-test-id="history-counts"]').hidden = tab.id !== "tab-tickets";
    };
    for (const t of tabs) {
      t.addEventListener("click", () => select(t));
      t.addEventListener("keydown", (e) => {
        if (e.key !== "ArrowLeft" && e.key !== "ArrowRight") return;
        const next = tabs[(tabs.indexOf(t) + (e.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length];
        select(next);
        next.focus();
      });
    }
  }

  // the desk's state: the hall's zone and today (from the window's day), or logged out
  follow(st) {
    if (!st.me) { this.loaded = false; this.today = []; this.waiting = []; return; }
    if (st.hall) this.tz = st.hall.timezone;
    const day = st.day ? st.day.now.slice(0, 10) : "";
    if (!this.loaded || day !== this.day) {
      this.day = day;
      this.loaded = true;
      this.refresh();
    }
  }

  onEvent(e) {
    if (!e.type.startsWith("case.") || !this.loaded) return;
    const d = e.data || {};
    if (e.type === "case.received" || this.known.has(d.case) || d.status === "supplement") this.refreshSoon();
  }

  refreshSoon() {
    if (this.timer) return;
    this.timer = setTimeout(() => { this.timer = null; this.refresh(); },
      Math.max(0, this.last + GAP_MS - Date.now()));
  }

  async refresh() {
    this.last = Date.now();
    try {
      const [today, waiting] = await Promise.all([this.readToday(), api("GET", "/cases?status=supplement&limit=50")]);
      this.today = today;
      this.waiting = waiting.cases;
      this.known = new Set([...today, ...waiting.cases].map((c) => c.id));
      this.draw();
    } catch (e) {
      if (e.status !== 401) this.say(...explain(e));
    }
  }

  async readToday() {
    const mine = [];
    let before = null;
    for (let page = 0; page < MAX_PAGES; page += 1) {
      const r = await api("GET", `/cases?limit=${PAGE}${before ? `&before=${before}` : ""}`);
      const days = r.cases.map((c) => localDay(c.received_at, this.tz));
      r.cases.forEach((c, i) => { if (c.window === this.n && days[i] === this.day) mine.push(c); });
      if (!r.more || !days.length || days[days.length - 1] < this.day) break;
      before = r.next_before;
    }
    return mine;
  }

  async find() {
    const q = document.querySelector('[data-test-id="cases-q"]').value.trim();
    const list = document.querySelector('[data-test-id="cases-found"]');
    const head = document.querySelector('[data-test-id="cases-found-head"]');
    if (!q) { list.hidden = true; head.hidden = true; return; }
    try {
      const r = await api("GET", `/cases?q=${encodeURIComponent(q)}&limit=20`);
      list.replaceChildren(...(r.cases.length ? r.cases.map((c) => this.row(c))
        : [h("li", { class: "empty" }, `没有找到“${q}”`, " ", en("no case found"))]));
      list.hidden = false;
      head.hidden = false;
    } catch (e) {
      this.say(...explain(e));
    }
  }

  // the cases taken in from one ticket today (the clerk may reopen one instead of registering it twice)
  forTicket(ticketId) {
    return this.today.filter((c) => c.ticket === ticketId);
  }

  remember(c) {          // a case just taken in or changed here: shown at once, confirmed by the next read
    this.today = [c, ...this.today.filter((x) => x.id !== c.id)];
    this.waiting = this.waiting.filter((x) => x.id !== c.id);
    if (c.status === "supplement") this.waiting.unshift(c);
    this.known.add(c.id);
    this.draw();
    this.refreshSoon();
  }

  draw() {
    const empty = (zh, enText) => h("li", { class: "empty" }, zh, " ", en(enText));
    document.querySelector('[data-test-id="cases-today"]').replaceChildren(...(this.today.length
      ? this.today.map((c) => this.row(c)) : [empty("今天本窗口还没有办件", "no cases at this window today")]));
    document.querySelector('[data-test-id="cases-supplement"]').replaceChildren(...(this.waiting.length
      ? this.waiting.map((c) => this.row(c)) : [empty("没有待补正的办件", "no case is waiting for materials")]));
    document.querySelector('[data-test-id="cases-count"]').textContent = this.today.length ? String(this.today.length) : "";
  }

  row(c) {
    const due = c.due ? `承诺 ${dayText(c.due)}` : "";
    const b = h("button", { type: "button", class: "case-row", "data-test-id": "case-row", "data-number": c.number,
      "data-status": c.status, "data-deadline": c.deadline },
      h("span", { class: "case-row-number" }, c.number),
      h("span", { class: "case-row-matter" }, c.matter_name),
      h("span", { class: `case-row-status status-${c.status}` }, ...words(STATUS[c.status], c.status)),
      h("span", { class: "case-row-when" }, c.status === "supplement" ? `缺 ${c.missing.length} 项` : due
        || localTime(c.received_at, this.tz)));
    b.addEventListener("click", () => this.open(c.id));
    return h("li", {}, b);
  }
}
