// The ticket status page (a receipt's QR code opens it on a citizen's phone) keeps itself up to date: every
// 15 s, while the ticket can still change, it reads the page again and swaps in the new ticket view. Unlike a
// <meta refresh>, nothing reloads under the reader's finger, and a screen reader hears only what changed.
(() => {
  "use strict";
  // every 15 s; `?every=N` (2 s or more) for a test or a demonstration
  const asked = Number(new URLSearchParams(location.search).get("every"));
  const EVERY_MS = asked >= 2 ? asked * 1000 : 15000;
  const main = document.querySelector('[data-test-id="ticket-status"]');

  async function update() {
    try {
      const res = await fetch(location.href, { cache: "no-store" });
      if (!res.ok) return;
      const next = new DOMParser().parseFromString(await res.text(), "text/html");
      const fresh = next.querySelector('[data-test-id="ticket-status"]');
      if (!fresh) return;
      const view = main.querySelector('[data-test-id="ticket-view"]');
      const newView = fresh.querySelector('[data-test-id="ticket-view"]');
      if (view && newView && view.innerHTML !== newView.innerHTML) view.innerHTML = newView.innerHTML;
      main.dataset.live = fresh.dataset.live;
    } catch (_) { /* offline for a moment: the next round tries again */ }
    if (main.dataset.live === "yes") setTimeout(update, EVERY_MS);
  }

  if (main && main.dataset.live === "yes") setTimeout(update, EVERY_MS);
})();
