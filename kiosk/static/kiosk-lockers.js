// 24-hour self-service beyond tickets: collecting a result from the hall's lockers (自助取件) with the SMS's
// 6-digit pickup code or a swipe of the applicant's ID card, and printing a 受理通知书 again (kiosk-reprint.js).
// The kiosk program's /api/lockers/* and /api/notices/reprint ask the hall; kiosk.js owns the screens, the swipe,
// elder mode and the idle reset, and hands this module what it needs (`ui`). Both screens are built here, so the
// page's HTML only carries the buttons that open them.
import { reprintScreen } from "./kiosk-reprint.js";

export const LOCKER_SCREENS = ["lockers", "reprint"];
const POLL_MS = 800;
const INFO_MS = 60000;
const DONE_RETURN_S = 30;
const WORDS = {
  title: ["自助取件", "Locker pickup"],
  ask: ["请输入短信中的6位取件码", "Type the 6-digit pickup code from your SMS"],
  open: ["开柜取件", "Open"],
  swipeTitle: ["或刷申请人身份证", "Or use the applicant's ID card"],
  swipe: ["把申请人的身份证放在读卡区，柜门自动打开", "Place the applicant's ID card on the reader and the door opens"],
  where: ["请到 {c} 号格口取件", "Go to compartment {c}"],
  opening: ["正在开门……", "Opening the door…"],
  doorOpen: ["柜门已打开：请取出材料，并关好柜门", "The door is open: take your result out and shut the door"],
  unknown: ["暂时无法确认柜门状态：请关好柜门；如有问题请联系工作人员", "The locker does not answer just now: shut the door; if anything is wrong, ask the staff"],
  delivered: ["取件完成，谢谢！", "Collected. Thank you!"],
  failed: ["柜门未能打开，您的材料仍在柜内：请联系工作人员", "The door did not open and your result is still inside: please ask the staff"],
  done: ["完成", "Done"],
  back: ["{s} 秒后自动返回首页", "Back to the start in {s} s"],
  empty: ["请输入6位取件码", "Type the 6 digits of your pickup code"],
  self24: ["24小时自助服务：查询排队进度和办件进度、智能柜取件、补打受理通知书",
    "24-hour self-service: check your ticket or your case, collect from the lockers, print your acceptance notice again"],
  self24NoLockers: ["24小时自助服务：查询排队进度和办件进度、补打受理通知书",
    "24-hour self-service: check your ticket or your case, print your acceptance notice again"],
};
const fill = (s, vars) => s.replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ""));

