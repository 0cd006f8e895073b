// One case in the intake dialog (data-test-id case-view): its number, status, dates and department tasks, the
// actions its status allows at the window — 受理 accept, 一次性告知补正 request-supplement (missing items
// pre-selected, a note), 补交材料 materials (a 补正 case is accepted when complete), 不予受理 refuse (a reason,
// the competent organ), and for 即办 matters 当场办结 decide — and the notice to print after each outcome.
// Every refusal of the API (409 materials_missing naming the items, 422, 403) is shown as it comes.

import { ApiError, api, en, h } from "./terminal_api.js";
import { printA4, printAtWindow } from "./notice_print.js";
import { CHANNEL, MATERIAL, NOTICE, OUTCOME, PRESENT, STATUS, TASK, dayText, explain, localTime, noticeFor, pickedStates,
  statePicker, words } from "./case_words.js";

export class CasePanel {
  // n: this window; say(zh, en, kind): the dialog's message line; changed(case): after each action.
  constructor({ n, root, say, changed, done, tz }) {
    Object.assign(this, { n, root, say, changed, done, tz });
    this.c = null;
    this.busy = false;
  }

  show(c) {
    this.c = c;
    this.root.hidden = false;
    this.draw();
  }

  draw(subform = null) {
    const c = this.c;
    const tz = this.tz();
    const st = STATUS[c.status];
    const deps = c.departments || [];
    this.root.dataset.status = c.status;
    this.root.replaceChildren(...[
      h("div", { class: "case-head" },
        h("p", { class: "case-number", "data-test-id": "case-number" }, c.number),
        h("p", { class: "case-status", "data-test-id": "case-status", "data-status": c.status }, ...words(st, c.status)),
        c.outcome ? h("p", { class: `case-outcome out-${c.outcome}`, "data-test-id": "case-outcome" },
          ...words(OUTCOME[c.outcome], c.outcome)) : null),
      h("p", { class: "case-matter", "data-test-id": "case-matter" }, `${c.matter_name}（${c.matter}）· ${c.kind}件`,
        " ", en(CHANNEL[c.channel] ? CHANNEL[c.channel][1] : c.channel)),
      h("p", { class: "case-applicant", "data-test-id": "case-applicant" }, "申请人 ", en("applicant"), " ",
        c.applicant.name, c.applicant.id_masked ? ` · ${c.applicant.id_masked}` : "",
        c.applicant.phone ? ` · ${c.applicant.phone}` : "",
        c.agent ? ` · 代办人 ${c.agent.name}${c.agent.id_masked ? ` ${c.agent.id_masked}` : ""}` : ""),
      h("dl", { class: "case-dates", "data-test-id": "case-dates" },
        date("收件", "received", "case-received", localTime(c.received_at, tz)),
        date("受理日", "accepted on", "case-accept-day", c.accept_day ? dayText(c.accept_day) : "—"),
        date("承诺办结", "promised by", "case-due", dayText(c.due), c.due),
        date("法定时限", "legal limit", "case-legal-due", dayText(c.legal_due), c.legal_due)),
      c.calendar_warning ? h("p", { class: "case-warning", "data-test-id": "case-calendar-warning" },
        c.calendar_warning.message_zh || "", " ", en(c.calendar_warning.message_en || "")) : null,
      deps.length ? h("ul", { class: "case-tasks", "data-test-id": "case-departments" }, deps.map((t) =>
        h("li", { "data-department": t.department, "data-state": t.state }, h("b", {}, t.department), " ",
          ...words(TASK[t.state], t.state)))) : null,
      h("ul", { class: "case-items", "data-test-id": "case-materials" }, c.materials.map((m) =>
        h("li", { "data-name": m.name, "data-state": m.state, class: PRESENT.includes(m.state) ? "in" : "out" },
          m.name, "：", ...words(MATERIAL[m.state], m.state)))),
      c.missing.length ? h("p", { class: "case-missing", "data-test-id": "case-missing" },
        `尚缺：${c.missing.join("、")}`, " ", en(`missing: ${c.missing.join(", ")}`)) : null,
      c.supplement_note ? h("p", { class: "case-note" }, `告知说明：${c.supplement_note}`) : null,
      c.reason && c.status === "refused" ? h("p", { class: "case-note", "data-test-id": "case-reason" },
        `不予受理理由：${c.reason}`) : null,
      this.actions(),
      subform ? h("div", { class: "case-subform", "data-test-id": "case-subform" }, subform) : null,
      this.printBox(),
      h("div", { class: "dialog-buttons" }, h("button", { type: "button", "data-test-id": "case-done", class: "primary" },
        "完成 ", en("Done")))].filter(Boolean));
    this.root.querySelector('[data-test-id="case-done"]').addEventListener("click", () => this.done());
    if (subform) {
      subform.scrollIntoView({ block: "nearest" });
      const first = subform.querySelector("textarea, input:not([type=checkbox]):not([type=radio])");
      if (first && !first.closest("fieldset.item")) first.focus();
    }
  }

