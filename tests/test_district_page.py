"""Issue 19, the district board /district in headless Chromium, against a real PostgreSQL (tests/pgcluster.py):
three in-process halls (district centre, street centre, community station) ship through the real shipper; the
district service runs under uvicorn in a thread of this process. The board shows every hall with what the API
says, changes on its own when a hall ships a new event (through the service's WebSocket), drills down to one hall's
windows and queues, shows the statistics per hall and summed (one level side by side), loads nothing from another
origin, and shows a hall offline once it stops shipping.
"""
from __future__ import annotations

import re
import threading
import time

import httpx
import pytest
import uvicorn
from conftest import MORNING
from pages import chromium, expect
from pgcluster import pg_cluster  # noqa: F401  (the fixture `pg`: the session's PostgreSQL)
from serverproc import free_port
from test_district_service import APPLICANT, act, caught_up, clerk, issue, start_hall, stop_hall, take_in, wait_for

from hall_server.clock import FakeClock
from hall_server.district.app import create_district_app

pytestmark = pytest.mark.slow
DISTRICT, STREET, STATION = "xialu-district", "dongfangshan-street", "shiliuyuan-community"
CONFIGS = {DISTRICT: "district-centre.toml", STREET: "street-centre.toml", STATION: "community-station.toml"}
OFFLINE_AFTER_S = 2.0            # the halls' shippers say they are there every 0.3 s


class DistrictServer:
    """The district service under uvicorn in a thread of this process."""

    def __init__(self, url: str, clock: FakeClock):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        app = create_district_app(url, clock=clock, interval_s=0.2, offline_after_s=OFFLINE_AFTER_S)
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    access_log=False))
        self.thread = threading.Thread(target=self.server.run, name="district-service", daemon=True)

    def start(self) -> DistrictServer:
        self.thread.start()
        end = time.monotonic() + 60
        while not self.server.started:
            assert self.thread.is_alive() and time.monotonic() < end, "the district service did not start"
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(5)
        if self.thread.is_alive():              # the board's WebSocket still open: do not wait for it
            self.server.force_exit = True
            self.thread.join(15)


class Api:
    """The district's JSON as the tests read it (through the page's own origin, with the browser's request)."""

    def __init__(self, page, base: str):
        self.page, self.base = page, base

    def get(self, path: str, **params) -> dict:
        r = self.page.request.get(self.base + path, params=params or None)
        assert r.ok, r.text()
        return r.json()

    def halls(self) -> dict[str, dict]:
        return {h["code"]: h for h in self.get("/api/v1/district/halls")["halls"]}


@pytest.fixture(scope="module")
def world(pg, tmp_path_factory):
    url = pg.create_database("district_page")
    base = tmp_path_factory.mktemp("district-page")
    clock = FakeClock(MORNING)
    halls = {code: start_hall(base / code, name, clock, url) for code, name in CONFIGS.items()}
    srv = DistrictServer(url, clock).start()
    try:
        dc, cs = halls[DISTRICT], halls[STATION]
        dc.w1 = clerk(dc, 1, "pclerk1")
        for _ in range(3):
            issue(dc, "WJ-001")
        clock.advance(seconds=75)
        issue(halls[STREET], "SH-001")
        cs.w1 = clerk(cs, 1, "psclerk1")
        issue(cs, "SH-001")
        act(cs, 1, "call-next", cs.w1)
        take_in(cs, cs.w1, accept=True)
        clock.advance(seconds=30)
        act(cs, 1, "finish", cs.w1)
        yield srv, clock, halls
    finally:
        srv.stop()
        for c in halls.values():
            stop_hall(c)


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture
def board(world, browser):
    srv, clock, halls = world
    wait_for(lambda: _caught_up(srv, halls), what="the district to apply every hall's events")
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(srv.base + "/district")
    expect(page.get_by_test_id("live")).to_have_attribute("data-state", "connected")
    page.requests = requests
    try:
        yield page, Api(page, srv.base), halls, clock
    finally:
        page.close()


def _caught_up(srv: DistrictServer, halls) -> bool:
    with httpx.Client(base_url=srv.base, timeout=10) as http:        # the service over real HTTP
        return caught_up(http, list(halls.values())) is not None


def row(page, code: str):
    return page.locator(f'[data-test-id="hall-row"][data-hall="{code}"]')


