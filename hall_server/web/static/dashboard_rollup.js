// The district roll-up on the dashboard (issue 19): how far the hall's shipping to the district's PostgreSQL
// is behind, from GET /api/v1/health's `rollup` (present only for a hall with [rollup]), read every 10 s.
// A hall that does not ship shows nothing. Not being able to reach the district is a warning, not a fault:
// the hall works on, its events wait in its own database.

const REFRESH_MS = 10000;
const el = document.querySelector('[data-test-id="rollup"]');

function age(s) {
  if (s === null || s === undefined) return "";
  if (s < 90) return `${Math.round(s)} 秒`;
  if (s < 5400) return `${Math.round(s / 60)} 分钟`;
  return `${(s / 3600).toFixed(1)} 小时`;
}

function draw(r) {
  const behind = r.lag_events || 0;
  const state = r.error ? "degraded" : behind > 0 && (r.lag_s || 0) > 60 ? "degraded" : "ok";
  el.dataset.state = state;
  el.dataset.lagEvents = String(behind);
  const badge = document.createElement("span");
  badge.className = `state dstate-${state}`;
  badge.textContent = state === "ok" ? "正常 " : "注意 ";
  const en = document.createElement("span");
  en.className = "en"; en.lang = "en"; en.textContent = state === "ok" ? "ok" : "warning";
  badge.append(en);
  const name = document.createElement("b");
  name.textContent = " 区级汇聚 ";
  const text = document.createElement("span");
  text.className = "muted";
  text.dataset.testId = "rollup-text";
  if (r.shipped_seq === null || r.shipped_seq === undefined) {
    text.textContent = r.error ? "无法连接区级数据库，事件暂存本地 / cannot reach the district database"
      : "正在连接区级数据库 / connecting";
  } else if (behind === 0) {
    text.textContent = "已全部上报 / all events shipped";
  } else {
    text.textContent = `待上报 ${behind} 条，最早 ${age(r.lag_s)} 前 / ${behind} events to ship`
      + (r.error ? " · 无法连接区级数据库 / cannot reach the district database" : "");
  }
  el.replaceChildren(badge, name, text);
  el.title = r.warning || "";
  el.hidden = false;
}

async function refresh() {
  try {
    const res = await fetch("/api/v1/health", { cache: "no-store" });
    if (!res.ok) return;
    const body = await res.json();
    if (body.rollup) draw(body.rollup);
    else el.hidden = true;
  } catch {
    // the server is unreachable: the page's connection badge already says so
  }
}

if (el) {
  refresh();
  setInterval(refresh, REFRESH_MS);
}