  actions() {
    const c = this.c;
    const buttons = [];
    const add = (id, zh, enText, fn, primary = false) => {
      const b = h("button", { type: "button", "data-test-id": id, class: primary ? "primary" : "" }, zh, " ", en(enText));
      b.addEventListener("click", fn);
      buttons.push(b);
    };
    const missing = c.missing.length > 0;
    if (c.status === "received") {
      add("case-accept", "受理", "Accept", () => this.act("accept"), !missing);
      add("case-supplement", "一次性告知补正", "Ask for missing items", () => this.draw(this.supplementForm()), missing);
    }
    if ((c.status === "received" && missing) || c.status === "supplement") {
      add("case-handin", "补交材料", "Items handed in", () => this.draw(this.handInForm()), c.status === "supplement");
    }
    if (c.status === "received" || c.status === "supplement") {
      add("case-refuse", "不予受理", "Refuse", () => this.draw(this.refuseForm()));
    }
    if (c.status === "accepted" && c.kind === "即办") {
      add("case-decide", "当场办结", "Decide now", () => this.draw(this.decideForm()), true);
    }
    if (!buttons.length) return null;
    return h("div", { class: "case-actions", "data-test-id": "case-actions" }, buttons);
  }

  // -- the actions' forms ---------------------------------------------------------------------------------
  form(id, title, body, submitText, submit) {
    const f = h("form", { class: "subform", "data-test-id": id, novalidate: true },
      h("h3", {}, ...title), ...body,
      h("div", { class: "dialog-buttons" },
        h("button", { type: "button", "data-test-id": `${id}-cancel` }, "取消 ", en("Cancel")),
        h("button", { type: "submit", class: "primary", "data-test-id": `${id}-submit` }, ...submitText)));
    f.querySelector(`[data-test-id="${id}-cancel"]`).addEventListener("click", () => this.draw());
    f.addEventListener("submit", (e) => { e.preventDefault(); submit(f); });
    return f;
  }

  supplementForm() {
    const c = this.c;
    const items = c.materials.map((m, i) => h("label", { class: "choice" },
      h("input", { type: "checkbox", value: m.name, checked: !PRESENT.includes(m.state) && (m.required || m.state === "missing"),
        "data-test-id": `sup-item-${i}` }), " ", m.name));
    return this.form("sup", ["一次性告知补正 ", en("Ask once for everything missing")], [
      h("p", { class: "hint" }, "勾选需要补正的全部材料（必备而未交的已选上）", " ",
        en("tick every item to bring; required items not in are ticked already")),
      h("div", { class: "sup-items", "data-test-id": "sup-items" }, items),
      h("label", { for: "sup-note" }, "告知说明 ", en("Note (optional)")),
      h("textarea", { id: "sup-note", "data-test-id": "sup-note", maxlength: "500", rows: "2" })],
    ["发出告知 ", en("Ask for them")], (f) => {
      const missing = [...f.querySelectorAll("input[type=checkbox]:checked")].map((x) => x.value);
      if (!missing.length) {
        this.say("请至少勾选一项需补正的材料", "tick at least one item the applicant must bring");
        return;
      }
      const note = f.querySelector("textarea").value.trim();
      this.act("request-supplement", { missing, ...(note ? { note } : {}) });
    });
  }

  handInForm() {
    const c = this.c;
    const open = c.materials.filter((m) => !PRESENT.includes(m.state));
    return this.form("handin", ["补交材料 ", en("Items handed in")], [
      h("p", { class: "hint" }, "为补交的材料选择形式；材料齐全即自动受理", " ",
        en("choose the form of each item brought; the case is accepted once complete")),
      h("div", { class: "items" }, open.map((m, i) => statePicker("handin-item", i, m.name, m.required, "missing")))],
    ["提交 ", en("Hand in")], (f) => {
      const given = pickedStates(f).filter((m) => m.state !== "missing");
      if (!given.length) {
        this.say("请为至少一项补交的材料选择原件、复印件或电子", "mark at least one item as handed in (original, copy or electronic)");
        return;
      }
      this.act("materials", { materials: given });
    });
  }

  refuseForm() {
    return this.form("refuse", ["不予受理 ", en("Refuse")], [
      h("label", { for: "refuse-reason" }, "理由 ", en("Reason"), " ", h("span", { class: "req" }, "*")),
      h("textarea", { id: "refuse-reason", "data-test-id": "refuse-reason", maxlength: "500", rows: "2", required: true,
        placeholder: "如：不属于本机关职权范围" }),
      h("label", { for: "refuse-organ" }, "有权机关 ", en("Competent organ (optional)")),
      h("input", { id: "refuse-organ", "data-test-id": "refuse-organ", maxlength: "100", placeholder: "如：区市场监管局" })],
    ["不予受理 ", en("Refuse")], (f) => {
      const reason = f.querySelector("textarea").value.trim();
      if (!reason) {
        this.say("请填写不予受理的理由", "give the reason for refusing (it is printed on the notice)");
        f.querySelector("textarea").focus();
        return;
      }
      const organ = f.querySelector("input").value.trim();
      this.act("refuse", { reason, ...(organ ? { competent_organ: organ } : {}) });
    });
  }

