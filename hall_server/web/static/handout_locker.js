// 存入智能柜 at the 出件 window (issue 16, item 3): the hand-out view's locker part (handout.js draws it).
//   - A decided case: "存入智能柜" (the size: small first, or large) → POST /api/v1/cases/{id}/locker. The hall picks
//     a free compartment and opens it; the answer names it, and the compartments that would not open on the way
//     (out of service with an alert: another one was used). The clerk puts the result in and shuts the door; the
//     hall sees the door shut and makes the case ready with its pickup code sent by SMS. Until then the view says
//     it waits for the door, reading the case again (and at once on a locker.* or case.* event of it); "取消装柜"
//     gives the load up (POST …/compartments/{c}/cancel: the case stays decided, the door is to be shut empty).
//   - A result in a locker: where it is, and "取回到窗口" (POST …/compartments/{c}/take-back): the door opens and
//     the case is ready at the window.
// Whether there are lockers is GET /api/v1/lockers/info, read when the view opens a case.

import { api, en, h } from "./terminal_api.js";
import { explain } from "./case_words.js";

const SIZE = { small: ["小格", "small"], large: ["大格", "large"] };
const POLL_MS = 1000;

export class HandoutLocker {
  // say(zh, en, kind): the view's message line; update(case): the case as the hall now has it (the view redraws)
  constructor({ say, update }) {
    Object.assign(this, { say, update });
    this.info = { enabled: false, working: false };
    this.loading = new Map();       // case id → the load's answer (its compartment), while the door stands open
    this.timer = null;
    this.checking = false;
    this.again = false;
  }

  async refreshInfo() {
    try {
      this.info = await api("GET", "/lockers/info");
    } catch {
      this.info = { enabled: false, working: false };
    }
    return this.info;
  }

  // -- what the view shows ---------------------------------------------------------------------------------------
  // a decided case: the button (when the hall has lockers), or the open door being waited for
  part(c, busy) {
    const load = this.loading.get(c.id);
    if (load) return this.waiting(c, load, busy);
    if (!this.info.enabled) return null;
    const size = h("select", { id: "handout-locker-size", "data-test-id": "handout-locker-size" },
      h("option", { value: "" }, "小格优先 / small first"), h("option", { value: "large" }, "大格 / large"));
    const button = h("button", { type: "button", "data-test-id": "handout-locker" }, "存入智能柜 ", en("Load into a locker"));
    button.addEventListener("click", () => busy(() => this.load(c, size.value)));
    return h("div", { class: "case-print handout-locker", "data-test-id": "handout-locker-part" },
      h("p", { class: "print-title" }, "或存入智能柜，申请人凭短信取件码随时自助取件 ",
        en("or put it in a locker: the applicant collects it at any hour with the SMS's pickup code")),
      this.info.working ? null : h("p", { class: "print-result", "data-state": "error", "data-test-id": "handout-locker-offline" },
        "智能柜当前不在线，开门可能失败 ", en("the lockers are not working just now: opening may fail")),
      h("label", { for: "handout-locker-size" }, "格口大小 ", en("compartment size")), size, button);
  }

  waiting(c, load, busy) {
    const tried = (load.tried || []).map((t) => h("p", { class: "print-result", "data-state": "error", "data-test-id": "handout-locker-tried",
      "data-compartment": t.compartment },
      t.code === "not_opened"
        ? [`${t.compartment} 号格口柜门打不开，已停用并报修，改用 ${load.compartment} 号格口 `,
          en(`compartment ${t.compartment} would not open: out of service and reported; ${load.compartment} is used instead`)]
        : [`${t.compartment} 号格口未能打开（${t.message_zh}），改用 ${load.compartment} 号格口 `,
          en(`compartment ${t.compartment} did not open (${t.message_en}); ${load.compartment} is used instead`)]));
    const cancel = h("button", { type: "button", "data-test-id": "handout-locker-cancel" }, "取消装柜 ", en("Give up the load"));
    cancel.addEventListener("click", () => busy(() => this.cancel(c, load)));
    return h("div", { class: "case-print handout-locker", "data-test-id": "handout-locker-state", "data-state": "loading",
      "data-compartment": load.compartment, role: "status" },
      h("p", { class: "print-title", "data-test-id": "handout-locker-compartment" },
        `${load.compartment} 号格口（${SIZE[load.size][0]}）已打开 `, en(`compartment ${load.compartment} (${SIZE[load.size][1]}) is open`)),
      ...tried,
      h("p", { class: "print-result", "data-test-id": "handout-locker-wait" },
        "请放入材料并关好柜门：正在等待柜门关好，关门后系统自动发送取件码短信… ",
        en("put the result in and shut the door: waiting for it to be shut; the pickup code is sent by SMS then…")),
      cancel);
  }

