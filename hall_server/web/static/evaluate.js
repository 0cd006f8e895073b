// The rating tablet at a window, /evaluate/window/<n> (好差评). Logs in once as the window's evaluator account
// (its token in sessionStorage, as the window terminal keeps its own), then waits for the window's prompt:
// GET /api/v1/evaluations/pending?window=n every 5 s, and at once when the event stream tells of an
// evaluation.* event of this window. A prompt shows the five levels (Chinese first, large) and speaks
// "请您对本次服务进行评价" in the hall's voice; a bad level (1–2) asks for reasons from the hall's list, which the
// citizen may skip.
// POST /api/v1/evaluations, then a thank-you; a refusal (409 already rated / timed out, …) in plain words.
// Nothing personal is shown: the ticket number and the matter only. An ES module, no build.

const $ = (id) => document.querySelector(`[data-test-id="${id}"]`);
const WINDOW = Number(document.body.dataset.window);
const TOKEN_KEY = `onewindow.evaluate.${WINDOW}`;
const ELDER_KEY = "onewindow.evaluate.elder";
const POLL_MS = 5000;            // a safety net: an evaluation.* event of this window reads at once
const THANKS_MS = 6000;
const MESSAGE_MS = 10000;
const PROMPT = "请您对本次服务进行评价";
const REASONS_PROMPT = "请问哪里让您不满意？可以多选，也可以跳过";
const LEVEL_EN = { 5: "Very satisfied", 4: "Satisfied", 3: "Fair", 2: "Dissatisfied", 1: "Very dissatisfied" };
const REASON_EN = { 态度: "Attitude", 效率: "Slow service", 材料要求不清: "Unclear requirements", 多次跑: "Had to come again",
  其他: "Other" };
// What a refusal means to the citizen at the window (the server's own words follow when it has other ones).
const WORDS = {
  already_rated: ["本次服务已经评价过了，谢谢您！", "This service has already been rated. Thank you!"],
  rating_closed: ["评价时间已过，本次未能评价。", "The time to rate this service is over."],
  not_finished_here: ["本窗口没有待评价的服务。", "There is no service at this window to rate."],
  network: ["网络连接中断，请稍后再试或告知工作人员。", "The network is down; please try again or tell the staff."],
};

const S = { token: sessionStorage.getItem(TOKEN_KEY), prompt: null, level: null, chosen: new Set(), levels: [],
  reasons: [], busy: false, screen: "login", back: null, poller: null, socket: null, doneWith: null,
  elder: sessionStorage.getItem(ELDER_KEY) === "1", countdownTimer: null };

function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== "") e.append(c);
  return e;
}

class ApiError extends Error {
  constructor(status, err) { super(err.message_en || `HTTP ${status}`); this.status = status; this.err = err; }
}

