// The charts of /reports, drawn with the vendored Chart.js (window.Chart, /static/vendor/chart.umd.min.js):
// the trend by day (issued and served as lines, the median wait on a second axis), bars per window (served,
// wait p90, 好评率), and the heat map of waits by ISO weekday × hour (by=hour&group_by2=weekday, rows keyed
// "weekday:hour"), which is a grid of coloured cells (a CSS grid of elements, each with its value in words).
// A missing figure (null) is a gap in a line and no bar, never a 0. Charts are kept per canvas and redrawn
// in place. An ES module.

import { h, bi } from "/static/reports_common.js";

const COLOURS = { issuedLight: "#9cc0f5", served: "#146c2e", wait: "#b3261e", good: "#7a4d00" };
const WEEKDAYS = [["一", "Mon"], ["二", "Tue"], ["三", "Wed"], ["四", "Thu"], ["五", "Fri"], ["六", "Sat"], ["日", "Sun"]];
const FONT = '"WenQuanYi Zen Hei", "Noto Sans CJK SC", "Microsoft YaHei", sans-serif';
const charts = {};
window.reportCharts = charts;           // the page's Chart instances, by canvas name (read by the browser tests)

const minutes = (s) => (s === null || s === undefined ? null : Math.round((s / 60) * 10) / 10);
const percent = (r) => (r === null || r === undefined ? null : Math.round(r * 1000) / 10);

function draw(name, canvas, config) {
  if (typeof window.Chart !== "function") return null;
  const old = charts[name];
  if (old) {
    old.data = config.data;
    old.options = config.options;
    old.update();
    return old;
  }
  window.Chart.defaults.font.family = FONT;
  charts[name] = new window.Chart(canvas, config);
  return charts[name];
}

const base = (extra = {}) => ({
  animation: false, responsive: true, maintainAspectRatio: false,
  interaction: { mode: "index", intersect: false },
  plugins: { legend: { position: "bottom", labels: { boxWidth: 14 } } },
  ...extra,
});

export function drawTrend(canvas, rows) {
  const labels = rows.map((r) => r.key);
  return draw("trend", canvas, {
    type: "line",
    data: {
      labels,
      datasets: [
        // issued is a wide light line under served's thin dark one: the two are often nearly equal
        { label: "取号 issued", data: rows.map((r) => r.issued ?? null), borderColor: COLOURS.issuedLight,
          backgroundColor: COLOURS.issuedLight, yAxisID: "y", pointRadius: rows.length > 62 ? 0 : 3, borderWidth: 5,
          order: 3 },
        { label: "办结 served", data: rows.map((r) => r.served ?? null), borderColor: COLOURS.served,
          backgroundColor: COLOURS.served, yAxisID: "y", pointRadius: rows.length > 62 ? 0 : 2, borderWidth: 1.5,
          order: 2 },
        { label: "等候中位数（分钟） wait p50 (min)", data: rows.map((r) => minutes(r.wait_p50_s)),
          borderColor: COLOURS.wait, backgroundColor: COLOURS.wait, yAxisID: "y1", borderDash: [5, 3],
          pointRadius: rows.length > 62 ? 0 : 2, borderWidth: 2, order: 1 },
      ],
    },
    options: base({
      plugins: { legend: { position: "bottom", reverse: true, labels: { boxWidth: 14 } } },   // issued first again
      scales: {
        x: { ticks: { maxTicksLimit: 14, autoSkip: true } },
        y: { beginAtZero: true, position: "left", title: { display: true, text: "件 tickets" } },
        y1: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false },
          title: { display: true, text: "分钟 min" } },
      },
    }),
  });
}

// A window's bar is labelled by its number ("3号"); the tooltip gives the API's full label.
const shortLabel = (r) => (/^\d+号窗口/.test(r.label || "") ? `${r.key}号` : r.label || r.key);

