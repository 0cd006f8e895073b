// The kiosk's self-service case query (办件查询): a citizen types the case number on the on-screen keypad,
// scans the QR code of a notice with the hand scanner, or swipes their ID card, and sees the status of their
// case(s) as the public status page shows it (no name, phone or ID number), with the QR code of that page for
// their phone. Everything goes through the kiosk program's POST /api/cases/lookup; kiosk.js owns the screens,
// the swipe, elder mode and the idle reset, and hands this module what it needs (`ui`). A result ready at the 出件
// window offers an 出件 ticket (POST /api/cases/handout-ticket), shown and printed as any ticket (ui.showTicket).
import { CASE_COLLECT, CASE_HANDOUT, CASE_MESSAGES, CASE_OUTCOME, CASE_STATUS } from "./kiosk-words.js";

const PER_PAGE = [4, 2];              // cases per page when a swipe finds several: [normal, elder]
const STEPS_SHOWN = [4, 2];           // the latest steps on the detail, [normal, elder] (the phone page has them all)
const INTERNAL = new Set(["released", "reassigned", "deadline"]);
const WEEK_ZH = ["周日", "周一", "周二", "周三", "周四", "周五", "周六"];
const WEEK_EN = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTH_EN = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const KEYS = [..."1234567890", ..."ABCDEFGHIJKLMNOPQRSTUVWXYZ", "-"];

