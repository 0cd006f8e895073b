"""`make bench` (second part): call-next → announcement WAV ready, and call-next → calling screen updated.

A real hall server (the district config; calls allowed back to back) on var/bench/calling, Debian's
chromium showing /screen through Playwright. For each call-next the client measures:
  WAV ready     request sent → the call's /api/v1/announcements/{seq}.wav answered (it waits for the render)
                — new numbers (uncached: the voice speaks) and recalls (the same phrase: from the cache);
  screen        request sent → the screen's latest-number element shows the number (a MutationObserver in
                the page stamps the change with the browser's clock; same machine, same clock).
The announcer's own figure (call event received → WAV on disk) is reported beside them.
Writes a "Calling" section into docs/benchmarks.md (run after bench/run.py, which rewrites the file).
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

from lib import ROOT, Server, free_port, fresh_dir, pct

ADMIN_PASSWORD = "bench-admin-password"
DISTRICT = ROOT / "config" / "district-centre.toml"
WINDOWS = (1, 2, 3, 4, 5)                       # the 综合受理 windows: they serve SH-001
TARGET_MS = {"wav_cached": 100, "screen": 100}
START, END = "<!-- calling:start -->", "<!-- calling:end -->"
OBSERVER = """() => {
  window.__seen = {};
  const el = () => document.querySelector('[data-test-id="latest-number"]');
  new MutationObserver(() => {
    const n = (el() && el().textContent || '').trim();
    if (n && !(n in window.__seen)) window.__seen[n] = performance.timeOrigin + performance.now();
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def bench_config(path: Path, voice: str) -> Path:
    text = DISTRICT.read_text(encoding="utf-8")
    for key, value in (("call_debounce_s", "0"), ("recall_cooldown_s", "0"), ("recall_limit", "1000")):
        text = re.sub(rf"(?m)^{key}\s*=.*$", f"{key} = {value}", text)
    text = re.sub(r'(?m)^voice\s*=.*$', f'voice = "{voice}"', text)
    path.write_text(text, encoding="utf-8")
    return path


def run(voice: str, calls: int, gap_s: float, base: Path, still: bool = False) -> dict:
    from playwright.sync_api import sync_playwright

    d = fresh_dir(base / re.sub(r"\W+", "-", voice.split("?")[0]))
    srv = Server(d, free_port(), ADMIN_PASSWORD, str(bench_config(d.parent / f"{d.name}.toml", voice)))
    srv.start()
    url = f"http://127.0.0.1:{srv.port}"
    out: dict = {"voice": voice, "calls": calls}
    try:
        http = httpx.Client(base_url=url, timeout=30)
        admin = {"Authorization": "Bearer " + http.post("/api/v1/auth/login", json={
            "username": "admin", "password": ADMIN_PASSWORD}).json()["token"]}
        for n in WINDOWS:
            http.post(f"/api/v1/windows/{n}/open", headers=admin).raise_for_status()
        for _ in range(calls + len(WINDOWS)):
            http.post("/api/v1/tickets", json={"matter": "SH-001"}, headers=admin).raise_for_status()
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run"])
            page = browser.new_page(viewport={"width": 1920, "height": 1080})
            page.goto(f"{url}/screen?audio=0")
            page.wait_for_selector('[data-test-id="latest-number"]', state="attached")
            page.evaluate(OBSERVER)
            if still:                                   # (diagnosis) no CSS animations on the page
                page.add_style_tag(content="*, *::before, *::after { animation: none !important; }")
            time.sleep(1.0)                             # the screen is connected and idle

            def call(path: str, n: int) -> tuple[float, float, int, str]:
                since = http.get("/api/v1/events?limit=1&since=0").json()["latest_seq"]
                t_wall, t0 = time.time() * 1000, time.perf_counter()
                r = http.post(f"/api/v1/windows/{n}/{path}", headers=admin)
                r.raise_for_status()
                ev = [e for e in http.get(f"/api/v1/events?since={since}").json()["events"]
                      if e["type"] in ("ticket.called", "ticket.recalled")][-1]
                wav = http.get(f"/api/v1/announcements/{ev['seq']}.wav")
                wav.raise_for_status()
                return (time.perf_counter() - t0) * 1000, t_wall, ev["seq"], r.json()["number"]

            uncached, cached, screen, ready_ms = [], [], [], []
            for i in range(calls):
                n = WINDOWS[i % len(WINDOWS)]
                took, t_wall, seq, number = call("call-next", n)
                uncached.append(took)
                page.wait_for_function("n => n in window.__seen", arg=number, timeout=10_000)
                screen.append(page.evaluate("n => window.__seen[n]", number) - t_wall)
                ready_ms.append(http.get(f"/api/v1/announcements/{seq}").json()["ready_ms"])
                took, _, _, _ = call("recall", n)          # the same phrase again: from the cache
                cached.append(took)
                time.sleep(gap_s)
            browser.close()
        states = http.get("/api/v1/announcements").json()
        out.update(uncached_ms=uncached, cached_ms=cached, screen_ms=screen, announcer_ready_ms=ready_ms,
                   announcer=dict(states["announcements"]))
    finally:
        srv.stop()
    return out


def stats(xs: list[float]) -> str:
    return f"p50 {statistics.median(xs):.1f} ms, p99 {pct(xs, 99):.1f} ms (max {max(xs):.1f}, n={len(xs)})"


def section(results: list[dict], cmd: str) -> str:
    lines = [START, "## Calling: call-next → announcement WAV ready, and → calling screen updated", "",
             f"Command: `{cmd}` (after `bench/run.py`; `make bench` runs both).", "",
             "Each call-next (windows 1-5, a new number each time) is followed by a recall of the same ticket, "
             "whose phrase is then already rendered. *WAV ready* is measured by the client from sending the "
             "request to receiving the call's `/api/v1/announcements/{seq}.wav` (which waits for the render); "
             "*screen* from sending the request to the `/screen` page's number changing in headless chromium "
             "(MutationObserver, browser clock). *Announcer* is the server's own figure: call event received → "
             "WAV on disk.", "",
             "| voice | measure | result | target | verdict |", "|---|---|---|---|---|"]
    for r in results:
        rows = [("WAV ready, uncached (new number)", r["uncached_ms"], None),
                ("WAV ready, cached (recall)", r["cached_ms"], TARGET_MS["wav_cached"]),
                ("announcer: call event → WAV on disk (uncached)", r["announcer_ready_ms"], None),
                ("calling screen shows the number", r["screen_ms"], TARGET_MS["screen"])]
        for name, xs, target in rows:
            verdict = "" if target is None else ("pass" if pct(xs, 99) <= target else "FAIL")
            lines.append(f"| `{r['voice']}` | {name} | {stats(xs)} | {f'p99 ≤ {target} ms' if target else '—'} "
                         f"| {verdict} |")
    lines += ["", END]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=60)
    ap.add_argument("--gap-s", type=float, default=0.3, help="pause between two calls")
    ap.add_argument("--voices", default="tts://espeak?voice=cmn-latn-pinyin&rate=150,clips://zh")
    ap.add_argument("--no-doc", action="store_true")
    ap.add_argument("--still", action="store_true", help="(diagnosis) switch the page's CSS animations off")
    args = ap.parse_args()
    base = ROOT / "var" / "bench" / "calling"
    results = []
    for voice in args.voices.split(","):
        print(f"calling bench: {voice}, {args.calls} calls …", flush=True)
        r = run(voice, args.calls, args.gap_s, base, args.still)
        for key in ("uncached_ms", "cached_ms", "announcer_ready_ms", "screen_ms"):
            print(f"  {key:<20} {stats(r[key])}", flush=True)
        results.append(r)
    (ROOT / "bench" / "out").mkdir(exist_ok=True)
    (ROOT / "bench" / "out" / "calling.json").write_text(json.dumps(results, indent=1))
    if not args.no_doc:
        doc = ROOT / "docs" / "benchmarks.md"
        text = doc.read_text(encoding="utf-8") if doc.exists() else ""
        cmd = ".venv/bin/python bench/calling.py" + "".join(f" {a}" for a in sys.argv[1:])
        new = section(results, cmd)
        text = (re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: new, text, flags=re.S)
                if START in text else text.rstrip("\n") + "\n\n" + new + "\n")
        doc.write_text(text, encoding="utf-8")
        print("wrote the Calling section of docs/benchmarks.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
