// “办不成事”反映 at the kiosk (issue 17, item 4): the citizen says what could not be done — typed, or started from a
// few large ready-made phrases — and optionally a mobile number for the SMS (on a keypad); the kiosk program's
// POST /api/complaints registers it on the hall (channel kiosk) and the screen shows the complaint's number and
// what happens next (分类 → 转办 → 答复). kiosk.js owns the screens, elder mode and the idle reset and hands this
// module what it needs (`ui`); the screen and its home-screen buttons are built here.

const DONE_RETURN_S = 60;
const WORDS = {
  open: ["办不成事反映", "Could not get it done?"],
  title: ["办不成事反映", "Tell us what could not be done"],
  hint: ["请写下您来办什么事、哪里没有办成。我们会登记、分类，转交负责的部门，并答复您。",
    "Write what you came for and what could not be done. We register it, sort it, pass it to the department responsible and answer you."],
  textLabel: ["没有办成的事（可点下面的常见情况）", "What could not be done (or tap a common case below)"],
  phoneLabel: ["手机号码（选填，用于短信告知编号和答复）", "Mobile number (optional: the number and the answer by SMS)"],
  submit: ["提交反映", "Send"],
  empty: ["请写下您没有办成的事", "Write down what you could not get done"],
  doneTitle: ["您的反映已登记", "Your complaint is registered"],
  number: ["反映编号", "Complaint number"],
  keep: ["请记下编号，查询或咨询时报编号即可", "Keep this number: give it when you ask about it"],
  sms: ["编号已发送到您的手机；答复时也会短信通知您", "The number was sent to your phone; you will get the answer by SMS too"],
  noSms: ["您没有留手机号：可凭编号到“办不成事”反映窗口（7号窗口）询问", "No phone given: ask at the 办不成事 window (window 7) with your number"],
  next: ["接下来", "What happens next"],
  done: ["完成", "Done"],
  back: ["{s} 秒后自动返回首页", "Back to the start in {s} s"],
};
const PHRASES = [["材料要求不清楚", "Unclear what papers are needed"], ["跑了多次没办成", "Came several times, still not done"],
  ["窗口说不归他们管", "Told it is not their business"], ["系统或设备办不了", "The system could not do it"],
  ["等候时间太长", "Waited too long"]];
const fill = (s, vars) => s.replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ""));

