// The 出件 window's lists in the terminal's 办件 tab (issue 16): the results ready to hand out ("待取件", at the
// window or to be sent by mail: GET /api/v1/cases?status=ready) and the decided cases not made ready yet
// ("已办结待出件": ?status=decided). A row opens the hand-out view (handout.js) — so the clerk also hands a result
// out to a citizen without an 出件 ticket. Shown on a window that serves the `results` group (综合出件, window 6
// of the district centre); read again when a case event says a case was decided, made ready or handed out.

import { api, en, h } from "./terminal_api.js";
import { explain, localDay, localTime } from "./case_words.js";

const RESULTS_GROUP = "results";
const LIMIT = 200;
const GAP_MS = 1000;
const MOVES = new Set(["decided", "ready", "delivered"]);

export class HandoutLists {
  // n: this window; open(caseId): the hand-out view; say(zh, en): the desk's message line
  constructor({ n, open, say }) {
    Object.assign(this, { n, open, say });
    this.on = false;
    this.built = false;
    this.timer = null;
    this.last = 0;
    this.tz = "Asia/Shanghai";
  }

  // the desk's state: an 出件 window (it serves the results group) shows the lists, read once per log-in
  follow(st) {
    if (!st.me) { this.on = false; return; }
    if (st.hall) this.tz = st.hall.timezone;
    const serves = st.win ? st.win.serves : [];
    const results = serves.includes(RESULTS_GROUP) || (st.hall && st.hall.matters.some((m) => m.group === RESULTS_GROUP
      && serves.includes(m.code)));
    if (!results || this.on) return;
    this.on = true;
    this.build();
    this.refresh();
  }

  build() {
    if (this.built) return;
    const scroll = document.querySelector(".cases-panel .cases-scroll");
    if (!scroll) return;
    this.built = true;
    const head = (zh, enText, id) => h("h3", { class: "cases-head" }, zh, " ", en(enText), " ",
      h("span", { class: "tab-count", "data-test-id": `${id}-count` }));
    scroll.prepend(
      head("待取件", "Ready to hand out", "handout-ready"), h("ul", { class: "case-list", "data-test-id": "handout-ready" }),
      head("已办结待出件", "Decided: make them ready", "handout-decided"),
      h("ul", { class: "case-list", "data-test-id": "handout-decided" }));
  }

  onEvent(e) {
    if (!this.on || !e.type.startsWith("case.")) return;
    if (MOVES.has((e.data || {}).status)) this.refreshSoon();
  }

  refreshSoon() {
    if (!this.on || this.timer) return;
    this.timer = setTimeout(() => { this.timer = null; this.refresh(); }, Math.max(0, this.last + GAP_MS - Date.now()));
  }

  async refresh() {
    this.last = Date.now();
    try {
      const [ready, decided] = await Promise.all([api("GET", `/cases?status=ready&limit=${LIMIT}`),
        api("GET", `/cases?status=decided&limit=${LIMIT}`)]);
      this.draw("handout-ready", ready.cases, ["没有待取件的办件结果", "no result is waiting to be handed out"]);
      this.draw("handout-decided", decided.cases, ["没有待转出件的办件", "no decided case is waiting"]);
    } catch (e) {
      if (e.status !== 401) this.say(...explain(e));
    }
  }

  draw(id, cases, [zh, enText]) {
    const list = document.querySelector(`[data-test-id="${id}"]`);
    if (!list) return;
    list.replaceChildren(...(cases.length ? cases.map((c) => this.row(c))
      : [h("li", { class: "empty" }, zh, " ", en(enText))]));
    document.querySelector(`[data-test-id="${id}-count"]`).textContent = cases.length ? String(cases.length) : "";
  }

  row(c) {
    const ho = c.handout || {};
    const at = c.status === "ready" ? c.ready_at : c.decided_at;
    const when = at ? `${localDay(at, this.tz)} ${localTime(at, this.tz)}` : "";
    const how = c.status === "ready" ? ({ mail: ["待寄出", "to post"], locker: [`柜中待取 ${ho.compartment || ""}`, "in a locker"] }[ho.via]
      || ["待领取", "to collect"])
      : [c.outcome === "rejected" ? "不予批准" : "准予", c.outcome || ""];
    const b = h("button", { type: "button", class: "case-row", "data-test-id": "handout-row", "data-number": c.number,
      "data-status": c.status, "data-via": ho.via || "" },
      h("span", { class: "case-row-number" }, c.number),
      h("span", { class: "case-row-matter" }, `${c.matter_name} · ${c.applicant.name}`),
      h("span", { class: `case-row-status status-${c.status}` }, how[0], " ", en(how[1])),
      h("span", { class: "case-row-when" }, when));
    b.addEventListener("click", () => this.open(c.id));
    return h("li", {}, b);
  }
}
