"""The statistics pages of issue 18 in headless Chromium: the reports /reports, the monthly 考核表
/reports/appraisal and the dashboard's headline figures of today.

One hall for the module, in this process (uvicorn in a thread, test_feedback_pages.InProcessHall) on a FakeClock:
two days of traffic through the engine (tickets issued, called and finished at windows 1 and 2 by two clerks) on
Monday 23 and Tuesday 24 November 2026, so the trend has two days and the heat map two weekdays. The pages read
GET /api/v1/stats… (api/stats.py) as a supervisor logged in through their own forms; the tests compare what they
show with what the API answers: the charts are drawn (a Chart instance with the data, pixels on the canvas), the
table's totals are the API's, a filter changes the rows, an empty range says so, the XLSX export downloads and
openpyxl opens it with the page's totals, the 考核表 ranks and prints on A4 without its controls, and the dashboard
counts a ticket issued today. axe-core finds nothing serious on the two report pages.

With ONEWINDOW_SCREENSHOTS=1 the last test seeds a year (hall_server.stats.seed, S3's), runs a hall on it and writes
docs/screenshots/reports.png and docs/screenshots/appraisal.png.
"""
from __future__ import annotations

import io
import os
import re
import sqlite3
import time
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from pages import chromium, expect, serious_axe_problems
from test_feedback_pages import API_ERROR, Desk, InProcessHall

from hall_server.clock import FakeClock

pytestmark = pytest.mark.slow
TZ = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=TZ)
MATTER = "WJ-001"                                           # served by windows 1-5
ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "docs" / "screenshots"
COUNTS = ("issued", "served", "no_show", "transferred", "cancelled")


def traffic(d: Desk, plan: list[tuple[int, int, int]]) -> None:
    """Each (window, wait s, handling s): a ticket issued, called at that window after the wait, finished after."""
    for window, wait_s, handle_s in plan:
        t = d.post("/api/v1/tickets", "admin", matter=MATTER)
        d.srv.clock.advance(seconds=wait_s)
        called = d.post(f"/api/v1/windows/{window}/call-next", f"stclerk{window}")
        assert called["id"] == t["id"], called
        d.srv.clock.advance(seconds=handle_s)
        d.post(f"/api/v1/windows/{window}/finish", f"stclerk{window}")
        d.srv.clock.advance(seconds=5)                      # past the call debounce


def open_windows(d: Desk) -> None:
    for n in (1, 2):
        d.post(f"/api/v1/windows/{n}/login", f"stclerk{n}")
        d.post(f"/api/v1/windows/{n}/open", f"stclerk{n}")


@pytest.fixture(scope="module")
def desk(tmp_path_factory, district_cfg):
    clock = FakeClock(MONDAY)
    cfg = district_cfg.model_copy(update={"devices": (), "seats": ()})
    srv = InProcessHall(tmp_path_factory.mktemp("stats-pages") / "data", cfg, clock).start()
    d = Desk(srv)
    d.make("stclerk1", "clerk")
    d.make("stclerk2", "clerk")
    d.make("stsup", "supervisor")
    open_windows(d)
    traffic(d, [(1, 120, 300), (2, 240, 200), (1, 600, 400), (1, 60, 100)])         # Monday
    clock.set(MONDAY + timedelta(days=1, hours=1))                                  # Tuesday 10:00
    d.tokens.clear()                                                                # Monday's have expired
    open_windows(d)
    traffic(d, [(2, 300, 250), (1, 900, 300), (2, 30, 600)])
    yield d
    d.http.close()
    srv.stop()


