// The kiosk's words: every fixed sentence in Chinese and English, and how times, days and numbers are said.
// Kept apart from the page's logic so that wording can be reviewed (and translated) in one place.

const DIGITS = "零一二三四五六七八九";
const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const DAY_ZH = { mon: "周一", tue: "周二", wed: "周三", thu: "周四", fri: "周五", sat: "周六", sun: "周日" };
const DAY_EN = { mon: "Mon", tue: "Tue", wed: "Wed", thu: "Thu", fri: "Fri", sat: "Sat", sun: "Sun" };
export const KIND = { "即办": ["即办件：当场办结", "Done on the spot"], "承诺": ["承诺件：{n}个工作日内办结", "Within {n} working days"],
  "上报": ["上报件：需报上级审批", "Sent up for approval"], "联办": ["联办件：多部门联合办理", "Joint handling by several departments"] };
export const KIND_SHORT = { "即办": ["即办件", "On the spot"], "承诺": ["承诺件", "Promised"], "上报": ["上报件", "Sent up"],
  "联办": ["联办件", "Joint"] };
export const PRIORITY = { elderly: ["老年人优先", "Senior priority"], disabled: ["残疾人优先", "Disability priority"],
  veteran: ["军人优先", "Military priority"], pregnant: ["孕妇优先", "Pregnancy priority"], appointment: ["预约优先", "Appointment"] };
export const STATUS = { waiting: ["等候中", "Waiting"], called: ["请到 {w} 号窗口", "Please go to window {w}"],
  serving: ["办理中", "Being served"], done: ["已办结", "Done"], no_show: ["已过号", "Missed (no-show)"],
  cancelled: ["已取消", "Cancelled"], expired: ["已过期", "Expired"] };
export const MESSAGES = {
  server_unreachable: ["暂时无法连接服务器，请稍候或到服务台取号", "Cannot reach the server. Please wait a moment, or get a ticket at the service desk."],
  timeout: ["服务器响应超时，请稍后再试或到服务台取号", "The server did not answer in time. Please try again, or ask at the service desk."],
  unknown: ["出现问题，请到服务台咨询", "Something went wrong. Please ask at the service desk."],
  quota_exceeded: ["您今天已为这个事项取过2个号，请先办理已取的号，如有需要请到服务台咨询",
    "You already have 2 tickets for this service today. Please use them first, or ask at the service desk."],
  lookup_empty: ["请先输入号码，或扫描小票上的二维码", "Please type your number, or scan the QR code on your receipt."],
};
export const PROMPT = { home: "请选择您要办理的事项，或刷身份证", group: "请选择具体事项", search: "请输入事项名称，或拼音首字母",
  matter: "请核对所需材料，然后点击取号", lookup: "请扫描小票上的二维码，或输入您的号码", closed: "大厅已下班，您可以查询排队进度或办件进度",
  cases: "请输入受理通知书上的办件编号，或刷身份证" };
// A case (办件) as the self-service query shows it: its state, how it ended, how it is handed out.
export const CASE_STATUS = { received: ["已收件，等待受理", "Received, waiting to be accepted"],
  supplement: ["待补正：请补齐材料", "Waiting for missing materials"], accepted: ["已受理，等待部门审查", "Accepted, waiting for the department"],
  accepted_instant: ["已受理，窗口当场办理", "Accepted, being done at the window"],
  in_review: ["部门审查中", "Under review"], suspended: ["暂停计时（特别程序）", "Clock stopped (special procedure)"],
  decided: ["已办结", "Decided"], ready: ["已办结，待取件", "Ready to collect"], delivered: ["已出件", "Handed out"],
  refused: ["不予受理", "Not accepted"], withdrawn: ["已撤回", "Withdrawn"] };
export const CASE_OUTCOME = { approved: ["准予办理", "approved"], rejected: ["不予批准", "not approved"] };
export const CASE_HANDOUT = { window: ["请带上身份证和受理通知书到出件窗口领取", "Bring your ID card and the notice to the hand-out window"],
  mail: ["结果将邮寄给您", "The result will be posted to you"], locker: ["请到大厅智能柜取件", "Collect it from the hall's lockers"] };
// 出件: a ready case collected at the 出件 window takes a ticket of its own, called there ahead of new intake
export const CASE_COLLECT = { take: ["取号领取", "Take a ticket to collect"],
  hint: ["取号后请留意叫号，带上身份证和受理通知书到出件窗口领取", "Take a ticket, wait to be called, and bring your ID card and the notice"] };
export const CASE_MESSAGES = {
  case_lookup_empty: ["请输入受理通知书上的办件编号，或刷身份证", "Type the case number on your notice, or place your ID card on the reader."],
  none_number: ["没有找到办件 {q}，请核对受理通知书上的编号后重新输入", "No case {q}: check the number on your notice and type it again."],
  none_swipe: ["没有找到与您身份证关联的办件；如办件时未登记身份证号，请输入办件编号查询",
    "No case is linked to your ID card. If your ID number was not recorded, type the case number instead."],
};


// A ticket number as the voice reads it: the letter as a letter, each digit as a Chinese digit (S零零七).
export const spokenNumber = (num) => String(num).replace(/\d/g, (d) => DIGITS[d]);

// A zone's wall clock, whatever zone the browser is in: {y, m, d, H, M}.
export function clockIn(timeZone) {
  const parts = {};
  for (const p of new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).formatToParts(new Date())) parts[p.type] = +p.value;
  return { y: parts.year, m: parts.month, d: parts.day, H: parts.hour, M: parts.minute };
}

// When the hall next opens ("明天（周六）09:00"), from an ISO time in the hall's zone and the hall's clock now.
export function nextOpeningWords(iso, now) {
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)/.exec(iso || "");
  if (!m) return ["暂无安排", "Not scheduled"];
  const day = DAYS[(new Date(Date.UTC(+m[1], +m[2] - 1, +m[3])).getUTCDay() + 6) % 7];
  const diff = Math.round((Date.UTC(+m[1], +m[2] - 1, +m[3]) - Date.UTC(now.y, now.m - 1, now.d)) / 86400000);
  const time = `${m[4]}:${m[5]}`;
  if (diff === 0) return [`今天 ${time}`, `Today ${time}`];
  if (diff === 1) return [`明天（${DAY_ZH[day]}）${time}`, `Tomorrow (${DAY_EN[day]}) ${time}`];
  return [`${DAY_ZH[day]}（${+m[2]}月${+m[3]}日）${time}`, `${DAY_EN[day]} ${+m[3]}/${+m[2]} ${time}`];
}

// The week's hours in a line, days with the same hours joined ("周一至周五 08:30-17:30，周六 09:00-12:00，周日 休息").
export function weekWords(opening) {
  const runs = [];
  for (const d of DAYS) {
    const hours = (opening || {})[d] || null;
    const last = runs[runs.length - 1];
    if (last && last.hours === hours) last.to = d; else runs.push({ from: d, to: d, hours });
  }
  const span = (r, names, sep) => (r.from === r.to ? names[r.from] : names[r.from] + sep + names[r.to]);
  return [runs.map((r) => `${span(r, DAY_ZH, "至")} ${r.hours || "休息"}`).join("，"),
    runs.map((r) => `${span(r, DAY_EN, "–")} ${r.hours || "closed"}`).join(", ")];
}
