// The district board's statistics: GET /api/v1/district/stats?from&to&by=hall&level — the hall's own figures
// (issued, served, waits, handling, cases, 好评率) per hall and summed over the halls chosen; a level shows one
// tier side by side (the community stations compared with each other). A bar chart (Chart.js, served locally)
// compares served and 好评率 per hall. Read again when the board hears a change, at most every 2 s.
import { duration, el, getJSON, isoDay, num, rate } from "./district_words.js";

const $ = (id) => document.querySelector(`[data-test-id="${id}"]`);
const form = $("stats-filters");
let range = "today";
let chart = null;
let timer = null;

function today() {
  const t = document.body.dataset.today;
  return t ? new Date(`${t}T00:00:00`) : new Date();
}

function rangeOf(kind) {
  const t = today();
  if (kind === "month") return [isoDay(new Date(t.getFullYear(), t.getMonth(), 1)), isoDay(t)];
  if (kind === "year") return [isoDay(new Date(t.getFullYear(), 0, 1)), isoDay(t)];
  return [isoDay(t), isoDay(t)];
}

function setRange(kind) {
  range = kind;
  for (const b of form.querySelectorAll("[data-range]")) b.setAttribute("aria-pressed", String(b.dataset.range === kind));
  const [from, to] = rangeOf(kind);
  form.from.value = from;
  form.to.value = to;
}

function cells(r) {
  return [num(r.issued), num(r.served), num(r.no_show), duration(r.wait_p50_s), duration(r.wait_p90_s),
          duration(r.handle_mean_s), num(r.cases_accepted), num(r.cases_decided), rate(r.on_time_rate), num(r.rated),
          rate(r.good_rate)].map((t) => el("td", { class: "num" }, t));
}

function draw(rows) {
  const canvas = $("s-chart");
  if (!window.Chart) return;
  const labels = rows.map((r) => r.name || r.key);
  const data = {
    labels,
    datasets: [
      { label: "办结 Served", data: rows.map((r) => r.served), backgroundColor: "#0b4f8a", yAxisID: "y" },
      { label: "好评率 Good rate (%)", data: rows.map((r) => (r.good_rate === null ? null : +(r.good_rate * 100).toFixed(1))),
        backgroundColor: "#2e9e5b", yAxisID: "y2" },
    ],
  };
  if (chart) { chart.data = data; chart.update(); return; }
  chart = new window.Chart(canvas, {
    type: "bar", data,
    options: { animation: false, maintainAspectRatio: false, responsive: true,
               scales: { y: { beginAtZero: true, position: "left", ticks: { precision: 0 } },
                         y2: { beginAtZero: true, max: 100, position: "right", grid: { drawOnChartArea: false } } } },
  });
  canvas.chart = chart;
}

async function read() {
  const params = { from: form.from.value, to: form.to.value, by: "hall" };
  if (form.level.value) params.level = form.level.value;
  try {
    const data = await getJSON("/api/v1/district/stats", params);
    $("s-error").hidden = true;
    const table = $("s-table");
    table.tBodies[0].replaceChildren(...data.rows.map((r) => el("tr", { "data-test-id": "s-row", "data-hall": r.key },
      el("th", { scope: "row" }, r.name || r.key), ...cells(r))));
    table.tFoot.replaceChildren(el("tr", { "data-test-id": "s-total" },
      el("th", { scope: "row" }, "合计 Total"), ...cells(data.total)));
    $("s-range").textContent = data.from === data.to ? `${data.from}` : `${data.from} 至 ${data.to}`;
    draw(data.rows);
  } catch (err) {
    $("s-error").hidden = false;
    $("s-error").textContent = `${err.zh} ${err.en}`;
  }
}

form.addEventListener("click", (e) => {
  const b = e.target.closest("[data-range]");
  if (!b) return;
  setRange(b.dataset.range);
  read();
});
form.addEventListener("submit", (e) => {
  e.preventDefault();
  for (const b of form.querySelectorAll("[data-range]")) b.setAttribute("aria-pressed", "false");
  range = null;
  read();
});
form.level.addEventListener("change", read);
document.addEventListener("district:changed", () => {
  if (timer) return;
  timer = setTimeout(() => { timer = null; read(); }, 2000);
});

// the board learns the service's "today" from its first answer; the range follows it until one is chosen
const first = new MutationObserver(() => {
  if (range) setRange(range);
  read();
});
first.observe(document.body, { attributes: true, attributeFilter: ["data-today"] });
setRange("today");
