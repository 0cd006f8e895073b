// 快递签收 Parcels, a tab of the window terminal (issue 16, item 5): application materials that arrive by post or
// courier. The clerk signs a parcel in (courier, waybill, sender and phone, contents), then attaches it to the
// case it belongs to, or opens a case from it (channel courier), and sorts it to the department that decides it.
// The tab lists the parcels not attached to a case yet and those attached but not sorted (GET /api/v1/parcels),
// read again when a parcel.* event comes (at most every second). The dialog is courier_forms.js's.
//
// Like intake.js, this module follows the desk through the document's terminal:drawn and terminal:event, and
// changes nothing of it; the tab itself is one of the history's tabs (window_cases.js switches them).

import { api, en, h } from "./terminal_api.js";
import { explain, localTime } from "./case_words.js";
import { ParcelDialog } from "./courier_forms.js";

const GAP_MS = 1000;
const PAGE = 100;
const $ = (id) => document.querySelector(`[data-test-id="${id}"]`);

class ParcelDesk {
  constructor(root) {
    this.root = root;
    this.st = null;
    this.options = { couriers: [], departments: [] };
    this.unattached = [];
    this.unsorted = [];
    this.loaded = false;
    this.timer = null;
    this.last = 0;
    this.build();
    this.dialog = new ParcelDialog(this);
  }

  build() {
    const add = h("button", { type: "button", class: "small-button parcel-new", "data-test-id": "parcel-new" },
      "签收快递 ", en("Sign a parcel in"));
    add.addEventListener("click", () => { if (this.loaded) this.dialog.register(); });
    this.root.replaceChildren(
      h("div", { class: "parcels-bar" }, add,
        h("span", { class: "parcels-summary", "data-test-id": "parcels-summary", role: "status" })),
      h("div", { class: "cases-scroll", tabindex: "0", "aria-label": "快递列表 Parcels" },
        h("h3", { class: "cases-head" }, "未关联办件 ", en("Not attached to a case yet")),
        h("ul", { class: "parcel-list", "data-test-id": "parcels-unattached" }),
        h("h3", { class: "cases-head" }, "已关联、待分拣 ", en("Attached, not sorted yet")),
        h("ul", { class: "parcel-list", "data-test-id": "parcels-unsorted" })));
  }

  matters() {
    return this.st && this.st.hall ? this.st.hall.matters : [];
  }

  tz() {
    return this.st && this.st.hall ? this.st.hall.timezone : "Asia/Shanghai";
  }

  say(zh, enText = "", kind = "error") {            // the desk's message line
    const line = $("error");
    line.dataset.kind = kind;
    $("error-zh").textContent = zh;
    $("error-en").textContent = enText;
    line.hidden = false;
  }

  follow(st) {
    this.st = st;
    if (!st.me) {
      this.loaded = false;
      this.unattached = [];
      this.unsorted = [];
      this.dialog.close();
      return;
    }
    if (!this.loaded && st.hall) {
      this.loaded = true;
      this.load();
    }
  }

  async load() {
    try {
      this.options = await api("GET", "/parcels/options");
    } catch (e) {
      this.loaded = false;
      if (e.status !== 401) this.say(...explain(e));
      return;
    }
    this.refresh();
  }

  onEvent(e) {
    if (this.loaded && e.type.startsWith("parcel.")) this.refreshSoon();
  }

  refreshSoon() {
    if (this.timer) return;
    this.timer = setTimeout(() => { this.timer = null; this.refresh(); },
      Math.max(0, this.last + GAP_MS - Date.now()));
  }

  async refresh() {
    this.last = Date.now();
    try {
      const [loose, unsorted] = await Promise.all([api("GET", `/parcels?attached=false&limit=${PAGE}`),
        api("GET", `/parcels?attached=true&sorted=false&limit=${PAGE}`)]);
      this.unattached = loose.parcels;
      this.unsorted = unsorted.parcels;
      this.draw();
    } catch (e) {
      if (e.status !== 401) this.say(...explain(e));
    }
  }

  changed(p) {            // a step done here: shown at once, confirmed by the next read
    this.unattached = this.unattached.filter((x) => x.id !== p.id);
    this.unsorted = this.unsorted.filter((x) => x.id !== p.id);
    if (!p.case) this.unattached.unshift(p);
    else if (!p.department) this.unsorted.unshift(p);
    this.draw();
    this.refreshSoon();
  }

  draw() {
    const empty = (zh, enText) => h("li", { class: "empty" }, zh, " ", en(enText));
    $("parcels-unattached").replaceChildren(...(this.unattached.length ? this.unattached.map((p) => this.row(p))
      : [empty("没有未关联办件的快递", "every parcel is attached to a case")]));
    $("parcels-unsorted").replaceChildren(...(this.unsorted.length ? this.unsorted.map((p) => this.row(p))
      : [empty("没有待分拣的快递", "nothing waits to be sorted")]));
    $("parcels-count").textContent = this.unattached.length ? String(this.unattached.length) : "";
    $("parcels-summary").textContent = `未关联 ${this.unattached.length} · 待分拣 ${this.unsorted.length}`;
  }

  row(p) {
    const act = (id, zh, enText, run) => {
      const b = h("button", { type: "button", class: "small-button", "data-test-id": id }, zh, " ", en(enText));
      b.addEventListener("click", run);
      return b;
    };
    const where = p.case ? `办件 ${p.case.number} · ${p.case.matter_name}`
      : p.matter_name ? `申请事项：${p.matter_name}` : "";
    return h("li", { class: "parcel", "data-test-id": "parcel-row", "data-id": String(p.id), "data-waybill": p.waybill,
      "data-status": p.status },
    h("p", { class: "parcel-line" },
      h("span", { class: "parcel-waybill" }, p.waybill), h("span", { class: "parcel-courier" }, p.courier),
      h("span", { class: "parcel-when" }, localTime(p.registered_at, this.tz()))),
    h("p", { class: "parcel-info" }, `寄件人 ${p.sender.name} ${p.sender.phone_masked} · 内件：${p.contents}`),
    where ? h("p", { class: "parcel-info parcel-where" }, where) : null,
    h("div", { class: "parcel-actions" },
      p.case ? null : act("parcel-attach", "关联办件", "Attach", () => this.dialog.attach(p)),
      p.case ? null : act("parcel-open-case", "登记为办件", "Open a case", () => this.dialog.openCase(p)),
      act("parcel-sort", "分拣", "Sort", () => this.dialog.sort(p))));
  }
}

const root = $("parcels-panel");
if (root) {
  const desk = new ParcelDesk(root);
  document.addEventListener("terminal:drawn", (e) => desk.follow(e.detail));
  document.addEventListener("terminal:event", (e) => desk.onEvent(e.detail));
}
