// 补打受理通知书 (24-hour mode): the citizen types the case number and proves the case is theirs — the query code
// of the acceptance SMS, or a swipe of the applicant's ID card — and the kiosk prints the 受理通知书 again on its
// own printer (POST /api/notices/reprint). Built and opened by kiosk-lockers.js; nothing personal is shown here.
const KEYS = [..."1234567890", ..."ABCDEFGHIJKLMNOPQRSTUVWXYZ", "-", "_"];
const WORDS = {
  title: ["补打受理通知书", "Print my acceptance notice again"],
  number: ["办件编号（受理通知书或短信上）", "Case number (on your notice or SMS)"],
  code: ["查询码（受理短信中，区分大小写）", "Query code (in the acceptance SMS; capitals matter)"],
  print: ["打印", "Print"],
  swipeTitle: ["或刷申请人身份证", "Or use the applicant's ID card"],
  swipe: ["输入办件编号后，把申请人的身份证放在读卡区", "Type the case number, then place the applicant's ID card on the reader"],
  printing: ["正在打印……", "Printing…"],
  printed: ["受理通知书已打印，请取走", "Your acceptance notice has been printed: please take it"],
  needNumber: ["请先输入办件编号，再刷身份证", "Type the case number first, then place the ID card on the reader"],
  empty: ["请输入办件编号，并输入查询码或刷申请人身份证", "Type the case number, then the query code or place the applicant's ID card on the reader"],
  shift: ["小写", "lower case"],
  upper: ["大写", "capitals"],
  done: ["完成", "Done"],
};

export function reprintScreen(ui) {
  const { $, h, bi, pair } = ui;
  const R = { target: "reprint-number", lower: false, busy: false, done: false };

  function build() {
    const keys = KEYS.map((k) => h("button", { type: "button", class: "btn key", "data-test-id": `reprint-key-${k}`,
      "aria-label": k === "-" ? "横杠 dash" : k === "_" ? "下划线 underscore" : null, on: () => type(k) }, k));
    keys.push(h("button", { type: "button", class: "btn key fn wide", "data-test-id": "reprint-key-shift", "aria-pressed": "false",
      on: () => shift() }, bi(...WORDS.shift)),
    h("button", { type: "button", class: "btn key fn wide", "data-test-id": "reprint-key-back", on: () => type("back") }, bi("退格", "Delete")),
    h("button", { type: "button", class: "btn key fn wide", "data-test-id": "reprint-key-clear", on: () => type("clear") }, bi("清空", "Clear")));
    const field = (id, words) => [pair("label", { class: "field-label", for: id }, words),
      h("input", { id, class: "field", "data-test-id": id, type: "text", spellcheck: "false", autocomplete: "off",
        autocapitalize: "off" })];
    return h("section", { class: "screen reprint", "data-test-id": "screen-reprint", "aria-labelledby": "reprint-title", hidden: true },
      h("div", { class: "screen-head" }, pair("h2", { id: "reprint-title" }, WORDS.title)),
      h("div", { class: "cases-ask reprint-ask", "data-test-id": "reprint-ask" },
        h("form", { class: "lookup-form", "data-test-id": "reprint-form", autocomplete: "off" },
          ...field("reprint-number", WORDS.number), ...field("reprint-code", WORDS.code),
          h("div", { class: "keyboard case-keypad", "data-test-id": "reprint-keyboard" }, keys)),
        h("div", { class: "reprint-side" },
          h("button", { type: "button", class: "btn primary big", "data-test-id": "reprint-submit", on: submit }, bi(...WORDS.print)),
          h("div", { class: "case-swipe", "data-test-id": "reprint-swipe-hint" },
            pair("p", { class: "case-swipe-title" }, WORDS.swipeTitle), pair("p", {}, WORDS.swipe)))),
      h("div", { class: "reprint-result", "data-test-id": "reprint-result", "aria-live": "polite", hidden: true }));
  }

  function type(k) {
    const field = $(R.target);
    if (k === "back") field.value = field.value.slice(0, -1);
    else if (k === "clear") field.value = "";
    else field.value += R.lower && /[A-Z]/.test(k) ? k.toLowerCase() : k;
    field.dispatchEvent(new Event("input", { bubbles: true }));
    field.focus();
  }

  function shift() {
    R.lower = !R.lower;
    const b = $("reprint-key-shift");
    b.setAttribute("aria-pressed", String(R.lower));
    b.replaceChildren(...bi(...(R.lower ? WORDS.upper : WORDS.shift)));
    for (const k of KEYS.filter((x) => /[A-Z]/.test(x))) $(`reprint-key-${k}`).textContent = R.lower ? k.toLowerCase() : k;
  }

  async function print(body) {
    if (R.busy) return;
    ui.hideError();
    if (!body.number || !(body.query_code || body.swipe)) {
      const w = body.swipe ? WORDS.needNumber : WORDS.empty;
      ui.showError({ code: "reprint_empty", message_zh: w[0], message_en: w[1] });
      return;
    }
    R.busy = true;
    $("reprint-submit").setAttribute("aria-busy", "true");
    ui.live(WORDS.printing[0]);
    try {
      await ui.api("POST", "/api/notices/reprint", body);
      R.done = true;
      render();
      ui.live(WORDS.printed[0]);
      ui.speak(WORDS.printed[0]);
    } catch (err) {
      if (err.code === "swipe_not_found") ui.endSwipe();
      ui.showError(err);
      ui.live(err.message_zh);
    } finally {
      R.busy = false;
      $("reprint-submit").removeAttribute("aria-busy");
    }
  }

  const number = () => $("reprint-number").value.trim().toUpperCase();

  function submit(e) {
    if (e) e.preventDefault();
    const queryCode = $("reprint-code").value.trim();
    print(queryCode || !ui.swipe() ? { number: number(), query_code: queryCode } : { number: number(), swipe: ui.swipe().id });
  }

  function render() {
    const out = $("reprint-result");
    $("reprint-ask").hidden = R.done;
    out.hidden = !R.done;
    if (!R.done) return out.replaceChildren();
    out.replaceChildren(pair("p", { class: "reprint-printed", "data-test-id": "reprint-printed" }, WORDS.printed),
      h("button", { type: "button", class: "btn primary big", "data-test-id": "reprint-done", on: ui.resetAll }, bi(...WORDS.done)));
  }

  function reset() {
    R.done = false;
    R.target = "reprint-number";
    if (R.lower) shift();
    for (const id of ["reprint-number", "reprint-code"]) if ($(id)) $(id).value = "";
    if ($("reprint-result")) render();
  }

  function open() {
    reset();
    ui.show("reprint");
    ui.speak(WORDS.number[0]);
    $("reprint-number").focus();
  }

  function back() {
    if (!R.done) return false;
    reset();
    return true;
  }

  function bySwipe(swipe) {
    if (R.done) return;
    print({ number: number(), swipe: swipe.id });
  }

  function wire() {
    $("reprint-form").addEventListener("submit", submit);
    for (const id of ["reprint-number", "reprint-code"]) $(id).addEventListener("focus", () => { R.target = id; });
  }

  return { build, wire, open, reset, back, bySwipe };
}