export function caseQuery(ui) {
  const { $, h, bi, pair } = ui;
  const C = { cases: null, at: null, page: 0, asked: null, typedDone: false, busy: false };
  const input = () => $("case-input");
  const message = (code, vars = {}) => ({ code, message_zh: CASE_MESSAGES[code][0].replace("{q}", vars.q ?? ""),
    message_en: CASE_MESSAGES[code][1].replace("{q}", vars.q ?? "") });

  // -- dates in the hall's zone ----------------------------------------------------------------------------
  const zone = () => ui.state()?.hall?.timezone || "Asia/Shanghai";
  function dayWords(iso) {
    const m = /^(\d{4})-(\d\d)-(\d\d)/.exec(iso || "");
    if (!m) return null;
    const wd = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3])).getUTCDay();
    return [`${+m[1]}年${+m[2]}月${+m[3]}日（${WEEK_ZH[wd]}）`, `${WEEK_EN[wd]} ${+m[3]} ${MONTH_EN[+m[2] - 1]} ${m[1]}`];
  }
  function when(iso) {
    const p = {};
    try {
      for (const x of new Intl.DateTimeFormat("en-CA", { timeZone: zone(), year: "numeric", month: "2-digit", day: "2-digit",
        hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).formatToParts(new Date(iso))) p[x.type] = x.value;
    } catch (_) { return iso || ""; }
    return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
  }

  function stateWords(c) {
    const [zh, en] = (c.kind === "即办" && CASE_STATUS[`${c.status}_instant`]) || CASE_STATUS[c.status] || [c.status, c.status];
    const out = CASE_OUTCOME[c.outcome];
    return out && ["decided", "ready", "delivered"].includes(c.status) ? [`${zh}（${out[0]}）`, `${en} (${out[1]})`] : [zh, en];
  }

  // -- the keypad: digits, the letters of a case number, the dash --------------------------------------------
  function buildKeypad() {
    const keys = KEYS.map((k) => h("button", { type: "button", class: "btn key", "data-test-id": `case-key-${k}`,
      "aria-label": k === "-" ? "横杠 dash" : null, on: () => type(k) }, k));
    keys.push(h("button", { type: "button", class: "btn key fn", "data-test-id": "case-key-back", on: () => type("back") },
      bi("退格", "Delete")));
    keys.push(h("button", { type: "button", class: "btn key fn wide", "data-test-id": "case-key-clear", on: () => type("clear") },
      bi("清空", "Clear")));
    $("case-keypad").replaceChildren(...keys);
  }

  function type(key) {
    const field = input();
    if (C.typedDone) { field.value = ""; C.typedDone = false; }
    if (key === "back") field.value = field.value.slice(0, -1);
    else if (key === "clear") field.value = "";
    else field.value += key;
    field.dispatchEvent(new Event("input", { bubbles: true }));
  }

  // -- asking the kiosk program ------------------------------------------------------------------------------
  async function ask(body) {
    if (C.busy) return;
    ui.hideError();
    if (!body.swipe && !(body.q || "").trim()) { ui.showError(message("case_lookup_empty")); return; }
    C.busy = true;
    C.asked = body;
    $("case-submit").setAttribute("aria-busy", "true");
    try {
      const res = await ui.api("POST", "/api/cases/lookup", body);
      C.cases = res.cases || [];
      C.page = 0;
      C.at = C.cases.length === 1 ? 0 : null;
      if (!C.cases.length) {
        C.cases = null;
        C.typedDone = !body.swipe;
        const err = body.swipe ? message("none_swipe") : message("none_number", { q: body.q.trim().toUpperCase() });
        ui.showError(err);
        ui.live(err.message_zh);
        ui.speak(err.message_zh);
      }
    } catch (err) {
      if (err.code === "swipe_not_found" || err.code === "swipe_expired") ui.endSwipe();
      ui.showError(err);
      ui.live(err.message_zh);
    } finally {
      C.busy = false;
      $("case-submit").removeAttribute("aria-busy");
    }
    render({ announce: true });
  }

  // -- what the screen shows ---------------------------------------------------------------------------------
  function render({ announce = false } = {}) {
    const result = $("case-result");
    const asking = !C.cases;
    $("case-ask").hidden = !asking;
    result.hidden = asking;
    if (asking) return result.replaceChildren();
    if (C.at === null) renderList(result, announce); else renderDetail(result, C.cases[C.at], announce);
  }

  function renderList(out, announce) {
    const per = PER_PAGE[ui.elder() ? 1 : 0];
    const pages = Math.max(1, Math.ceil(C.cases.length / per));
    C.page = Math.min(Math.max(0, C.page), pages - 1);
    const rows = C.cases.slice(C.page * per, (C.page + 1) * per).map((c, i) => {
      const at = C.page * per + i;
      return h("li", {}, h("button", { type: "button", class: "row", "data-test-id": `case-row-${c.number}`,
        on: () => { C.at = at; render({ announce: true }); } },
      h("span", { class: "name" }, bi(c.matter_name, c.matter_name_en)),
      h("span", { class: "meta" }, h("span", { class: "case-no-small" }, c.number),
        pair("span", { class: "kind", "data-status": c.status }, stateWords(c))),
      h("span", { class: "go", "aria-hidden": "true" }, "›")));
    });
    const n = C.cases.length;
    out.replaceChildren(
      pair("h3", { class: "case-found", "data-test-id": "case-found" }, [`找到 ${n} 件办件，请选择`, `${n} cases found: choose one`]),
      h("ul", { class: "rows case-rows", "data-test-id": "case-rows" }, rows),
      pages > 1 ? h("div", { class: "pager" },
        h("button", { type: "button", class: "btn", "data-test-id": "case-prev", disabled: C.page === 0,
          on: () => { C.page -= 1; render(); } }, bi("上一页", "Previous")),
        h("span", { class: "page-no" }, `${C.page + 1} / ${pages}`),
        h("button", { type: "button", class: "btn", "data-test-id": "case-next", disabled: C.page >= pages - 1,
          on: () => { C.page += 1; render(); } }, bi("下一页", "Next"))) : "",
      h("div", { class: "actions" }, againButton()));
    if (announce) { ui.live(`找到 ${n} 件办件`); ui.speak(`找到${n}件办件，请选择`); }
  }

  const againButton = () => h("button", { type: "button", class: "btn big", "data-test-id": "case-again", on: again },
    bi("重新查询", "New search"));

  function renderDetail(out, c, announce) {
    const words = stateWords(c);
    const info = [
      h("p", { class: "case-no", "data-test-id": "case-number" }, c.number),
      pair("p", { class: "case-matter", "data-test-id": "case-matter" }, [c.matter_name, c.matter_name_en]),
      pair("p", { class: "case-state", "data-test-id": "case-state", "data-status": c.status }, words),
    ];
    if (c.status === "supplement" && (c.missing || []).length) {
      info.push(h("div", { class: "case-missing", "data-test-id": "case-missing" },
        pair("h3", {}, ["请补齐以下材料", "Please bring these missing items"]),
        h("ul", {}, c.missing.map((m) => h("li", {}, m)))));
    }
    if (c.status === "ready" && CASE_HANDOUT[c.via]) info.push(pair("p", { class: "case-handout" }, CASE_HANDOUT[c.via]));
    const due = !["refused", "withdrawn"].includes(c.status) && dayWords(c.due);
    if (due) {
      info.push(h("p", { class: "case-due", "data-test-id": "case-due" }, bi(`承诺办结日期：${due[0]}`, `Promised by ${due[1]}`)));
    }
    const steps = (c.steps || []).filter((s) => !INTERNAL.has(s.step));
    const latest = steps.slice(-STEPS_SHOWN[ui.elder() ? 1 : 0]);
    info.push(h("ol", { class: "case-steps", "data-test-id": "case-steps" },
      latest.map((s) => h("li", { "data-step": s.step },
        h("span", { class: "step" }, bi(s.name, s.name_en)),
        h("span", { class: "when" }, when(s.at) + (s.department ? ` · ${s.department}` : ""))))));
    const qr = h("div", { class: "qr", "data-test-id": "case-qr", role: "img",
      "aria-label": "扫码在手机上查看办件进度 / scan to follow this case on your phone" });
    qr.innerHTML = c.qr_svg || "";
    qr.querySelectorAll("svg").forEach((svg) => { svg.setAttribute("aria-hidden", "true"); svg.setAttribute("focusable", "false"); });
    const side = [qr, pair("p", { class: "qr-caption" }, ["扫码在手机上查看办件进度", "Scan to follow this case on your phone"])];
    if (C.cases.length > 1) {
      side.push(h("button", { type: "button", class: "btn", "data-test-id": "case-list", on: () => { C.at = null; render(); } },
        bi("我的全部办件", "All my cases")));
    }
    const collect = c.status === "ready" && c.via === "window";
    if (collect) {
      side.unshift(h("button", { type: "button", class: "btn big primary", "data-test-id": "case-take-ticket",
        on: () => takeTicket(c) }, bi(...CASE_COLLECT.take)), pair("p", { class: "qr-caption" }, CASE_COLLECT.hint));
    }
    side.push(againButton(), h("button", { type: "button", class: collect ? "btn" : "btn primary", "data-test-id": "case-done",
      on: ui.resetAll }, bi("完成", "Done")));
    out.replaceChildren(h("div", { class: "case-detail", "data-test-id": "case-detail", "data-status": c.status },
      // focusable: in elder mode a long case may scroll, and a keyboard must reach it too
      h("div", { class: "case-info", tabindex: "0", role: "region", "aria-label": `办件 ${c.number}` }, info),
      h("div", { class: "case-side" }, side)));
    if (announce) {
      ui.live(`${c.number} ${words[0]}`);
      ui.speak(`${c.matter_name}，${words[0]}`);
    }
  }

  // 出件: a ticket to collect the result at the 出件 window — by the swipe when the case was found by one (all the
  // applicant's ready results on one ticket), else by its number
  async function takeTicket(c) {
    if (C.busy) return;
    C.busy = true;
    ui.hideError();
    const button = $("case-take-ticket");
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    try {
      const swipe = C.asked && C.asked.swipe;
      const res = await ui.api("POST", "/api/cases/handout-ticket", { number: c.number, ...(swipe ? { swipe } : {}) });
      if (swipe) ui.endSwipe();
      C.busy = false;
      ui.showTicket(res);
    } catch (err) {
      ui.showError(err);
      ui.live(err.message_zh);
      ui.speak(err.message_zh);
    } finally {
      C.busy = false;
      if (button.isConnected) { button.disabled = false; button.removeAttribute("aria-busy"); }
    }
  }

  // -- moving about --------------------------------------------------------------------------------------------
  function again() {
    C.cases = null;
    C.at = null;
    C.typedDone = true;          // the next key starts a new number
    ui.hideError();
    render();
    input().focus();
  }

  function reset() {
    C.cases = null;
    C.at = null;
    C.page = 0;
    C.asked = null;
    C.typedDone = false;
    input().value = "";
    render();
  }

  // kiosk.js asks first when its back button is pressed: true when the case screen went back a step itself
  function back() {
    if (!C.cases) return false;
    if (C.at !== null && C.cases.length > 1) C.at = null; else again();
    render();
    return true;
  }

  function open(text) {
    reset();
    ui.show("cases");
    if (text) { input().value = text; ask({ q: text }); } else if (ui.swipe()) bySwipe(ui.swipe()); else input().focus();
  }

  const bySwipe = (swipe) => { if (swipe?.id) ask({ swipe: swipe.id }); };

  function wire() {
    buildKeypad();
    $("case-form").addEventListener("submit", (e) => { e.preventDefault(); ask({ q: input().value }); });
    input().addEventListener("keydown", (e) => {
      if (C.typedDone && e.key.length === 1) { e.target.value = ""; C.typedDone = false; }
    });
  }

  return { wire, open, render, back, reset, bySwipe };
}
