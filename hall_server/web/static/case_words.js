// What the window terminal calls a case's statuses, department tasks, material states, channels and kinds
// (Chinese, English), and the pieces of a case every part of the intake shows: the material-state picker,
// the matter's facts, dates. An ES module, shared by intake.js, case_panel.js and window_cases.js.

import { ApiError, en, h } from "./terminal_api.js";

export const STATUS = {
  received: ["已收件", "received"], supplement: ["待补正", "waiting for materials"], accepted: ["已受理", "accepted"],
  refused: ["不予受理", "refused"], in_review: ["审查中", "under review"], suspended: ["暂停计时", "clock stopped"],
  decided: ["已办结", "decided"], ready: ["待取件", "ready to collect"], delivered: ["已出件", "handed out"],
  withdrawn: ["已撤回", "withdrawn"],
};
export const TASK = { open: ["待认领", "not claimed yet"], claimed: ["审查中", "claimed"],
  decided: ["已决定", "decided"], closed: ["已关闭", "closed"] };
export const OUTCOME = { approved: ["准予", "approved"], rejected: ["不予批准", "rejected"] };
export const MATERIAL = { original: ["原件", "original"], copy: ["复印件", "copy"], electronic: ["电子", "electronic"],
  missing: ["缺", "missing"], "n/a": ["不适用", "n/a"] };
export const MATERIAL_STATES = ["original", "copy", "electronic", "missing", "n/a"];
export const PRESENT = ["original", "copy", "electronic"];
export const CHANNEL = { window: ["窗口收件", "at the window"], proxy: ["帮办代办", "assisted / by proxy"],
  courier: ["邮寄收件", "by post or courier"], cross_region: ["跨域代收", "for another region"] };
// which notice a case's status allows (hall_server/cases/notices.py says the same)
export const NOTICE = { acceptance: ["受理通知书", "acceptance notice"], supplement: ["一次性告知书", "notice of missing materials"],
  refusal: ["不予受理通知书", "notice of refusal"] };
const ACCEPTED = ["accepted", "in_review", "suspended", "decided", "ready", "delivered"];

export function noticeFor(c) {
  if (ACCEPTED.includes(c.status)) return "acceptance";
  if (c.status === "supplement") return "supplement";
  if (c.status === "refused") return "refusal";
  return null;
}

export const words = (pair, fallback = "") => (pair ? [pair[0], " ", en(pair[1])] : [fallback]);
export const testKey = (state) => (state === "n/a" ? "na" : state);

// The departments that decide a matter: each 联办 department, else its one department.
export function departmentsOf(m) {
  if (m.departments && m.departments.length) return [...m.departments];
  return m.department ? [m.department] : [];
}

// "承诺件 · 承诺 10 个工作日 · 区民政局" for a matter of GET /api/v1/hall.
export function matterFacts(m) {
  const parts = [`${m.kind}件`];
  parts.push(m.kind === "即办" ? "当场办结 decided on the spot" : `承诺 ${m.promised_days} 个工作日 ${m.promised_days} working days`);
  const deps = departmentsOf(m);
  if (deps.length) parts.push(`${m.kind === "联办" ? "联办部门" : "审批部门"}：${deps.join("、")}`);
  return parts.join(" · ");
}

const WEEKDAY = [["周日", "Sun"], ["周一", "Mon"], ["周二", "Tue"], ["周三", "Wed"], ["周四", "Thu"], ["周五", "Fri"],
  ["周六", "Sat"]];

// 2026-12-08 → "2026-12-08 周二 Tue"
export function dayText(iso) {
  if (!iso) return "—";
  const d = new Date(`${iso.slice(0, 10)}T00:00:00Z`);
  const w = WEEKDAY[d.getUTCDay()];
  return `${iso.slice(0, 10)} ${w[0]} ${w[1]}`;
}

// The calendar day of a UTC ISO time in the hall's time zone, YYYY-MM-DD.
export function localDay(iso, timeZone) {
  if (!iso) return "";
  const f = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" });
  return f.format(new Date(iso));
}

export function localTime(iso, timeZone) {
  if (!iso) return "";
  return new Intl.DateTimeFormat("zh-CN", { timeZone, hour: "2-digit", minute: "2-digit", hour12: false })
    .format(new Date(iso));
}

// One checklist item with its state picker: radios named `${prefix}-${i}`, test ids `${prefix}-${i}-${state}`;
// n/a only for an optional item.
export function statePicker(prefix, i, name, required, state) {
  const states = MATERIAL_STATES.filter((s) => s !== "n/a" || !required);
  return h("fieldset", { class: "item", "data-test-id": `${prefix}-${i}`, "data-name": name, "data-state": state },
    h("legend", {}, h("span", { class: "item-name" }, name), " ",
      required ? h("span", { class: "tag tag-required" }, "必备 ", en("required"))
        : h("span", { class: "tag tag-optional" }, "可选 ", en("optional"))),
    h("div", { class: "states" }, states.map((s) => h("label", { class: `state state-${testKey(s)}` },
      h("input", { type: "radio", name: `${prefix}-${i}`, value: s, checked: s === state,
        "data-test-id": `${prefix}-${i}-${testKey(s)}` }), " ", ...words(MATERIAL[s])))));
}

// The state chosen in each picker under `root`: [{name, state}].
export function pickedStates(root) {
  return [...root.querySelectorAll("fieldset.item")].map((f) => {
    const r = f.querySelector("input[type=radio]:checked");
    return { name: f.dataset.name, state: r ? r.value : "missing" };
  });
}

const FIELD = { "applicant.name": "申请人姓名", "applicant.phone": "申请人电话", "applicant.id_number": "申请人身份证号",
  "agent.name": "代办人姓名", "agent.phone": "代办人电话", "agent.id_number": "代办人身份证号", reason: "不予受理理由",
  note: "告知说明", opinion: "意见", missing: "需补正材料", materials: "材料" };

// An API error as the clerk reads it: 422 invalid_request names its fields in Chinese too.
export function explain(e) {
  if (!(e instanceof ApiError)) return [String(e), ""];
  if (e.code === "invalid_request" && Array.isArray(e.details.fields)) {
    const names = e.details.fields.map((f) => FIELD[f.field] || f.field);
    return [`请核对：${names.join("、")}`, e.en];
  }
  return [e.zh || e.en, e.en || ""];
}