def stats(d: Desk, **query) -> dict:
    r = d.http.get("/api/v1/stats", params=query, headers=d.as_("stsup"))
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def opened(browser, desk):
    """open(path, user, ready): a page logged in through its own form; none logs an error or asks another host."""
    contexts = []
    host = urlsplit(desk.srv.url).netloc

    def open_(path: str, user: str = "stsup", ready: str = "report", viewport=(1600, 1000)):
        ctx = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, accept_downloads=True)
        pg = ctx.new_page()
        pg.errors, pg.foreign = [], []
        pg.on("console", lambda m: m.type == "error" and not API_ERROR.search(m.text) and pg.errors.append(m.text))
        pg.on("pageerror", lambda exc: pg.errors.append(f"page error: {exc}"))
        pg.on("request", lambda req: urlsplit(req.url).netloc not in (host, "") and pg.foreign.append(req.url))
        contexts.append((ctx, pg))
        pg.goto(desk.srv.url + path)
        pg.get_by_test_id("login-username").fill(user)
        pg.get_by_test_id("login-password").fill(f"{user}-password")
        pg.get_by_test_id("login-submit").click()
        if ready:
            expect(pg.get_by_test_id(ready)).to_be_visible()
        return pg

    yield open_
    for ctx, pg in contexts:
        ctx.close()
        assert not pg.errors, f"the page logged errors: {pg.errors}"
        assert not pg.foreign, f"the page asked other hosts: {pg.foreign}"


RANGE = "from=2026-11-01&to=2026-11-30"


def ready(pg) -> None:
    expect(pg.get_by_test_id("report")).to_have_attribute("data-state", "ready")


def drawn_pixels(pg, test_id: str) -> int:
    return pg.get_by_test_id(test_id).evaluate("""c => { const d = c.getContext('2d').getImageData(0, 0, c.width,
        c.height).data; let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; }""")


def totals_on_page(pg) -> dict[str, str]:
    cells = pg.get_by_test_id("row-totals").locator("td")
    return dict(zip(cells.evaluate_all("cs => cs.map(c => c.dataset.key)"),
                    cells.evaluate_all("cs => cs.map(c => c.dataset.value)"), strict=True))


def test_the_reports_page_draws_the_charts_the_table_with_the_apis_totals_and_the_definitions(desk, opened):
    pg = opened(f"/reports?{RANGE}&by=window")
    ready(pg)
    api = stats(desk, **{"from": "2026-11-01", "to": "2026-11-30", "by": "window"})
    assert api["totals"]["issued"] == 7 and api["totals"]["served"] == 7, api["totals"]
    # the trend has the two days, the bars the two windows: Chart instances with the API's numbers, drawn
    trend = pg.evaluate("""() => { const c = reportCharts.trend; return {labels: c.data.labels,
        issued: c.data.datasets[0].data, served: c.data.datasets[1].data}; }""")
    days = stats(desk, **{"from": "2026-11-01", "to": "2026-11-30", "by": "day"})
    assert trend["labels"] == [r["key"] for r in days["rows"]]
    assert "2026-11-23" in trend["labels"] and "2026-11-24" in trend["labels"]
    assert sum(v or 0 for v in trend["issued"]) == 7 and sum(v or 0 for v in trend["served"]) == 7
    served = pg.evaluate("() => reportCharts.served.data.datasets[0].data")
    assert sum(v or 0 for v in served) == 7
    for canvas in ("chart-trend", "chart-served", "chart-wait", "chart-good"):
        assert drawn_pixels(pg, canvas) > 500, canvas
    # the heat map: Monday and Tuesday have median waits in their cells, Sunday none
    heat = stats(desk, **{"from": "2026-11-01", "to": "2026-11-30", "by": "hour", "group_by2": "weekday"})
    keys = {r["key"] for r in heat["rows"] if r.get("wait_p50_s") is not None}
    assert keys and all(re.fullmatch(r"[1-7]:\d\d", k) for k in keys), keys
    for k in keys:
        day, hour = k.split(":")
        expect(pg.get_by_test_id(f"heat-{day}-{int(hour)}")).to_have_attribute("data-wait", re.compile(r"^\d"))
    expect(pg.get_by_test_id("heat-7-9")).not_to_have_attribute("data-wait", re.compile("."))
    # the table: one row per window the API has, and the totals row is the API's, figure by figure
    expect(pg.get_by_test_id("table-rows").locator("tr")).to_have_count(len(api["rows"]))
    on_page = totals_on_page(pg)
    for k in COUNTS:
        assert on_page[k] == str(api["totals"][k]), (k, on_page[k], api["totals"][k])
    for k, v in api["totals"].items():
        if k in on_page and isinstance(v, int | float) and not isinstance(v, bool):
            assert float(on_page[k]) == pytest.approx(v), k
        elif k in on_page and v is None:
            assert on_page[k] == "", k
    # the column headers are the API's Chinese names; the definitions are the API's words
    head = pg.get_by_test_id("table-head")
    expect(head.locator('th[data-key="issued"]')).to_contain_text("取号数")
    for k, text in api["definitions"].items():
        expect(pg.get_by_test_id(f"def-{k}")).to_have_text(text)
    assert serious_axe_problems(pg) == []