async function api(method, path, body) {
  const headers = { accept: "application/json" };
  if (S.token) headers.authorization = `Bearer ${S.token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  let r;
  try {
    r = await fetch(`/api/v1${path}`, { method, headers, cache: "no-store",
      body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, { code: "network", message_zh: WORDS.network[0], message_en: WORDS.network[1] });
  }
  let data = null;
  try { data = await r.json(); } catch { /* not JSON */ }
  if (!r.ok) {
    throw new ApiError(r.status, data && data.error ? data.error : { code: `http_${r.status}`,
      message_zh: `服务器返回 ${r.status}，请告知工作人员`, message_en: `the server answered ${r.status}; tell the staff` });
  }
  return data;
}

// -- speech: the hall's own voice (/evaluate/speech/<phrase>.wav, as the kiosk speaks through its server); the
// browser's Web Speech API where that cannot play; the words are on the screen anyway. A browser that wants a
// touch before it plays sound shows the 开启声音 button once.
function speak(phrase, text) {
  document.body.dataset.spoken = text;
  try {
    if (S.audio) S.audio.pause();
    const audio = new Audio(`/evaluate/speech/${phrase}.wav`);
    audio.playbackRate = S.elder ? 0.9 : 1;
    S.audio = audio;
    audio.addEventListener("error", () => { if (S.audio === audio) browserVoice(text); }, { once: true });
    const played = audio.play();
    if (played && played.catch) {
      played.catch((exc) => {
        if (exc && exc.name === "NotAllowedError") $("audio-note").hidden = false;
      });
    }
  } catch {
    browserVoice(text);
  }
}

function browserVoice(text) {
  try {
    const synth = window.speechSynthesis;
    if (!synth || typeof SpeechSynthesisUtterance === "undefined") return;
    synth.cancel();
    const u = new SpeechSynthesisUtterance(text);
    u.lang = "zh-CN";
    u.rate = S.elder ? 0.8 : 1;
    const zh = synth.getVoices().find((v) => /^zh/i.test(v.lang));
    if (zh) u.voice = zh;
    synth.speak(u);
  } catch { /* no voice */ }
}

// -- screens --------------------------------------------------------------------------------------------------
function show(name) {
  for (const s of ["login", "wait", "rate", "reasons", "thanks", "message"]) $(`screen-${s}`).hidden = s !== name;
  S.screen = name;
  document.body.dataset.screen = name;
  clearTimeout(S.back);
  S.back = null;
  if (name !== "rate") clearInterval(S.countdownTimer);
}

function backToWaitIn(ms) {
  S.back = setTimeout(() => { S.back = null; show("wait"); poll(); }, ms);
}

function message(err) {
  const [zh, en] = WORDS[err.code] || [err.message_zh, err.message_en];
  $("message").dataset.code = err.code || "";
  $("message-zh").textContent = zh || "出现问题，请告知工作人员";
  $("message-en").textContent = en || "Something went wrong; please tell the staff";
  show("message");
  S.busy = false;
  backToWaitIn(MESSAGE_MS);
}

function setElder(on) {
  S.elder = on;
  document.documentElement.classList.toggle("elder", on);
  $("elder-toggle").setAttribute("aria-pressed", String(on));
  sessionStorage.setItem(ELDER_KEY, on ? "1" : "0");
}

function drawLevels() {
  $("levels").replaceChildren(...S.levels.map((l) => h("button", {
    type: "button", class: `level level-${l.level}`, "data-test-id": `level-${l.level}`, "data-level": l.level,
    onclick: () => chooseLevel(l.level),
  }, h("span", { class: "zh" }, l.name), h("span", { class: "en", lang: "en" }, l.name_en || LEVEL_EN[l.level]))));
}

function drawReasons() {
  $("reasons").replaceChildren(...S.reasons.map((r, i) => h("button", {
    type: "button", class: "reason", "data-test-id": `reason-${i}`, "data-reason": r, "aria-pressed": "false",
    onclick: (ev) => {
      const b = ev.currentTarget;
      if (S.chosen.has(r)) S.chosen.delete(r); else S.chosen.add(r);
      b.setAttribute("aria-pressed", String(S.chosen.has(r)));
    },
  }, h("span", { class: "zh" }, r), REASON_EN[r] ? h("span", { class: "en", lang: "en" }, REASON_EN[r]) : "")));
}

function showPrompt(p) {
  S.prompt = p;
  S.level = null;
  S.chosen = new Set();
  S.busy = false;
  $("handling").replaceChildren(`${p.number || ""}  ${p.matter_name || ""}`.trim());
  drawLevels();
  show("rate");
  const end = Date.now() + 1000 * (p.seconds_left ?? 60);
  const tick = () => {
    const s = Math.max(0, Math.round((end - Date.now()) / 1000));
    $("countdown").textContent = `${s} 秒后自动结束 · closes in ${s} s`;
  };
  tick();
  clearInterval(S.countdownTimer);
  S.countdownTimer = setInterval(tick, 1000);
  speak("prompt", PROMPT);
}

function chooseLevel(level) {
  if (S.busy || !S.prompt) return;
  S.level = level;
  if (level <= 2 && S.reasons.length) {
    S.chosen = new Set();
    drawReasons();
    show("reasons");
    if (S.elder) speak("reasons", REASONS_PROMPT);
    return;
  }
  submit([]);
}

async function submit(reasons) {
  if (S.busy || !S.prompt) return;
  S.busy = true;
  for (const b of document.querySelectorAll(".level, .reason, [data-test-id=reasons-submit], [data-test-id=reasons-skip]")) {
    b.disabled = true;
  }
  const p = S.prompt;
  const body = { level: S.level, reasons };
  if (p.case) body.case = p.case; else body.ticket = p.ticket;
  try {
    const e = await api("POST", "/evaluations", body);
    S.doneWith = p.prompt;
    S.prompt = null;
    $("thanks-level").replaceChildren(`您的评价：${e.level_name} `, h("span", { class: "en", lang: "en" },
      `Your rating: ${e.level_name_en || LEVEL_EN[e.level]}`));
    show("thanks");
    speak("thanks", "感谢您的评价");
    S.busy = false;
    backToWaitIn(THANKS_MS);
  } catch (exc) {
    if (exc instanceof ApiError && exc.status === 401) { forget(); return; }
    S.doneWith = p.prompt;
    S.prompt = null;
    message(exc instanceof ApiError ? exc.err : { code: "error", message_zh: String(exc), message_en: String(exc) });
  } finally {
    for (const b of document.querySelectorAll("button")) b.disabled = false;
  }
}

// -- waiting for the window's prompt --------------------------------------------------------------------------
async function poll() {
  if (!S.token || S.polling) return;
  S.polling = true;
  try {
    const r = await api("GET", `/evaluations/pending?window=${WINDOW}`);
    setConnection("connected");
    S.levels = [...r.levels].sort((a, b) => b.level - a.level);
    S.reasons = r.reasons || [];
    const p = r.pending;
    if (S.screen === "rate" && (!p || p.prompt !== S.prompt?.prompt)) {
      // answered elsewhere (the key box), timed out or superseded: the next one, or wait
      S.prompt = null;
      if (p && p.prompt !== S.doneWith) showPrompt(p); else show("wait");
    } else if (S.screen === "wait" && p && p.prompt !== S.doneWith) {
      showPrompt(p);
    }
    // on the reasons screen the citizen is choosing: not taken away; the POST tells how it ends
  } catch (exc) {
    if (exc instanceof ApiError && (exc.status === 401 || exc.status === 403)) { forget(exc.err); return; }
    setConnection("reconnecting");
  } finally {
    S.polling = false;
  }
}

function setConnection(state) {
  const c = $("connection");
  if (c.dataset.state === state) return;
  c.dataset.state = state;
  c.textContent = state === "reconnecting" ? "连接中断，正在重连… reconnecting" : "";
}

function follow() {
  clearInterval(S.poller);
  S.poller = setInterval(poll, POLL_MS);
  if (typeof EventSocket !== "undefined" && !S.socket) {
    S.socket = new EventSocket({
      onEvent: (e) => { if (e.type.startsWith("evaluation.") && Number(e.data?.window) === WINDOW) poll(); },
      onReconnected: () => poll(),
    });
    api("GET", "/events?since=9007199254740991&limit=1").then((r) => S.socket.open(r.latest_seq))
      .catch(() => S.socket.open());
  }
  poll();
}

// -- log-in ---------------------------------------------------------------------------------------------------
async function logIn(ev) {
  ev.preventDefault();
  const form = ev.target;
  try {
    S.token = null;
    const r = await api("POST", "/auth/login", { username: form.username.value.trim(), password: form.password.value });
    S.token = r.token;
    const me = await api("GET", "/auth/me");
    if (me.role !== "evaluator" || me.window !== WINDOW) {
      await api("POST", "/auth/logout").catch(() => {});
      S.token = null;
      throw new ApiError(403, { code: "wrong_account", message_zh: `${me.username} 不是 ${WINDOW} 号窗口的评价器账号`,
        message_en: `${me.username} is not the evaluator account of window ${WINDOW}` });
    }
    sessionStorage.setItem(TOKEN_KEY, S.token);
    form.password.value = "";
    begin();
  } catch (exc) {
    S.token = null;
    loginError(exc instanceof ApiError ? exc.err : { message_zh: String(exc), message_en: "" });
  }
}

function loginError(err) {
  let p = document.querySelector('[data-test-id="login-error"]');
  if (!p) {
    p = h("p", { class: "login-error", "data-test-id": "login-error", role: "alert" });
    $("login-form").append(p);
  }
  p.dataset.code = err.code || "";
  p.replaceChildren(err.message_zh || "", " ", h("span", { class: "en", lang: "en" }, err.message_en || ""));
}

function begin() {
  $("logout").hidden = false;
  show("wait");
  follow();
}

function forget(err) {
  S.token = null;
  sessionStorage.removeItem(TOKEN_KEY);
  clearInterval(S.poller);
  $("logout").hidden = true;
  show("login");
  if (err) loginError(err);
}

function main() {
  setElder(S.elder);
  $("login-form").addEventListener("submit", logIn);
  $("elder-toggle").addEventListener("click", () => setElder(!S.elder));
  $("reasons-skip").addEventListener("click", () => submit([]));
  $("reasons-submit").addEventListener("click", () => submit([...S.chosen]));
  $("message-ok").addEventListener("click", () => { show("wait"); poll(); });
  $("audio-note").addEventListener("click", () => {
    $("audio-note").hidden = true;
    if (S.audio) S.audio.play().catch(() => {});
  });
  $("logout").addEventListener("click", async () => { await api("POST", "/auth/logout").catch(() => {}); forget(); });
  if (S.token) begin(); else show("login");
}

main();