  decideForm() {
    const choice = (value, zh, enText) => h("label", { class: "choice" }, h("input", { type: "radio", name: "decide-outcome",
      value, checked: value === "approved", "data-test-id": `decide-${value}` }), " ", zh, " ", en(enText));
    return this.form("decide", ["当场办结 ", en("Decide at the window")], [
      h("div", { class: "choices" }, choice("approved", "准予", "approve"), choice("rejected", "不予批准", "reject")),
      h("label", { for: "decide-opinion" }, "意见 ", en("Opinion")),
      h("textarea", { id: "decide-opinion", "data-test-id": "decide-opinion", maxlength: "2000", rows: "2" })],
    ["办结 ", en("Decide")], (f) => {
      const outcome = f.querySelector("input[name=decide-outcome]:checked").value;
      const opinion = f.querySelector("textarea").value.trim();
      if (outcome === "rejected" && !opinion) {
        this.say("不予批准时请写明理由", "say why when rejecting");
        return;
      }
      this.act("decide", { outcome, ...(opinion ? { opinion } : {}) });
    });
  }

  async act(action, body) {
    if (this.busy) return;
    this.busy = true;
    this.root.dataset.busy = "true";
    const before = this.c.status;
    try {
      this.c = await api("POST", `/cases/${this.c.id}/${action}`, body);
      this.draw();
      this.say(...outcomeWords(this.c, before), "info");
      this.changed(this.c);
    } catch (e) {
      this.say(...explain(e));
      if (e instanceof ApiError && e.status === 409) this.reload();     // the state may have moved elsewhere
    } finally {
      this.busy = false;
      delete this.root.dataset.busy;
    }
  }

  async reload() {
    try {
      const c = await api("GET", `/cases/${this.c.id}`);
      if (c.status !== this.c.status) { this.c = c; this.draw(); }
    } catch { /* the error shown is the action's */ }
  }

  // -- printing the notice --------------------------------------------------------------------------------
  printBox() {
    const kind = noticeFor(this.c);
    if (!kind) return null;
    const result = h("p", { class: "print-result", "data-test-id": "print-result", role: "status" });
    const win = h("button", { type: "button", "data-test-id": "print-window" }, `在 ${this.n} 号窗口打印 `,
      en(`Print at window ${this.n}`));
    const a4 = h("button", { type: "button", "data-test-id": "print-a4" }, "A4 打印 ", en("Print on A4"));
    const show = (state, zh, enText) => {
      result.dataset.state = state;
      result.replaceChildren(h("span", { class: "zh" }, zh), " ", en(enText));
    };
    win.addEventListener("click", async () => {
      win.disabled = true;
      show("busy", "正在打印…", "printing…");
      try {
        const r = await printAtWindow(this.c.id, kind, this.n);
        show("ok", `${NOTICE[kind][0]}已在 ${this.n} 号窗口打印（${r.device}）`, `printed at window ${this.n}`);
      } catch (e) {
        show("error", ...explain(e));
      } finally {
        win.disabled = false;
      }
    });
    a4.addEventListener("click", () => printA4(this.c.id, kind, show));
    return h("div", { class: "case-print", "data-test-id": "case-print", "data-notice": kind },
      h("p", { class: "print-title" }, "打印 ", NOTICE[kind][0], " ", en(`print the ${NOTICE[kind][1]}`)), win, a4, result);
  }
}

function date(zh, enText, id, text, iso) {
  return h("div", {}, h("dt", {}, zh, " ", en(enText)), h("dd", { "data-test-id": id, "data-date": iso || "" }, text));
}

function outcomeWords(c, before) {
  if (c.status === "accepted" && before !== "accepted") {
    if (c.kind === "即办") return ["已受理，请当场办结", "accepted: decide it now"];
    return [`已受理：承诺 ${c.due} 前办结（法定时限 ${c.legal_due}）`, `accepted: due ${c.due}, legal limit ${c.legal_due}`];
  }
  if (c.status === "supplement" && before !== "supplement") {
    return [`已一次性告知补正：${c.missing.join("、")}`, `asked once for: ${c.missing.join(", ")}`];
  }
  if (c.status === "refused") return ["已不予受理", "refused"];
  if (c.status === "decided") return [`已当场办结：${OUTCOME[c.outcome][0]}`, `decided: ${c.outcome}`];
  if (c.missing.length) return [`已登记补交材料，尚缺：${c.missing.join("、")}`, `items recorded; still missing: ${c.missing.join(", ")}`];
  return ["已更新", "saved"];
}