def test_filters_change_the_rows_and_an_empty_range_says_so(desk, opened):
    pg = opened(f"/reports?{RANGE}&by=window")
    ready(pg)
    expect(pg.get_by_test_id("row-1")).to_be_visible()
    expect(pg.get_by_test_id("row-2")).to_be_visible()
    pg.get_by_test_id("f-window").select_option("2")
    expect(pg.get_by_test_id("row-1")).to_have_count(0)
    ready(pg)
    only2 = stats(desk, **{"from": "2026-11-01", "to": "2026-11-30", "by": "window", "window": "2"})
    expect(pg.get_by_test_id("row-totals").locator('td[data-key="served"]')).to_have_attribute(
        "data-value", str(only2["totals"]["served"]))
    assert "window=2" in pg.url                                                  # the address keeps the filters
    pg.get_by_test_id("f-by").select_option("day")                               # rows by day, still window 2
    expect(pg.get_by_test_id("row-2026-11-23")).to_be_visible()
    expect(pg.get_by_test_id("row-2026-11-24")).to_be_visible()
    ready(pg)
    by_day = stats(desk, **{"from": "2026-11-01", "to": "2026-11-30", "by": "day", "window": "2"})
    assert totals_on_page(pg)["served"] == str(by_day["totals"]["served"])
    # a range without traffic: the API's words, no charts, no rows — not an error
    pg.get_by_test_id("f-window").select_option("")
    pg.get_by_test_id("f-from").fill("2025-03-01")
    pg.get_by_test_id("f-to").fill("2025-03-31")
    pg.get_by_test_id("f-apply").click()
    expect(pg.get_by_test_id("empty")).to_be_visible()
    expect(pg.get_by_test_id("empty")).to_contain_text("没有数据")
    expect(pg.get_by_test_id("charts")).to_be_hidden()
    expect(pg.get_by_test_id("error")).to_be_hidden()
    # the quick picks: 本月 is November 1st to today (Tuesday 24th, the hall's clock)
    pg.get_by_test_id("quick-month").click()
    expect(pg.get_by_test_id("f-from")).to_have_value("2026-11-01")
    expect(pg.get_by_test_id("f-to")).to_have_value("2026-11-24")
    expect(pg.get_by_test_id("quick-month")).to_have_attribute("aria-pressed", "true")
    expect(pg.get_by_test_id("empty")).to_be_hidden()
    # from after to: the API's 422 in both languages, naming the field
    pg.get_by_test_id("f-from").fill("2026-11-30")
    pg.get_by_test_id("f-to").fill("2026-11-01")
    pg.get_by_test_id("f-apply").click()
    expect(pg.get_by_test_id("error")).to_be_visible()
    expect(pg.get_by_test_id("error-en")).to_contain_text("from")


def test_a_clerk_is_refused_the_reports(opened):
    pg = opened("/reports", user="stclerk1", ready="error")
    expect(pg.get_by_test_id("error-code")).to_have_text("role_forbidden")
    expect(pg.get_by_test_id("report")).to_be_hidden()


def check_xlsx_totals(pg, filename: str) -> None:
    """The page's XLSX export: openpyxl opens it, Chinese headers, its totals row and the sums of its rows are the
    page's totals."""
    openpyxl = pytest.importorskip("openpyxl")
    on_page = totals_on_page(pg)
    with pg.expect_download() as got:
        pg.get_by_test_id("export-xlsx").click()
    download = got.value
    assert download.suggested_filename == filename
    book = openpyxl.load_workbook(io.BytesIO(Path(download.path()).read_bytes()))
    rows = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    header, body, totals = rows[0], rows[1:-1], rows[-1]
    for name, key in (("取号数", "issued"), ("办结数", "served"), ("过号数", "no_show"), ("取消数", "cancelled")):
        col = header.index(name)
        assert str(totals[col]) == on_page[key], (name, totals[col], on_page[key])
        assert sum(r[col] or 0 for r in body) == int(on_page[key]), name


