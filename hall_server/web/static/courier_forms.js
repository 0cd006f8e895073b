// The 快递签收 tab's dialog (courier.js): sign a parcel in, attach it to a case (found by its number, or the
// applicant's name or phone), open a case from it (channel courier: the matter, the applicant — the sender by
// default — and the checklist as at the intake dialog), and sort it to a department. One <dialog>, built here,
// whose body is the form of the step at hand; the API's refusals are shown in it, Chinese first.

import { api, en, h } from "./terminal_api.js";
import { STATUS, departmentsOf, explain, matterFacts, pickedStates, statePicker, words } from "./case_words.js";

const FINAL = ["refused", "delivered", "withdrawn"];
const $ = (id) => document.querySelector(`[data-test-id="${id}"]`);
// the register's fields (422 invalid_parcel names them) → the input to put the cursor in
const INPUT = { courier: "parcel-courier", waybill: "parcel-waybill", sender_name: "parcel-sender-name",
  sender_phone: "parcel-sender-phone", contents: "parcel-contents", matter: "parcel-open-search",
  "applicant.name": "parcel-applicant-name", "applicant.id_number": "parcel-applicant-id" };

function field(id, zh, enText, attrs = {}, required = false) {
  return [h("label", { for: id }, zh, " ", en(enText), required ? h("span", { class: "req" }, " *") : null),
    h("input", { id, "data-test-id": id, autocomplete: "off", ...attrs })];
}

function buttons(...list) {
  return h("div", { class: "dialog-buttons" }, ...list);
}

export class ParcelDialog {
  // desk: courier.js's ParcelDesk (its hall, options and lists; changed(parcel) after each step)
  constructor(desk) {
    this.desk = desk;
    this.p = null;
    this.el = h("dialog", { class: "dialog intake parcel-dialog", "data-test-id": "parcel-dialog",
      "aria-labelledby": "parcel-title" },
    h("header", { class: "intake-head" },
      h("h2", { id: "parcel-title", "data-test-id": "parcel-title" }),
      h("p", { class: "intake-ticket", "data-test-id": "parcel-ref" }),
      h("button", { type: "button", class: "intake-close", "data-test-id": "parcel-close", "aria-label": "关闭 Close" },
        "×")),
    h("div", { class: "intake-message", "data-test-id": "parcel-error", role: "alert", hidden: true },
      h("p", { class: "intake-message-zh", "data-test-id": "parcel-error-zh" }),
      h("p", { class: "en", "data-test-id": "parcel-error-en" })),
    h("div", { class: "parcel-body", "data-test-id": "parcel-body" }));
    document.body.append(this.el);
    this.el.querySelector('[data-test-id="parcel-close"]').addEventListener("click", () => this.close());
  }

  say(zh, enText = "", kind = "error") {
    const box = $("parcel-error");
    box.dataset.kind = kind;
    $("parcel-error-zh").textContent = zh;
    $("parcel-error-en").textContent = enText;
    box.hidden = false;
  }

  quiet() { $("parcel-error").hidden = true; }

  close() { if (this.el.open) this.el.close(); }

  open(title, ref, body, focus) {
    this.quiet();
    $("parcel-title").replaceChildren(...title);
    $("parcel-ref").replaceChildren(...ref);
    $("parcel-body").replaceChildren(body);
    if (!this.el.open) this.el.showModal();
    if (focus) $(focus).focus();
  }

  ref(p) {
    return [`${p.courier} ${p.waybill}`, " ", en(`parcel ${p.id}`)];
  }

  failed(e) {
    this.say(...explain(e));
    const fields = (e.details && e.details.fields) || [];
    const first = fields.length ? fields[0].field : e.details && e.details.field;
    if (first && INPUT[first] && $(INPUT[first])) $(INPUT[first]).focus();
  }

  async send(button, run) {
    this.quiet();
    button.disabled = true;
    try {
      return await run();
    } catch (e) {
      this.failed(e);
      return null;
    } finally {
      button.disabled = false;
    }
  }

