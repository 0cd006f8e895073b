// “办不成事？反映问题” on a case's public status page /c/{code}: the citizen's words (and, if they like, a mobile
// number for the answer by SMS) go to POST /api/v1/complaints/public with the page's query code, which links
// the complaint to the case. On success the complaint's number is shown; 429 (too many today for this case),
// 422 (bad input) and 404 are shown in both languages, and what was typed stays in the form.
(() => {
  const box = document.querySelector('[data-test-id="complaint"]');
  if (!box) return;
  const form = box.querySelector("form");
  const $ = (id) => box.querySelector(`[data-test-id="${id}"]`);
  const open = $("complaint-open");
  const msg = $("complaint-message");

  function say(kind, zh, en) {
    msg.dataset.kind = kind;
    msg.replaceChildren(document.createTextNode(`${zh} · `), Object.assign(document.createElement("span"),
      { lang: "en", textContent: en }));
    msg.hidden = false;
  }

  open.addEventListener("click", () => {
    form.hidden = false;
    open.setAttribute("aria-expanded", "true");
    form.querySelector("textarea").focus();
  });

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const text = form.text.value.trim();
    if (!text) { say("error", "请写下没有办成的事", "Please write what could not be done"); return; }
    const body = { query_code: box.dataset.queryCode, text };
    const phone = form.phone.value.trim();
    if (phone) body.contact = { phone };
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const r = await fetch("/api/v1/complaints/public", { method: "POST", cache: "no-store",
        headers: { "content-type": "application/json", accept: "application/json" }, body: JSON.stringify(body) });
      const data = await r.json().catch(() => null);
      if (r.ok) {
        form.reset();
        form.hidden = true;
        open.hidden = true;
        say("ok", `已收到您的反映，编号 ${data.number}，我们会尽快处理${phone ? "并短信告知" : ""}`,
          `Received: complaint ${data.number}; we will look into it${phone ? " and send you an SMS" : ""}`);
        $("complaint-message").dataset.number = data.number;
        return;
      }
      const err = (data && data.error) || {};
      if (r.status === 429) {
        say("error", err.message_zh || "今天本办件的反映已达上限，请到办不成事窗口或致电反映",
          err.message_en || "Too many complaints about this case today: please come to the 办不成事 window or call");
      } else if (r.status === 422) {
        say("error", `请检查填写的内容：${err.message_zh || "内容或手机号不正确"}`,
          `Please check what you entered: ${err.message_en || "the text or the phone number is not right"}`);
      } else {
        say("error", err.message_zh || `暂时无法提交（${r.status}），请稍后重试`,
          err.message_en || `Could not send it (${r.status}); try again later`);
      }
    } catch {
      say("error", "无法连接服务器，请检查网络后重试", "The hall server did not answer: check the network and retry");
    } finally {
      button.disabled = false;
    }
  });
})();