def test_the_xlsx_export_downloads_and_openpyxl_opens_it_with_the_pages_totals(desk, opened):
    pg = opened(f"/reports?{RANGE}&by=window")
    ready(pg)
    check_xlsx_totals(pg, "stats-window-2026-11-01-2026-11-30.xlsx")
    with pg.expect_download() as got:
        pg.get_by_test_id("export-csv").click()
    text = Path(got.value.path()).read_bytes()
    assert text.startswith(b"\xef\xbb\xbf") and "取号数" in text.decode("utf-8-sig")


def test_the_appraisal_sheet_ranks_and_prints_on_a4_without_its_controls(desk, opened):
    pg = opened("/reports/appraisal?month=2026-11&of=window", ready="sheet")
    expect(pg.get_by_test_id("sheet")).to_have_attribute("data-state", "ready")
    r = desk.http.get("/api/v1/stats/appraisal", params={"month": "2026-11", "of": "window"},
                      headers=desk.as_("stsup"))
    assert r.status_code == 200, r.text
    api = r.json()
    ranked = sorted(api["rows"], key=lambda row: row["rank"])
    assert {row["key"] for row in ranked} >= {"1", "2"}
    rows = pg.get_by_test_id("table-rows").locator("tr")
    expect(rows).to_have_count(len(ranked))
    assert rows.evaluate_all("trs => trs.map(t => t.dataset.key)") == [row["key"] for row in ranked]
    expect(pg.get_by_test_id("sheet-title")).to_contain_text("2026 年 11 月")
    expect(pg.get_by_test_id("formula")).not_to_have_text("—")
    expect(pg.get_by_test_id("formula")).to_contain_text("得分")
    assert serious_axe_problems(pg) == []
    openpyxl = pytest.importorskip("openpyxl")                          # its XLSX: the same rows, in rank order
    with pg.expect_download() as got:
        pg.get_by_test_id("export-xlsx").click()
    assert got.value.suggested_filename == "appraisal-window-2026-11.xlsx"
    sheet = openpyxl.load_workbook(io.BytesIO(Path(got.value.path()).read_bytes())).worksheets[0]
    keys = [str(r[0]) for r in sheet.iter_rows(min_row=2, values_only=True) if r[0] != "合计"]
    assert keys == [row["key"] for row in ranked], keys
    # on paper: the sheet, none of the controls; the page is A4
    pg.emulate_media(media="print")
    try:
        expect(pg.get_by_test_id("table")).to_be_visible()
        for hidden in ("controls", "print", "export-xlsx", "logout", "to-reports"):
            expect(pg.get_by_test_id(hidden)).to_be_hidden()
        pdf = pg.pdf(prefer_css_page_size=True)                         # @page { size: A4 }: 595 × 842 pt
        boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
        assert boxes and all(abs(float(w) - 595.3) < 2 and abs(float(h) - 841.9) < 2 for w, h in boxes), boxes
    finally:
        pg.emulate_media(media="screen")
    expect(pg.get_by_test_id("controls")).to_be_visible()
    pg.get_by_test_id("a-of-clerk").click()                             # the clerks' sheet of the same month
    expect(pg).to_have_url(re.compile(r"of=clerk"))
    expect(pg.get_by_test_id("row-stclerk1")).to_be_visible()


def test_the_dashboard_shows_todays_issued_count_after_a_ticket_is_issued(desk, opened):
    pg = opened("/dashboard", ready="board")
    strip = pg.get_by_test_id("st-panel")
    expect(strip).to_be_visible()
    r = desk.http.get("/api/v1/stats/today", headers=desk.as_("stsup"))
    assert r.status_code == 200, r.text
    before = r.json()["issued"]
    expect(pg.get_by_test_id("st-issued")).to_have_text(str(before))
    desk.post("/api/v1/tickets", "admin", matter=MATTER)
    expect(pg.get_by_test_id("st-issued")).to_have_text(str(before + 1))
    expect(pg.get_by_test_id("st-waiting")).to_have_text(str(r.json()["waiting"] + 1))


