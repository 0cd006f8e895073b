// A case's public status page (/c/{code}, the QR code on its notices) keeps itself up to date: every 30 s,
// while the page is in view and the case can still change, it reads the public status
// (GET /api/v1/case-status/{code}); when that changed — or a new day began, so fewer working days are
// left — it fetches the page again and swaps in the new view. Nothing reloads under the reader's finger,
// and a screen reader hears only what changed. The refresh link does the same at once.
(() => {
  "use strict";
  // every 30 s; `?every=N` (2 s or more) for a test or a demonstration
  const asked = Number(new URLSearchParams(location.search).get("every"));
  const EVERY_MS = asked >= 2 ? asked * 1000 : 30000;
  const main = document.querySelector('[data-test-id="case-status"]');
  if (!main) return;
  const $ = (id) => main.querySelector(`[data-test-id="${id}"]`);
  let timer = 0;

  // the same formula as case_pages.fingerprint
  const fingerprint = (s) => [s.status, s.due || "", String((s.steps || []).length), (s.missing || []).join("、")].join("|");

  // the hall's wall clock, whatever zone the phone is in: ["YYYY-MM-DD", "HH:MM"]
  function hallNow() {
    const p = {};
    try {
      for (const x of new Intl.DateTimeFormat("en-CA", { timeZone: main.dataset.tz, year: "numeric", month: "2-digit",
        day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).formatToParts(new Date())) p[x.type] = x.value;
    } catch (_) { return [main.dataset.today, ""]; }
    return [`${p.year}-${p.month}-${p.day}`, `${p.hour}:${p.minute}`];
  }

  function problem(on) {
    const box = $("update-problem");
    box.hidden = !on;
    if (on) {
      box.replaceChildren("暂时无法更新，显示的可能不是最新进度；请检查网络后点“刷新”。 · ",
        Object.assign(document.createElement("span"), { lang: "en",
          textContent: "Cannot update right now, so this may be out of date: check your connection and tap Refresh." }));
    }
  }

  async function swap() {
    const res = await fetch(location.pathname, { cache: "no-store" });
    if (!res.ok) throw new Error(`page ${res.status}`);
    const next = new DOMParser().parseFromString(await res.text(), "text/html");
    const fresh = next.querySelector('[data-test-id="case-status"]');
    if (!fresh) throw new Error("no case view");
    const view = $("case-view");
    const newView = fresh.querySelector('[data-test-id="case-view"]');
    if (view && newView && view.innerHTML !== newView.innerHTML) view.innerHTML = newView.innerHTML;
    for (const k of ["live", "fingerprint", "today"]) main.dataset[k] = fresh.dataset[k];
    const newNote = fresh.querySelector('[data-test-id="updated"]');
    if (newNote) $("updated").innerHTML = newNote.innerHTML;
  }

  async function check(force) {
    clearTimeout(timer);
    try {
      if (force) {
        await swap();
      } else {
        const res = await fetch(`/api/v1/case-status/${encodeURIComponent(main.dataset.code)}`, { cache: "no-store" });
        if (!res.ok) throw new Error(`status ${res.status}`);
        const status = await res.json();
        if (fingerprint(status) !== main.dataset.fingerprint || hallNow()[0] !== main.dataset.today) await swap();
        else $("checked").textContent = hallNow()[1] || $("checked").textContent;
      }
      problem(false);
    } catch (_) {
      problem(true);
    }
    schedule();
  }

  function schedule() {
    clearTimeout(timer);
    if (main.dataset.live === "yes" && !document.hidden) timer = setTimeout(() => check(false), EVERY_MS);
  }

  const refresh = $("refresh");
  refresh.addEventListener("click", async (e) => {
    e.preventDefault();
    if (refresh.getAttribute("aria-busy") === "true") return;
    refresh.setAttribute("aria-busy", "true");
    await check(true);
    refresh.removeAttribute("aria-busy");
  });
  // a phone that comes back to the page (screen on, tab shown) checks at once, then every 30 s
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) clearTimeout(timer);
    else if (main.dataset.live === "yes") check(false);
  });
  schedule();
})();
