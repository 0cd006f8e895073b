// A case's notice (受理通知书, 一次性告知书, 不予受理通知书) printed two ways from the window terminal:
//   on this window's receipt printer — POST /api/v1/cases/{id}/print {notice, window}
//   as an A4 page — GET /cases/{id}/notice/{kind}, which carries the applicant's name and so asks for the
//   clerk's token like the API: fetched with it, written into a new window and printed with the browser.
// A print that fails changes nothing of the case: the clerk is told why, in Chinese and English.

import { ApiError, api, staffPage } from "./terminal_api.js";
import { explain } from "./case_words.js";

const NOT_YET = {
  window: ["本服务器尚不能在窗口打印机上打印通知书：请改用 A4 打印，或请技术人员升级服务器",
    "this hall server cannot print notices on a window printer yet: print the A4 page, or ask a technician"],
  a4: ["本服务器尚无 A4 通知书页面：请改用窗口打印，或请技术人员升级服务器",
    "this hall server has no A4 notice page yet: print at the window, or ask a technician"],
};

// A route the server does not have answers 404 `not_found` (an unknown case says `case_not_found`).
function missingRoute(e, which) {
  if (e instanceof ApiError && e.status === 404 && e.code === "not_found") {
    return new ApiError(404, { code: "not_found", message_zh: NOT_YET[which][0], message_en: NOT_YET[which][1] });
  }
  return e;
}

export async function printAtWindow(caseId, notice, windowNumber) {
  try {
    return await api("POST", `/cases/${caseId}/print`, { notice, window: windowNumber });
  } catch (e) {
    throw missingRoute(e, "window");
  }
}

// show(state, zh, en): where the terminal reports how it went ("busy", "ok", "error").
export function printA4(caseId, kind, show) {
  const w = window.open("", "_blank");         // now, within the click: after an await the browser would block it
  if (!w) {
    show("error", "浏览器阻止了新窗口：请允许本站弹出窗口后重试", "the browser blocked the new window: allow pop-ups "
      + "for this site and try again");
    return;
  }
  show("busy", "正在打开 A4 通知书…", "opening the A4 notice…");
  staffPage(`/cases/${caseId}/notice/${kind}`).then((html) => {
    w.document.open();
    w.document.write(html);        // the page's /static links resolve against this page's address
    w.document.close();
    const go = () => { w.focus(); w.print(); };
    if (w.document.readyState === "complete") go();
    else w.addEventListener("load", go, { once: true });
    show("ok", "A4 通知书已在新窗口打开：请在打印对话框中选 A4 纸打印", "the A4 notice is open in a new window: "
      + "print it on A4 paper");
  }).catch((e) => {
    w.close();
    show("error", ...explain(missingRoute(e, "a4")));
  });
}