def caught_up(status: dict) -> bool:
    return status["batches"] > 0 and status["lag_events"] == 0


# -- docs/screenshots of a seeded year --------------------------------------------------------------------------
@pytest.mark.skipif(os.environ.get("ONEWINDOW_SCREENSHOTS") != "1", reason="writes docs/screenshots only on demand")
def test_screenshots_of_a_seeded_year(tmp_path, district_cfg, browser):
    """The year ending 2026-11-30 seen on 1 December. ONEWINDOW_SEEDED_DB names a store seeded already (e.g. the
    full year of `python -m hall_server.stats.seed --db var/seed-year.sqlite`), copied here; without it a year at
    ONEWINDOW_SEED_SCALE (0.1: some 100,000 tickets) is seeded. Aggregates never built are rebuilt; a store a little
    behind is caught up by the hall's projector before the pages are read."""
    data = tmp_path / "data"
    data.mkdir()
    seeded = os.environ.get("ONEWINDOW_SEEDED_DB")
    cursor = None
    if seeded:
        for name in ("hall.db", "stats.db"):            # the statistics beside it, if they were built
            source = Path(seeded).with_name("stats.db") if name == "stats.db" else Path(seeded)
            if source.exists():
                with closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src, \
                        closing(sqlite3.connect(data / name)) as dst:
                    src.backup(dst)
        if (data / "stats.db").exists():
            with closing(sqlite3.connect(data / "stats.db")) as conn:
                cursor = conn.execute("SELECT value FROM meta WHERE key='stats_seq'").fetchone()
    else:
        seed = pytest.importorskip("hall_server.stats.seed")
        seed.seed(data / "hall.db", scale=float(os.environ.get("ONEWINDOW_SEED_SCALE", "0.1")), seed=1)
    clock = FakeClock(datetime(2026, 12, 1, 9, 0, tzinfo=TZ))
    cfg = district_cfg.model_copy(update={"devices": (), "seats": ()})
    srv = InProcessHall(data, cfg, clock)
    if cursor is None:
        srv.hall.stats.rebuild()                        # the aggregates of the seeded log, as `stats rebuild` does
    # the supervisor straight into the store: a copied store has an admin of its own, whose password is not ours
    srv.hall.store.write_sync(lambda conn: srv.hall.auth.create_user(conn, "shotsup", "shotsup-password", "supervisor",
                                                                     clock.now()))
    srv.start()
    try:
        d = Desk(srv)
        end = time.monotonic() + 600                    # a store a little behind: the projector catches up
        while not caught_up(srv.hall.stats.projector.status()):
            assert time.monotonic() < end, srv.hall.stats.projector.status()
            time.sleep(0.2)
        ctx = browser.new_context(viewport={"width": 1600, "height": 1000}, device_scale_factor=1)
        pg = ctx.new_page()
        pg.goto(srv.url + "/reports?from=2025-12-01&to=2026-11-30&by=window")
        pg.get_by_test_id("login-username").fill("shotsup")
        pg.get_by_test_id("login-password").fill("shotsup-password")
        pg.get_by_test_id("login-submit").click()
        expect(pg.get_by_test_id("report")).to_have_attribute("data-state", "ready", timeout=120_000)
        assert drawn_pixels(pg, "chart-trend") > 500
        SHOTS.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(SHOTS / "reports.png"), full_page=True)
        check_xlsx_totals(pg, "stats-window-2025-12-01-2026-11-30.xlsx")        # the year's sheet sums to the page
        pg.goto(srv.url + "/reports/appraisal?month=2026-11&of=window")
        expect(pg.get_by_test_id("sheet")).to_have_attribute("data-state", "ready", timeout=120_000)
        pg.screenshot(path=str(SHOTS / "appraisal.png"), full_page=True)
        ctx.close()
        d.http.close()
    finally:
        srv.stop()