export function lockerScreens(ui) {
  const { $, h, bi, pair } = ui;
  const L = { info: null, pickups: null, busy: false, poll: 0, doneAt: 0 };
  const reprint = reprintScreen(ui);
  const code = () => $("locker-code");

  // -- the screen ------------------------------------------------------------------------------------------------
  function build() {
    const keys = [..."123456789"].map(key);
    keys.push(h("button", { type: "button", class: "btn key fn", "data-test-id": "locker-key-back", on: () => type("back") },
      bi("退格", "Delete")), key("0"),
    h("button", { type: "button", class: "btn key fn", "data-test-id": "locker-key-clear", on: () => type("clear") },
      bi("清空", "Clear")));
    const section = h("section", { class: "screen lockers", "data-test-id": "screen-lockers", "aria-labelledby": "lockers-title", hidden: true },
      h("div", { class: "screen-head" }, pair("h2", { id: "lockers-title" }, WORDS.title)),
      h("div", { class: "cases-ask locker-ask", "data-test-id": "locker-ask" },
        h("form", { class: "lookup-form", "data-test-id": "locker-form", autocomplete: "off" },
          pair("label", { class: "field-label", for: "locker-code" }, WORDS.ask),
          h("div", { class: "lookup-row" },
            h("input", { id: "locker-code", class: "field locker-code", "data-test-id": "locker-code", type: "text",
              inputmode: "numeric", maxlength: "6", spellcheck: "false", autocomplete: "off" }),
            h("button", { type: "submit", class: "btn primary", "data-test-id": "locker-submit" }, bi(...WORDS.open))),
          h("div", { class: "keyboard locker-keypad", "data-test-id": "locker-keypad" }, keys)),
        h("div", { class: "case-swipe", "data-test-id": "locker-swipe-hint" },
          pair("p", { class: "case-swipe-title" }, WORDS.swipeTitle), pair("p", {}, WORDS.swipe))),
      h("div", { class: "locker-result", "data-test-id": "locker-result", "aria-live": "polite", hidden: true }));
    $("screen-closed").before(section, reprint.build());
  }

  function key(k) {
    return h("button", { type: "button", class: "btn key", "data-test-id": `locker-key-${k}`, on: () => type(k) }, k);
  }

  function type(k) {
    const field = code();
    if (k === "back") field.value = field.value.slice(0, -1);
    else if (k === "clear") field.value = "";
    else if (field.value.length < 6) field.value += k;
    field.dispatchEvent(new Event("input", { bubbles: true }));
  }

  // -- whether to offer it -----------------------------------------------------------------------------------------
  async function refreshInfo() {
    try { L.info = await ui.api("GET", "/api/lockers/info"); } catch (_) { L.info = L.info || { enabled: false }; }
    const offered = !!L.info?.enabled;
    for (const id of ["open-lockers", "closed-lockers"]) { const b = $(id); if (b) b.hidden = !offered; }
    const line = document.querySelector(".closed-self");
    if (line) line.replaceChildren(...bi(...(offered ? WORDS.self24 : WORDS.self24NoLockers)));
  }

  // -- asking the kiosk program ------------------------------------------------------------------------------------
  async function pickup(body) {
    if (L.busy) return;
    ui.hideError();
    if (!body.swipe && !/^\d{6}$/.test(body.code || "")) { ui.showError({ code: "code_empty", message_zh: WORDS.empty[0], message_en: WORDS.empty[1] }); return; }
    L.busy = true;
    $("locker-submit").setAttribute("aria-busy", "true");
    try {
      const res = await ui.api("POST", "/api/lockers/pickup", body);
      L.pickups = res.pickups.map((p) => ({ ...p, door: p.state === "open" ? "open" : "closed" }));
      L.doneAt = 0;
      render();
      const where = L.pickups.filter((p) => p.state === "open").map((p) => p.compartment).join("、");
      ui.live(`${fill(WORDS.where[0], { c: where })}，${WORDS.doorOpen[0]}`);
      ui.speak(`${fill(WORDS.where[0], { c: where })}，取出后请关好柜门`);
      startPolling();
    } catch (err) {
      if (err.code === "swipe_not_found") ui.endSwipe();
      code().value = "";
      ui.showError(err);
      ui.live(err.message_zh);
      ui.speak(err.message_zh);
    } finally {
      L.busy = false;
      $("locker-submit").removeAttribute("aria-busy");
    }
  }

  function startPolling() {
    clearInterval(L.poll);
    L.poll = setInterval(poll, POLL_MS);
  }

  async function poll() {
    const waiting = (L.pickups || []).filter((p) => p.token && ["opening", "open"].includes(p.state));
    if (!waiting.length) { clearInterval(L.poll); return; }
    for (const p of waiting) {
      try {
        const got = await ui.api("GET", `/api/lockers/pickups/${encodeURIComponent(p.token)}`);
        Object.assign(p, { state: got.state, door: got.door });
      } catch (_) { p.door = "unknown"; }
    }
    if (L.pickups.every((p) => !["opening", "open"].includes(p.state)) && L.pickups.some((p) => p.state === "delivered")) {
      L.doneAt = Date.now();
      ui.live(WORDS.delivered[0]);
      ui.speak(WORDS.delivered[0]);
    }
    render();
  }

  // -- what the screen shows ---------------------------------------------------------------------------------------
  function stateWords(p) {
    if (p.state === "delivered") return WORDS.delivered;
    if (p.state === "failed") return WORDS.failed;
    if (p.state === "opening") return WORDS.opening;
    return p.door === "unknown" ? WORDS.unknown : WORDS.doorOpen;
  }

  function render() {
    if (!$("screen-lockers")) return;
    const out = $("locker-result");
    const asking = !L.pickups;
    $("locker-ask").hidden = !asking;
    out.hidden = asking;
    if (asking) return out.replaceChildren();
    const doors = L.pickups.map((p) => h("div", { class: "locker-door", "data-test-id": `locker-door-${p.compartment}`,
      "data-state": p.state, "data-door": p.door || "" },
    h("p", { class: "locker-label", "aria-hidden": "true" }, p.compartment),
    pair("p", { class: "locker-where" }, [fill(WORDS.where[0], { c: p.compartment }), fill(WORDS.where[1], { c: p.compartment })]),
    h("p", { class: "locker-matter" }, `${p.number} ${p.matter_name || ""}`),
    pair("p", { class: "locker-state", "data-test-id": "locker-state" }, stateWords(p))));
    const side = [h("button", { type: "button", class: "btn primary big", "data-test-id": "locker-done", on: ui.resetAll }, bi(...WORDS.done))];
    if (L.doneAt) side.push(h("p", { class: "auto-return", "data-test-id": "locker-auto-return" }, bi(...backWords())));
    out.replaceChildren(h("div", { class: "locker-doors" }, doors), h("div", { class: "locker-side" }, side));
  }

  function backWords() {
    const left = Math.max(0, DONE_RETURN_S - Math.floor((Date.now() - L.doneAt) / 1000));
    return [fill(WORDS.back[0], { s: left }), fill(WORDS.back[1], { s: left })];
  }

  function tick() {
    if (!L.doneAt) return;
    if (Date.now() - L.doneAt > DONE_RETURN_S * 1000) { ui.resetAll(); return; }
    const line = $("locker-auto-return");
    if (line) line.replaceChildren(...bi(...backWords()));
  }

  // -- moving about ------------------------------------------------------------------------------------------------
  function openPickup() {
    reset();
    ui.show("lockers");
    ui.speak(WORDS.ask[0]);
    if (ui.swipe()) pickup({ swipe: ui.swipe().id }); else code().focus();
  }

  function reset() {
    clearInterval(L.poll);
    L.pickups = null;
    L.doneAt = 0;
    if (code()) code().value = "";
    render();
    reprint.reset();
  }

  // kiosk.js asks first when its back button is pressed: true when this screen went back a step itself
  function back() {
    if (ui.screen() === "reprint") return reprint.back();
    if (!L.pickups) return false;
    reset();
    return true;
  }

  function bySwipe(swipe) {
    if (!swipe?.id) return;
    if (ui.screen() === "lockers" && !L.pickups) pickup({ swipe: swipe.id });
    else if (ui.screen() === "reprint") reprint.bySwipe(swipe);
  }

  function wire() {
    build();
    $("locker-form").addEventListener("submit", (e) => { e.preventDefault(); pickup({ code: code().value.trim() }); });
    code().addEventListener("input", () => { code().value = code().value.replace(/\D/g, "").slice(0, 6); });
    for (const [id, open] of [["open-lockers", openPickup], ["closed-lockers", openPickup], ["closed-reprint", reprint.open]]) {
      const b = $(id);
      if (b) b.addEventListener("click", open);
    }
    reprint.wire();
    refreshInfo();
    setInterval(refreshInfo, INFO_MS);
    setInterval(tick, 250);
  }

  return { wire, openPickup, openReprint: reprint.open, back, reset, bySwipe, render };
}