  // -- sign in ------------------------------------------------------------------------------------------
  register() {
    const couriers = h("datalist", { id: "parcel-couriers" },
      ...this.desk.options.couriers.map((c) => h("option", { value: c })));
    const matters = h("select", { id: "parcel-matter", "data-test-id": "parcel-matter" },
      h("option", { value: "" }, "暂不确定 · not known yet"),
      ...this.desk.matters().map((m) => h("option", { value: m.code }, `${m.name}（${m.code}）`)));
    const submit = h("button", { type: "submit", class: "primary", "data-test-id": "parcel-register" },
      "签收登记 ", en("Sign in"));
    const form = h("form", { class: "intake-form", "data-test-id": "parcel-form", novalidate: true },
      h("div", { class: "intake-cols" },
        h("fieldset", {}, h("legend", {}, "快递 ", en("Parcel")),
          ...field("parcel-courier", "快递公司", "Courier", { list: "parcel-couriers", maxlength: "40" }, true), couriers,
          ...field("parcel-waybill", "运单号", "Waybill number", { maxlength: "40", spellcheck: "false",
            autocapitalize: "characters", placeholder: "见快递面单 on the label" }, true),
          ...field("parcel-contents", "内件", "Contents", { maxlength: "200", placeholder: "如：申请材料一套" }, true)),
        h("fieldset", {}, h("legend", {}, "寄件人 ", en("Sender")),
          ...field("parcel-sender-name", "姓名或单位", "Name", { maxlength: "40" }, true),
          ...field("parcel-sender-phone", "电话", "Phone", { maxlength: "20", inputmode: "tel" }, true),
          h("label", { for: "parcel-matter" }, "申请事项 ", en("Matter")), matters,
          ...field("parcel-case", "已有办件编号", "Case number, if any", { maxlength: "40", spellcheck: "false",
            placeholder: "如 XL-20261203-0012" }))),
      buttons(h("button", { type: "button", "data-test-id": "parcel-cancel" }, "取消 ", en("Cancel")), submit));
    form.querySelector('[data-test-id="parcel-cancel"]').addEventListener("click", () => this.close());
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const v = (id) => $(id).value.trim();
      const body = { courier: v("parcel-courier"), waybill: v("parcel-waybill"), sender_name: v("parcel-sender-name"),
        sender_phone: v("parcel-sender-phone"), contents: v("parcel-contents") };
      if (v("parcel-matter")) body.matter = v("parcel-matter");
      if (v("parcel-case")) body.case = v("parcel-case");
      this.send(submit, async () => {
        const p = await api("POST", "/parcels", body);
        this.desk.changed(p);
        this.next(p, p.case ? [`已签收 ${p.waybill}，并关联办件 ${p.case.number}`, `signed in, attached to ${p.case.number}`]
          : [`已签收 ${p.waybill}（登记号 ${p.id}）`, `signed in as parcel ${p.id}`]);
      });
    });
    this.open(["快递签收登记 ", en("Sign a parcel in")], [], form, "parcel-courier");
  }

  // after a step: what was done, and the parcel's next steps
  next(p, said) {
    this.p = p;
    const steps = [];
    if (!p.case) {
      steps.push(this.stepButton("parcel-next-attach", "关联已有办件", "Attach to a case", () => this.attach(p)));
      steps.push(this.stepButton("parcel-next-open", "登记为新办件", "Open a case", () => this.openCase(p)));
    }
    steps.push(this.stepButton("parcel-next-sort", p.department ? "改分拣部门" : "分拣", p.department ? "Sort again" : "Sort",
      () => this.sort(p)));
    const view = h("div", { class: "intake-form parcel-done", "data-test-id": "parcel-done", "data-status": p.status },
      this.summary(p), buttons(...steps, h("button", { type: "button", "data-test-id": "parcel-done-close" },
        "完成 ", en("Done"))));
    view.querySelector('[data-test-id="parcel-done-close"]').addEventListener("click", () => this.close());
    this.open(["快递 ", en("Parcel")], this.ref(p), view);
    this.say(said[0], said[1], "info");
  }

  stepButton(id, zh, enText, run) {
    const b = h("button", { type: "button", "data-test-id": id }, zh, " ", en(enText));
    b.addEventListener("click", run);
    return b;
  }

  summary(p) {
    return h("dl", { class: "parcel-facts", "data-test-id": "parcel-facts" },
      h("div", {}, h("dt", {}, "寄件人 ", en("sender")), h("dd", {}, `${p.sender.name} ${p.sender.phone_masked}`)),
      h("div", {}, h("dt", {}, "内件 ", en("contents")), h("dd", {}, p.contents)),
      h("div", {}, h("dt", {}, "办件 ", en("case")), h("dd", { "data-test-id": "parcel-case-number" },
        p.case ? `${p.case.number} · ${p.case.matter_name}` : "未关联 not attached")),
      h("div", {}, h("dt", {}, "分拣 ", en("sorted to")), h("dd", { "data-test-id": "parcel-department" },
        p.department || "未分拣 not sorted")));
  }

  // -- attach to a case -------------------------------------------------------------------------------------
  attach(p) {
    const found = h("ul", { class: "case-list", "data-test-id": "parcel-attach-found" });
    const find = h("button", { type: "submit", class: "primary", "data-test-id": "parcel-attach-find" }, "查找 ", en("Find"));
    const form = h("form", { class: "intake-form", "data-test-id": "parcel-attach-form", role: "search", novalidate: true },
      ...field("parcel-attach-q", "办件编号、申请人姓名或电话", "Case number, applicant's name or phone",
        { type: "search", maxlength: "60", spellcheck: "false", placeholder: "如 XL-20261203-0012" }),
      buttons(h("button", { type: "button", "data-test-id": "parcel-attach-cancel" }, "取消 ", en("Cancel")), find),
      found);
    form.querySelector('[data-test-id="parcel-attach-cancel"]').addEventListener("click", () => this.close());
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const q = $("parcel-attach-q").value.trim();
      if (!q) { this.say("请输入办件编号、申请人姓名或电话", "type a case number, or the applicant's name or phone"); return; }
      this.send(find, async () => {
        const r = await api("GET", `/cases?q=${encodeURIComponent(q)}&limit=20`);
        found.replaceChildren(...(r.cases.length ? r.cases.map((c) => this.caseChoice(p, c))
          : [h("li", { class: "empty" }, `没有找到“${q}”`, " ", en("no case found"))]));
      });
    });
    this.open(["关联到办件 ", en("Attach to a case")], this.ref(p), form, "parcel-attach-q");
  }

  caseChoice(p, c) {
    const final = FINAL.includes(c.status);
    const b = h("button", { type: "button", class: "case-row", "data-test-id": "parcel-attach-to", "data-number": c.number,
      "data-status": c.status },
    h("span", { class: "case-row-number" }, c.number), h("span", { class: "case-row-matter" }, c.matter_name),
    h("span", { class: `case-row-status status-${c.status}` }, ...words(STATUS[c.status], c.status)),
    h("span", { class: "case-row-when" }, final ? "已终结，不能再关联 final: takes no more materials"
      : `申请人 ${c.applicant.name} · 关联到此办件 attach here`));
    b.addEventListener("click", () => this.send(b, async () => {
      const got = await api("POST", `/parcels/${p.id}/attach`, { case: c.id });
      this.desk.changed(got);
      this.next(got, [`已关联办件 ${c.number}，材料到达已记入办件`, `attached to ${c.number}: the arrival is in its history`]);
    }));
    return h("li", {}, b);
  }

  // -- open a case from the parcel ---------------------------------------------------------------------------
  openCase(p) {
    const pick = h("select", { id: "parcel-open-matter", "data-test-id": "parcel-open-matter", size: "5",
      "aria-label": "事项 Matter" });
    const search = h("input", { id: "parcel-open-search", type: "search", "data-test-id": "parcel-open-search",
      autocomplete: "off", placeholder: "搜索事项名称或编码 search name or code" });
    const facts = h("p", { class: "intake-facts", "data-test-id": "parcel-open-facts" });
    const items = h("div", { class: "items", "data-test-id": "parcel-open-items" });
    const sender = h("input", { type: "checkbox", "data-test-id": "parcel-open-sender", checked: true });
    const people = h("div", { "data-test-id": "parcel-open-people", hidden: true },
      ...field("parcel-applicant-name", "申请人姓名", "Applicant's name", { maxlength: "40" }, true),
      ...field("parcel-applicant-phone", "申请人电话", "Applicant's phone", { maxlength: "20", inputmode: "tel" }));
    const draw = () => {
      const m = this.desk.matters().find((x) => x.code === pick.value);
      facts.textContent = m ? matterFacts(m) : "没有符合的事项 no matter matches";
      const optional = new Set(m ? m.optional || [] : []);
      items.replaceChildren(...(m ? m.materials : []).map((name, i) =>
        statePicker("parcel-item", i, name, !optional.has(name), "missing")));
    };
    const fill = () => {
      const q = search.value.trim().toLowerCase();
      const keep = pick.value || p.matter;
      const shown = this.desk.matters().filter((m) => !q || m.code.toLowerCase().includes(q) || m.name.includes(q));
      pick.replaceChildren(...shown.map((m) => h("option", { value: m.code }, `${m.name}（${m.code}）· ${m.kind}件`)));
      if (keep && shown.some((m) => m.code === keep)) pick.value = keep;
      else if (shown.length) pick.value = shown[0].code;
      draw();
    };
    const submit = h("button", { type: "submit", class: "primary", "data-test-id": "parcel-open-submit" },
      "登记办件 ", en("Register the case"));
    const allOriginal = h("button", { type: "button", class: "small-button", "data-test-id": "parcel-open-all-original" },
      "全部原件 ", en("all originals"));
    const form = h("form", { class: "intake-form", "data-test-id": "parcel-open-form", novalidate: true },
      h("div", { class: "intake-cols" },
        h("fieldset", { class: "intake-matter" }, h("legend", {}, "事项 ", en("Matter")),
          h("label", { for: "parcel-open-search", class: "visually-hidden" }, "搜索事项 Search matters"), search, pick, facts),
        h("fieldset", {}, h("legend", {}, "申请人 ", en("Applicant")),
          h("label", { class: "choice" }, sender, ` 寄件人即申请人（${p.sender.name} ${p.sender.phone_masked}）`, " ",
            en("the sender applies")),
          people,
          ...field("parcel-applicant-id", "身份证号", "ID number", { maxlength: "18", spellcheck: "false" }))),
      h("fieldset", { class: "intake-checklist" }, h("legend", {}, "收到的材料 ", en("Materials in the parcel")),
        allOriginal, items),
      buttons(h("button", { type: "button", "data-test-id": "parcel-open-cancel" }, "取消 ", en("Cancel")), submit));
    search.addEventListener("input", fill);
    pick.addEventListener("change", draw);
    sender.addEventListener("change", () => { people.hidden = sender.checked; });
    allOriginal.addEventListener("click", () => {
      for (const f of items.querySelectorAll("fieldset.item")) f.querySelector('input[value="original"]').checked = true;
    });
    form.querySelector('[data-test-id="parcel-open-cancel"]').addEventListener("click", () => this.close());
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      if (!pick.value) { this.say("请选择事项", "choose the matter"); search.focus(); return; }
      const applicant = {};
      if (!sender.checked) {
        applicant.name = $("parcel-applicant-name").value.trim();
        const phone = $("parcel-applicant-phone").value.trim();
        if (phone) applicant.phone = phone;
      }
      const idNumber = $("parcel-applicant-id").value.replace(/\s+/g, "").toUpperCase();
      if (idNumber) applicant.id_number = idNumber;
      const body = { matter: pick.value, applicant, applicant_is_sender: sender.checked, materials: pickedStates(items) };
      this.send(submit, async () => {
        const r = await api("POST", `/parcels/${p.id}/open-case`, body);
        $("parcel-applicant-id").value = "";
        this.desk.changed(r.parcel);
        this.opened(r.parcel, r.case);
      });
    });
    this.open(["登记为新办件 ", en("Open a case")], this.ref(p), form, "parcel-open-search");
    fill();
  }

  opened(p, c) {
    this.next(p, [`已登记办件 ${c.number}（邮寄收件）${c.missing.length ? `，尚缺 ${c.missing.length} 项必备材料` : "，材料齐全"}`,
      `case ${c.number} registered (by courier)${c.missing.length ? `; ${c.missing.length} required item(s) missing` : ""}`]);
    const show = this.stepButton("parcel-show-case", `查看办件 ${c.number}`, "Show the case", () => {
      this.close();
      $("tab-cases").click();
      $("cases-q").value = c.number;
      $("cases-search").requestSubmit();
    });
    show.classList.add("primary");
    $("parcel-done").querySelector(".dialog-buttons").prepend(show);
    $("parcel-done").prepend(h("p", { class: "case-number", "data-test-id": "parcel-opened-number" }, c.number));
  }

  // -- sort to a department ----------------------------------------------------------------------------------
  sort(p) {
    const deps = this.desk.options.departments;
    const m = this.desk.matters().find((x) => x.code === p.matter);
    const suggested = p.department || (p.case && p.case.departments[0]) || (m && departmentsOf(m)[0]) || "";
    const pick = h("select", { id: "parcel-sort-department", "data-test-id": "parcel-sort-department" },
      h("option", { value: "" }, "请选择 · choose"), ...deps.map((d) => h("option", { value: d }, d)));
    pick.value = deps.includes(suggested) ? suggested : "";
    const submit = h("button", { type: "submit", class: "primary", "data-test-id": "parcel-sort-submit" }, "分拣 ", en("Sort"));
    const form = h("form", { class: "intake-form", "data-test-id": "parcel-sort-form", novalidate: true },
      h("label", { for: "parcel-sort-department" }, "分拣到部门 ", en("Department")), pick,
      p.case ? h("p", { class: "intake-facts" }, `办件 ${p.case.number} 的审批部门：${p.case.departments.join("、")}`) : null,
      buttons(h("button", { type: "button", "data-test-id": "parcel-sort-cancel" }, "取消 ", en("Cancel")), submit));
    form.querySelector('[data-test-id="parcel-sort-cancel"]').addEventListener("click", () => this.close());
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      if (!pick.value) { this.say("请选择分拣部门", "choose the department"); pick.focus(); return; }
      this.send(submit, async () => {
        const got = await api("POST", `/parcels/${p.id}/sort`, { department: pick.value });
        this.desk.changed(got);
        this.next(got, [`已分拣至${got.department}`, `sorted to ${got.department}`]);
      });
    });
    this.open(["分拣 ", en("Sort")], this.ref(p), form, "parcel-sort-department");
  }
}