def test_the_board_shows_every_hall_and_follows_a_new_ticket_live(board):
    page, api, halls, _ = board
    rows = page.get_by_test_id("hall-row")
    expect(rows).to_have_count(3)
    assert [r.get_attribute("data-hall") for r in rows.all()] == [DISTRICT, STREET, STATION]
    view = api.halls()
    for code, h in view.items():
        r = row(page, code)
        expect(r).to_contain_text(h["name"])
        expect(r.get_by_test_id("hall-online")).to_contain_text("在线")
        expect(r.get_by_test_id("hall-waiting")).to_have_text(str(h["waiting"]))
        expect(r.get_by_test_id("hall-served")).to_have_text(str(h["served_today"]))
        expect(r.get_by_test_id("hall-open-windows")).to_have_text(f"{h['open_windows']}/{h['windows_total']}")
    assert (view[DISTRICT]["waiting"], view[STREET]["waiting"]) == (3, 1)
    expect(row(page, STATION).get_by_test_id("hall-cases")).to_contain_text("已受理 1")
    expect(row(page, DISTRICT).get_by_test_id("hall-longest")).to_have_text(re.compile(r"^1分"))
    expect(page.get_by_test_id("t-waiting")).to_have_text(str(sum(h["waiting"] for h in view.values())))
    text = page.locator("body").inner_text()
    assert APPLICANT["name"] not in text and APPLICANT["phone"] not in text and APPLICANT["id_number"] not in text

    # a new ticket at the street centre: shipped, projected, pushed, shown — nobody reloads the page
    issue(halls[STREET], "SH-001")
    expect(row(page, STREET).get_by_test_id("hall-waiting")).to_have_text("2")
    expect(page.get_by_test_id("t-waiting")).to_have_text(str(sum(h["waiting"] for h in view.values()) + 1))
    assert api.halls()[STREET]["waiting"] == 2
    local = [u for u in page.requests if not u.startswith(api.base) and not u.startswith("data:")]
    assert local == [], f"the board loaded from elsewhere: {local}"


def test_a_hall_drills_down_to_its_windows_and_queues(board):
    page, api, halls, clock = board
    dc = halls[DISTRICT]
    row(page, DISTRICT).get_by_test_id("hall-open").click()
    detail = page.get_by_test_id("hall-detail")
    expect(detail).to_be_visible()
    expect(page.get_by_test_id("detail-name")).to_have_text(dc.hall.cfg.hall.name)
    windows = detail.get_by_test_id("window-row")
    expect(windows).to_have_count(len(dc.hall.cfg.windows))
    expect(detail.locator('[data-test-id="window-row"][data-window="1"]')).to_have_attribute("data-state", "open")
    expect(detail.locator('[data-test-id="window-row"][data-window="3"]')).to_have_attribute("data-state", "closed")
    queue = detail.locator('[data-test-id="queue-row"][data-matter="WJ-001"]')
    waiting = api.get(f"/api/v1/district/halls/{DISTRICT}")["queues"][0]
    expect(queue.get_by_test_id("queue-waiting")).to_have_text(str(waiting["waiting"]))
    expect(queue.get_by_test_id("queue-next")).to_have_text("、".join(waiting["next"]))

    # window 1 calls the next: its ticket shows at the window, the queue is one shorter — live
    clock.advance(seconds=5)
    called = act(dc, 1, "call-next", dc.w1)
    w1 = detail.locator('[data-test-id="window-row"][data-window="1"]')
    expect(w1.get_by_test_id("window-current")).to_contain_text(called["number"])
    expect(queue.get_by_test_id("queue-waiting")).to_have_text(str(waiting["waiting"] - 1))
    assert page.url.endswith(f"#hall={DISTRICT}")
    page.get_by_test_id("detail-close").click()
    expect(detail).to_be_hidden()


def test_the_statistics_per_hall_and_summed_and_one_level_side_by_side(board):
    page, api, _, _ = board
    want = api.get("/api/v1/district/stats", **{"from": MORNING.date().isoformat(), "by": "hall"})
    stats = page.get_by_test_id("stats")
    expect(stats.get_by_test_id("s-row")).to_have_count(len(want["rows"]))
    total = stats.get_by_test_id("s-total")
    expect(total.locator("td").nth(0)).to_have_text(str(want["total"]["issued"]))
    expect(total.locator("td").nth(1)).to_have_text(str(want["total"]["served"]))
    chart = page.wait_for_function("() => { const c = document.querySelector('[data-test-id=\"s-chart\"]').chart;"
                                   " return c && c.data.labels.length; }")
    assert chart.json_value() == len(want["rows"])
    stats.get_by_test_id("s-level").select_option("community")
    expect(stats.get_by_test_id("s-row")).to_have_count(1)
    expect(stats.get_by_test_id("s-row")).to_have_attribute("data-hall", STATION)
    # a reversed range is said in both languages
    stats.get_by_test_id("s-from").fill("2026-11-30")
    stats.get_by_test_id("s-to").fill("2026-11-01")
    stats.get_by_test_id("s-apply").click()
    expect(stats.get_by_test_id("s-error")).to_contain_text("早于")
    expect(stats.get_by_test_id("s-error")).to_contain_text("before")


def test_a_hall_that_stops_shipping_is_shown_offline(board):
    page, _, halls, _ = board
    expect(row(page, STATION)).to_have_attribute("data-online", "true")
    stop_hall(halls[STATION])
    expect(row(page, STATION)).to_have_attribute("data-online", "false")
    expect(row(page, STATION).get_by_test_id("hall-online")).to_contain_text("离线")
    expect(row(page, DISTRICT)).to_have_attribute("data-online", "true")