  // a result in a locker: where, and taking it back to the window
  held(c, busy) {
    const ho = c.handout || {};
    const back = h("button", { type: "button", "data-test-id": "handout-locker-take-back" }, "取回到窗口 ", en("Take it back to the window"));
    back.addEventListener("click", () => busy(() => this.takeBack(c, ho.compartment)));
    return h("div", { class: "subform" },
      h("p", { class: "case-note", "data-test-id": "handout-locker-note" },
        `已存入智能柜 ${ho.compartment} 号格口${ho.size ? `（${SIZE[ho.size][0]}）` : ""}，取件码已短信发送给申请人；`
        + "申请人可凭取件码或刷身份证在自助机取件 ",
        en(`in locker compartment ${ho.compartment}; the pickup code went to the applicant by SMS, who collects it at the kiosk with the code or their ID card`)),
      h("div", { class: "dialog-buttons" }, back));
  }

  // -- what the buttons do -----------------------------------------------------------------------------------------
  async load(c, size) {
    const after = await api("POST", `/cases/${c.id}/locker`, size ? { size } : undefined);
    this.loading.set(c.id, after.locker);
    this.update(after);
    const t = after.locker.tried || [];
    this.say(after.locker.message_zh + (t.length ? `（已跳过 ${t.map((x) => x.compartment).join("、")} 号格口）` : ""),
      after.locker.message_en, "info");
    this.watch();
  }

  async cancel(c, load) {
    this.loading.delete(c.id);            // no longer waited for: a read under way leaves it alone (check())
    try {
      await api("POST", `/lockers/compartments/${encodeURIComponent(load.compartment)}/cancel`);
    } catch (e) {
      this.loading.set(c.id, load);
      this.watch();
      throw e;
    }
    this.update(await api("GET", `/cases/${c.id}`));
    this.say(`已取消装柜：请取出材料并关好 ${load.compartment} 号空柜门`, `load given up: take the result out and shut compartment ${load.compartment} empty`, "info");
  }

  async takeBack(c, label) {
    await api("POST", `/lockers/compartments/${encodeURIComponent(label)}/take-back`);
    this.update(await api("GET", `/cases/${c.id}`));
    this.say(`${label} 号格口已打开：请取出材料并关好柜门，办件转为窗口领取`, `compartment ${label} is open: take the result out and shut the door; it is collected at the window now`, "info");
  }

  // -- waiting for the door ------------------------------------------------------------------------------------------
  watch() {
    if (this.timer || !this.loading.size) return;
    this.timer = setTimeout(() => { this.timer = null; this.check(); }, POLL_MS);
  }

  onEvent(e) {            // a locker.* or case.* event of a case being loaded: read it now
    const id = (e.data || {}).case;
    if ((e.type.startsWith("locker.") || e.type.startsWith("case.")) && this.loading.has(id)) {
      clearTimeout(this.timer);
      this.timer = null;
      this.check();
    }
  }

  async check() {
    if (this.checking) { this.again = true; return; }      // one read at a time: the one under way reads again
    this.checking = true;
    try {
      do {
        this.again = false;
        await this.checkOnce();
      } while (this.again);
    } finally {
      this.checking = false;
    }
    this.watch();
  }

  async checkOnce() {
    for (const [id, load] of [...this.loading]) {
      let c;
      try {
        c = await api("GET", `/cases/${id}`);
      } catch {
        continue;             // the hall restarting: read again at the next round
      }
      if (this.loading.get(id) !== load) continue;       // given up (or loaded again) while it was read
      if (c.status === "decided") {
        const comp = await this.compartment(load.compartment);
        if (this.loading.get(id) !== load) continue;
        if (!comp || comp.state === "loading" || (comp.case && comp.case.id === id)) continue;
        this.loading.delete(id);          // no longer loading it (cancelled elsewhere, or set aside for staff)
        this.update(c);
        this.say(`${load.compartment} 号格口未完成装柜（${comp.state_zh}），办件仍为已办结：请核对`,
          `compartment ${load.compartment} did not take the result (${comp.state}); the case is still decided: check it`);
        continue;
      }
      this.loading.delete(id);
      this.update(c);
      const ho = c.handout || {};
      if (c.status === "ready" && ho.via === "locker") {
        this.say(`柜门已关好：办件已存入 ${ho.compartment} 号格口，取件码已短信发送给申请人`,
          `the door is shut: the result is in compartment ${ho.compartment}, and the pickup code goes to the applicant by SMS`, "info");
      }
    }
  }

  async compartment(label) {
    try {
      return (await api("GET", "/lockers")).compartments.find((x) => x.compartment === label) || null;
    } catch {
      return { state: "loading" };        // cannot tell: keep waiting
    }
  }
}