export function complaintScreen(ui) {
  const { $, h, bi, pair } = ui;
  const C = { busy: false, doneAt: 0, timer: 0 };

  function build() {
    if (!document.querySelector('link[href="/static/kiosk-complaint.css"]')) {
      document.head.append(h("link", { rel: "stylesheet", href: "/static/kiosk-complaint.css" }));
    }
    const keys = [..."1234567890"].map((k) => h("button", { type: "button", class: "btn key", "data-test-id": `complaint-key-${k}`,
      on: () => key(k) }, k));
    keys.push(h("button", { type: "button", class: "btn key fn wide", "data-test-id": "complaint-key-back", on: () => key("back") },
      bi("退格", "Delete")));
    const section = h("section", { class: "screen complaint", "data-test-id": "screen-complaint", "aria-labelledby": "complaint-title", hidden: true },
      h("div", { class: "screen-head" }, pair("h2", { id: "complaint-title" }, WORDS.title)),
      h("form", { class: "complaint-form", "data-test-id": "complaint-form", autocomplete: "off" },
        pair("p", { class: "hint" }, WORDS.hint),
        pair("label", { class: "field-label", for: "complaint-text" }, WORDS.textLabel),
        h("textarea", { id: "complaint-text", class: "field complaint-text", "data-test-id": "complaint-text", rows: "3", maxlength: "2000" }),
        h("div", { class: "complaint-phrases", "data-test-id": "complaint-phrases" },
          PHRASES.map(([zh, en], i) => h("button", { type: "button", class: "btn", "data-test-id": `complaint-phrase-${i}`,
            on: () => phrase(zh) }, bi(zh, en)))),
        h("div", { class: "complaint-phone-row" },
          h("div", { class: "complaint-phone" },
            pair("label", { class: "field-label", for: "complaint-phone" }, WORDS.phoneLabel),
            h("input", { id: "complaint-phone", class: "field", "data-test-id": "complaint-phone", type: "tel", inputmode: "numeric",
              maxlength: "11", spellcheck: "false", autocomplete: "off" })),
          h("div", { class: "keyboard complaint-keypad", "data-test-id": "complaint-keypad" }, keys)),
        h("div", { class: "actions" },
          h("button", { type: "submit", class: "btn big primary", "data-test-id": "complaint-submit" }, bi(...WORDS.submit)))),
      h("div", { class: "complaint-result", "data-test-id": "complaint-result", "aria-live": "polite", hidden: true }));
    $("screen-closed").before(section);
    for (const where of ["screen-home", "screen-closed"]) {
      const row = $(where).querySelector(".actions");
      const id = where === "screen-home" ? "open-complaint" : "closed-complaint";
      if (row) row.append(h("button", { type: "button", class: `btn big${where === "screen-closed" ? " primary" : ""}`, "data-test-id": id,
        on: open }, bi(...WORDS.open)));
    }
    section.querySelector("form").addEventListener("submit", (e) => { e.preventDefault(); send(); });
  }

  function key(k) {
    const f = $("complaint-phone");
    if (k === "back") f.value = f.value.slice(0, -1); else if (f.value.length < 11) f.value += k;
  }

  function phrase(zh) {
    const f = $("complaint-text");
    f.value = f.value.trim() ? `${f.value.trim()}；${zh}` : zh;
    f.focus();
  }

  function open() {
    reset();
    ui.show("complaint");
    ui.speak && ui.speak("请写下您没有办成的事");
  }

  async function send() {
    if (C.busy) return;
    ui.hideError();
    const text = $("complaint-text").value.trim();
    if (!text) { ui.showError({ code: "complaint_empty", message_zh: WORDS.empty[0], message_en: WORDS.empty[1] }); return; }
    const phone = $("complaint-phone").value.trim();
    C.busy = true;
    $("complaint-submit").setAttribute("aria-busy", "true");
    try {
      const res = await ui.api("POST", "/api/complaints", phone ? { text, phone } : { text });
      result(res);
      ui.live(`${WORDS.doneTitle[0]}，${WORDS.number[0]} ${res.number}`);
      ui.speak && ui.speak(`您的反映已登记，编号 ${res.number}`);
    } catch (err) {
      ui.showError(err);
      ui.live(err.message_zh || "");
    } finally {
      C.busy = false;
      $("complaint-submit").removeAttribute("aria-busy");
    }
  }

  function result(res) {
    const box = $("complaint-result");
    box.replaceChildren(
      h("div", { class: "complaint-got" },
        pair("h3", { class: "complaint-done" }, WORDS.doneTitle),
        h("p", { class: "complaint-number-line" }, pair("span", { class: "complaint-number-label" }, WORDS.number),
          h("b", { class: "complaint-number", "data-test-id": "complaint-number" }, res.number)),
        pair("p", { class: "hint" }, WORDS.keep),
        pair("p", { class: "hint", "data-test-id": "complaint-sms" }, res.sms ? WORDS.sms : WORDS.noSms),
        h("div", { class: "actions" }, h("button", { type: "button", class: "btn big primary", "data-test-id": "complaint-done",
          on: () => ui.resetAll() }, bi(...WORDS.done))),
        h("p", { class: "complaint-back", "data-test-id": "complaint-back" })),
      h("div", { class: "complaint-then" },
        pair("h3", {}, WORDS.next),
        h("ol", { class: "complaint-next", "data-test-id": "complaint-next" }, (res.next || []).map((s, i) =>
          h("li", { "data-test-id": `complaint-next-${i}` }, pair("b", {}, [s.step, s.step_en]), pair("p", {}, [s.text, s.text_en]))))));
    $("complaint-form").hidden = true;
    box.hidden = false;
    C.doneAt = Date.now();
    clearInterval(C.timer);
    C.timer = setInterval(tick, 500);
    tick();
  }

  function tick() {
    if (!C.doneAt) { clearInterval(C.timer); return; }
    const left = Math.max(0, DONE_RETURN_S - Math.floor((Date.now() - C.doneAt) / 1000));
    const line = $("complaint-back");
    if (line) line.replaceChildren(...bi(fill(WORDS.back[0], { s: left }), fill(WORDS.back[1], { s: left })));
    if (left === 0) ui.resetAll();
  }

  function reset() {
    C.doneAt = 0;
    clearInterval(C.timer);
    if (!$("complaint-form")) return;
    $("complaint-text").value = "";
    $("complaint-phone").value = "";
    $("complaint-form").hidden = false;
    $("complaint-result").hidden = true;
    $("complaint-result").replaceChildren();
  }

  return { build, reset, wire: build };
}