function bars(name, canvas, rows, label, values, colour, axis) {
  canvas.parentElement.dataset.empty = String(!values.some((v) => v !== null && v !== undefined));
  const full = rows.map((r) => r.label || r.key);
  return draw(name, canvas, {
    type: "bar",
    data: { labels: rows.map(shortLabel),
      datasets: [{ label, data: values, backgroundColor: colour, borderWidth: 0, maxBarThickness: 28 }] },
    options: base({
      plugins: { legend: { display: false }, tooltip: { callbacks: { title: (items) => full[items[0].dataIndex] } } },
      scales: { x: { ticks: { autoSkip: false, maxRotation: 60, minRotation: 0, font: { size: 11 } } },
        y: { beginAtZero: true, ...axis, title: { display: true, text: label } } },
    }),
  });
}

export function drawWindowBars(canvases, all) {
  const rows = all.filter((r) => /^\d+$/.test(r.key));      // the windows; "-" (tickets no window finished) is none
  bars("served", canvases.served, rows, "办结（件） served", rows.map((r) => r.served ?? null), COLOURS.served, {});
  bars("wait", canvases.wait, rows, "等候 P90（分钟） wait p90 (min)", rows.map((r) => minutes(r.wait_p90_s)),
    COLOURS.wait, {});
  bars("good", canvases.good, rows, "好评率 % good rate", rows.map((r) => percent(r.good_rate)), COLOURS.good,
    { max: 100 });
}

// Light yellow (short) to deep red (long), by the cell's share of the longest median wait shown.
function heatColour(share) {
  const hue = 50 - 50 * share;
  const light = 92 - 52 * share;
  return `hsl(${hue.toFixed(0)} 90% ${light.toFixed(0)}%)`;
}

export function drawHeat(box, legend, rows) {
  const cells = new Map();
  for (const r of rows) {
    const m = /^(\d):(\d{1,2})$/.exec(r.key || "");
    if (m) cells.set(`${Number(m[1])}:${Number(m[2])}`, r);
  }
  const hours = [...cells].filter(([, r]) => typeof r.wait_p50_s === "number").map(([k]) => Number(k.split(":")[1]));
  const first = hours.length ? Math.min(...hours, 8) : 8;
  const last = hours.length ? Math.max(...hours, 17) : 17;
  const waits = [...cells.values()].map((r) => r.wait_p50_s).filter((v) => typeof v === "number");
  const top = waits.length ? Math.max(...waits) : 0;
  const span = last - first + 1;
  box.style.setProperty("--hours", String(span));
  const head = [h("span", { class: "corner", role: "columnheader" }, ...bi("星期", "day"))];
  for (let hr = first; hr <= last; hr++) head.push(h("span", { class: "hour", role: "columnheader" }, `${hr}时`));
  const lines = [h("div", { class: "heat-row", role: "row" }, ...head)];
  WEEKDAYS.forEach(([zh, en], i) => {
    const day = i + 1;
    const row = [h("span", { class: "wd", role: "rowheader" }, `周${zh} `, h("span", { class: "en", lang: "en" }, en))];
    for (let hr = first; hr <= last; hr++) {
      const r = cells.get(`${day}:${hr}`);
      const w = r ? r.wait_p50_s : null;
      const has = typeof w === "number";
      const title = `周${zh} ${hr}:00–${hr + 1}:00 · ${has ? `等候中位数 ${minutes(w)} 分钟 · median wait ${minutes(w)} min` : "无数据 no data"}`
        + (r && typeof r.issued === "number" ? ` · 取号 ${r.issued} issued` : "");
      row.push(h("span", { class: has ? "cell" : "cell none", role: "cell", title, "aria-label": title,
        "data-test-id": `heat-${day}-${hr}`, "data-wait": has ? String(w) : null,
        style: has ? `background:${heatColour(top ? w / top : 0)}` : null }, has ? String(Math.round(w / 60)) : ""));
    }
    lines.push(h("div", { class: "heat-row", role: "row" }, ...row));
  });
  box.replaceChildren(...lines);
  legend.replaceChildren(
    "短 ", h("span", { class: "en", lang: "en" }, "short"), " ",
    h("span", { class: "ramp", "aria-hidden": "true" }), " ",
    `长（${top ? minutes(top) : 0} 分钟） `, h("span", { class: "en", lang: "en" }, `long (${top ? minutes(top) : 0} min)`));
}
