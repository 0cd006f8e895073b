// What the district board's modules share: reading the service's JSON (its errors carry message_zh/message_en),
// and the words and numbers of the board (durations in 分/秒, rates in %, states and levels in Chinese first).
export const LEVELS = { district: ["区中心", "district"], street: ["街道", "street"], community: ["社区", "community"] };
export const WINDOW_STATES = {
  open: ["开放", "open"], paused: ["暂停", "paused"], closed: ["关闭", "closed"], serving: ["办理中", "serving"],
};
export const CASE_STATES = {
  received: "已收件", accepted: "已受理", supplement: "待补正", in_review: "审查中", suspended: "已中止",
  decided: "已决定", ready: "待领取",
};
export const ACTIONS = {
  claim: "认领", release: "退回认领", suspend: "中止", resume: "恢复", extend: "延期", decide: "作出决定",
  ready: "待领取", deliver: "送达", withdraw: "撤回",
};

export class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message_en || `HTTP ${status}`);
    this.status = status;
    this.zh = e.message_zh || `请求失败（${status}）`;
    this.en = e.message_en || `request failed (${status})`;
  }
}

export async function getJSON(path, params) {
  const url = params ? `${path}?${new URLSearchParams(params)}` : path;
  const r = await fetch(url, { headers: { Accept: "application/json" } });
  let body = null;
  try { body = await r.json(); } catch { body = null; }
  if (!r.ok) throw new ApiError(r.status, body);
  return body;
}

export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

/** "中文 English" as two spans: the Chinese, then the English smaller. */
export function words(zh, en) {
  const f = document.createDocumentFragment();
  f.append(zh, " ", el("span", { class: "en", lang: "en", text: en }));
  return f;
}

export function duration(s) {
  if (s === null || s === undefined) return "–";
  s = Math.round(s);
  if (s < 60) return `${s}秒`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}分${s % 60 ? `${s % 60}秒` : ""}`;
  return `${Math.floor(m / 60)}小时${m % 60 ? `${m % 60}分` : ""}`;
}

export function rate(r) {
  return r === null || r === undefined ? "–" : `${(r * 100).toFixed(1)}%`;
}

export function num(n) {
  return n === null || n === undefined ? "–" : String(n);
}

export function isoDay(d) {
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}
