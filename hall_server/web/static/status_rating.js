// 好差评 from a status page (a receipt's QR link /t/{id}?k=…, a notice's /c/{query code}): once the handling is
// finished, the citizen may rate it once, within the hall's days. The section names what is rated, offers the
// five levels (Chinese first), and for 不满意 / 非常不满意 the reasons, which may be skipped. It reads and posts
// the public rating API only; a page whose ticket is still in line checks again when the ticket view changes.
(() => {
  "use strict";
  const box = document.querySelector('[data-test-id="rating"]');
  if (!box) return;
  const handle = box.dataset.queryCode ? { query_code: box.dataset.queryCode }
    : { ticket: Number(box.dataset.ticket), key: box.dataset.key };
  const el = (tag, attrs = {}, ...kids) => {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === "test") n.dataset.testId = v; else if (k === "text") n.textContent = v; else n.setAttribute(k, v);
    }
    n.append(...kids);
    return n;
  };
  const say = (zh, en, test = "rating-message") => el("p", { test, class: "rating-message" },
    el("span", { text: zh }), " ", el("small", { lang: "en", text: en || "" }));

  async function load() {
    const q = new URLSearchParams(Object.entries(handle).map(([k, v]) => [k, String(v)]));
    try {
      const res = await fetch("/api/v1/evaluations/public?" + q, { cache: "no-store" });
      if (!res.ok) { box.hidden = true; return; }
      show(await res.json());
    } catch (_) { /* offline: the section stays as it was */ }
  }

  function show(s) {
    box.replaceChildren();
    if (s.rated) {
      box.append(say(`您已评价：${s.rated.name}，感谢您的评价。`, `You rated this: ${s.rated.name_en}. Thank you.`, "rating-done"));
    } else if (!s.rateable) {
      if (s.why === "not_finished") { box.hidden = true; return; }      // still in line: nothing to rate yet
      box.append(say(s.message_zh || "暂不能评价", s.message_en || "cannot be rated now"));
    } else {
      box.append(el("h2", { text: "请您对本次服务进行评价" }),
        el("p", { class: "muted" }, `${s.number || ""} ${s.matter_name || ""}${s.window ? ` · ${s.window} 号窗口` : ""}`,
          " ", el("small", { lang: "en", text: "Please rate this service" })));
      const levels = el("div", { class: "rating-levels", role: "group", "aria-label": "评价 rating" });
      for (const lv of s.levels) {
        const b = el("button", { type: "button", test: `rate-${lv.level}`, class: "rating-level" },
          el("span", { text: lv.name }), el("small", { lang: "en", text: lv.name_en }));
        b.addEventListener("click", () => (lv.level <= 2 ? reasons(s, lv) : send(lv.level, [])));
        levels.append(b);
      }
      box.append(levels);
    }
    box.hidden = false;
  }

  function reasons(s, lv) {
    const form = el("form", { test: "rating-reasons", class: "rating-reasons" },
      el("p", { text: `${lv.name}：请选择原因（可跳过） · reasons (optional)` }));
    for (const r of s.reasons) {
      form.append(el("label", {}, el("input", { type: "checkbox", name: "reason", value: r, test: `reason-${r}` }), ` ${r}`));
    }
    const submit = el("button", { type: "submit", test: "rating-submit", text: "提交评价 · Submit" });
    const skip = el("button", { type: "button", test: "rating-skip", text: "跳过原因 · Skip" });
    skip.addEventListener("click", () => send(lv.level, []));
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      send(lv.level, [...form.querySelectorAll("input:checked")].map((i) => i.value));
    });
    form.append(el("p", {}, submit, " ", skip));
    box.querySelector(".rating-reasons")?.remove();
    box.append(form);
  }

  async function send(level, chosen) {
    box.querySelectorAll("button").forEach((b) => { b.disabled = true; });
    try {
      const res = await fetch("/api/v1/evaluations/public", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ ...handle, level, reasons: chosen }),
      });
      const body = await res.json().catch(() => ({}));
      if (res.ok) {
        box.replaceChildren(say(`感谢您的评价：${body.level_name}。`, "Thank you for your rating.", "rating-done"));
        return;
      }
      const err = body.error || {};
      box.append(say(err.message_zh || "评价未能提交", err.message_en || `not recorded (${res.status})`, "rating-error"));
    } catch (_) {
      box.append(say("网络中断，评价未能提交，请稍后再试", "offline: the rating was not sent, please try again", "rating-error"));
    }
    box.querySelectorAll("button").forEach((b) => { b.disabled = false; });
  }

  load();
  // the ticket page swaps its view in place while the ticket can change: look again once it has
  const main = document.querySelector('[data-test-id="ticket-status"]');
  if (main && main.dataset.live === "yes") {
    new MutationObserver(() => { if (main.dataset.live !== "yes") load(); })
      .observe(main, { attributes: true, attributeFilter: ["data-live"] });
  }
})();
