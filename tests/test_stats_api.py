"""GET /api/v1/stats and friends (issue 18): shapes, who may read them (401/403), the 422s naming their field in
both languages, an empty range that says so, the XLSX (Chinese headers, frozen header row, its sums equal to the
JSON totals) and the CSV (BOM, parses). One hall for the module: a morning of traffic through the API."""
from __future__ import annotations

import csv
import io
import time

import pytest
from api_helpers import assert_error, issue
from conftest import ADMIN_PASSWORD, MORNING, _login
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from hall_server.app import create_app
from hall_server.clock import FakeClock
from hall_server.runtime import Hall
from hall_server.stats.figures import FIGURES

DAY = MORNING.date().isoformat()
COUNTS = ("issued", "served", "no_show", "transferred", "cancelled", "cases_accepted", "rated", "complaints")


def caught_up(c, timeout: float = 30.0) -> None:
    """Wait until the stats projector has applied every committed event."""
    end = time.monotonic() + timeout
    while True:
        h = c.get("/api/v1/health").json()
        if h["stats"]["cursor"] >= h["latest_seq"]:
            return
        assert time.monotonic() < end, h["stats"]
        time.sleep(0.02)


@pytest.fixture(scope="module")
def c(tmp_path_factory, district_cfg):
    mp = pytest.MonkeyPatch()
    mp.setenv("ONEWINDOW_ADMIN_PASSWORD", ADMIN_PASSWORD)
    clock = FakeClock(MORNING)
    cfg = district_cfg.model_copy(update={"devices": (), "seats": ()})
    h = Hall(cfg, tmp_path_factory.mktemp("stats-api"), clock)
    h.stats.projector.delay_s = 0.01
    h.ensure_admin()
    with TestClient(create_app(h)) as client:
        client.hall = h
        client.admin = _login(client, "admin", ADMIN_PASSWORD)
        for user, role in (("sup", "supervisor"), ("clerk1", "clerk")):
            r = client.post("/api/v1/users", json={"username": user, "password": f"{user}-password", "role": role},
                            headers=client.admin)
            assert r.status_code == 201, r.text
        client.sup = _login(client, "sup", "sup-password")
        client.clerk = _login(client, "clerk1", "clerk1-password")
        for path in ("login", "open"):
            assert client.post(f"/api/v1/windows/1/{path}", headers=client.clerk).status_code == 200
        for _ in range(4):
            issue(client)
            clock.advance(seconds=40)
        for action in ("call-next", "start", "finish", "call-next", "skip", "call-next"):
            clock.advance(seconds=120)
            r = client.post(f"/api/v1/windows/1/{action}", headers=client.clerk)
            assert r.status_code == 200, (action, r.text)
        caught_up(client)
        yield client
    mp.undo()


def get(c, headers=None, **params):
    return c.get("/api/v1/stats", params={"from": DAY, "to": DAY, **params}, headers=headers or c.sup)


def test_by_window_rows_totals_and_definitions(c):
    r = get(c, by="window")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["from"] == body["to"] == DAY and body["by"] == "window" and body["empty"] is False
    assert set(body["definitions"]) == set(FIGURES)
    w1 = next(row for row in body["rows"] if row["key"] == "1")
    assert w1["label"].startswith("1号窗口")
    assert set(FIGURES) <= set(w1)
    assert (w1["issued"], w1["served"], w1["no_show"]) == (3, 1, 1)
    assert w1["open_s"] is not None and w1["handle_mean_s"] == 120.0
    assert body["totals"]["key"] == "全部" and body["totals"]["issued"] == 4
    for k in COUNTS:
        assert sum(row[k] for row in body["rows"]) == body["totals"][k], k


@pytest.mark.parametrize("by", ["window", "clerk", "matter", "group", "department", "channel", "day", "week",
                                "month", "hour"])
def test_every_by_adds_up_to_the_same_totals(c, by):
    body = get(c, by=by).json()
    assert body["totals"]["issued"] == 4
    assert sum(row["issued"] for row in body["rows"]) == 4
    if by in ("matter", "group", "hour"):
        assert all(row["open_s"] is None for row in body["rows"])     # not a matter's or an hour's figure


def test_weekday_hour_heat_map_keys(c):
    body = get(c, by="hour", group_by2="weekday").json()
    assert [row["key"] for row in body["rows"]] == ["2:09"]           # 2026-11-24 is a Tuesday, 09:xx
    assert body["rows"][0]["wait_p50_s"] is not None


def test_filters_combine_with_any_by(c):
    body = get(c, by="matter", window=1).json()
    assert body["totals"]["issued"] == 3
    assert get(c, by="window", clerk="nobody").json()["empty"] is True


def test_an_empty_range_says_so(c):
    r = c.get("/api/v1/stats", params={"from": "2025-01-01", "to": "2025-01-31", "by": "day"}, headers=c.sup)
    assert r.status_code == 200
    body = r.json()
    assert body["empty"] is True and body["rows"] == [] and "没有数据" in body["message"]
    assert body["totals"]["issued"] == 0 and body["totals"]["wait_p50_s"] is None


def test_who_may_read(c):
    assert_error(c.get("/api/v1/stats", params={"from": DAY, "to": DAY}), 401)
    assert_error(get(c, headers=c.clerk), 403, "role_forbidden")
    assert get(c, headers=c.admin).status_code == 200
    assert c.get("/api/v1/stats/today", headers=c.clerk).status_code == 200
    assert_error(c.get("/api/v1/stats/appraisal", params={"month": "2026-11"}, headers=c.clerk), 403)


@pytest.mark.parametrize("params,code,field", [
    ({"from": "2026-11-30", "to": "2026-11-01"}, "invalid_range", "from"),
    ({"from": "2020-01-01", "to": "2026-11-01"}, "range_too_long", "to"),
    ({"from": "2026-13-01", "to": "2026-11-01"}, "bad_date", "from"),
    ({"from": "2026-11-01", "to": "yesterday"}, "bad_date", "to"),
    ({"by": "colour"}, "unknown_by", "by"),
    ({"format": "pdf"}, "unknown_format", "format"),
    ({"by": "day", "group_by2": "weekday"}, "bad_group_by2", "group_by2"),
])
def test_bad_input_is_a_422_naming_the_field(c, params, code, field):
    r = c.get("/api/v1/stats", params={"from": DAY, "to": DAY, **params}, headers=c.sup)
    err = assert_error(r, 422, code)
    assert err["field"] == field
    assert field in err["message_en"] or field in err["message_zh"] or code == "range_too_long"


def test_xlsx_has_chinese_headers_a_frozen_row_and_the_json_totals(c):
    body = get(c, by="window").json()
    r = get(c, by="window", format="xlsx")
    assert r.status_code == 200
    assert f'stats-window-{DAY}-{DAY}.xlsx' in r.headers["content-disposition"]
    ws = load_workbook(io.BytesIO(r.content)).active
    header = [cell.value for cell in ws[1]]
    assert header[0] == "窗口" and FIGURES["issued"][0] in header and FIGURES["wait_p90_s"][0] in header
    assert ws.freeze_panes == "C2"
    assert ws.column_dimensions["B"].width >= 10
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert rows[-1][0] == "合计"
    for k in COUNTS:
        col = header.index(FIGURES[k][0])
        assert sum(row[col] or 0 for row in rows[:-1]) == rows[-1][col] == body["totals"][k], k


def test_csv_has_a_bom_and_parses(c):
    r = get(c, by="day", format="csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert table[0][0] == "日期" and table[1][0] == DAY and table[-1][0] == "合计"
    assert int(table[-1][table[0].index(FIGURES["issued"][0])]) == 4


def test_figures_and_today(c):
    f = c.get("/api/v1/stats/figures", headers=c.clerk).json()
    assert [x["key"] for x in f["figures"]] == list(FIGURES) and f["score"]["weights"]
    t = c.get("/api/v1/stats/today", headers=c.sup).json()
    assert t["day"] == DAY
    assert (t["issued"], t["served"], t["waiting"]) == (4, 1, 1)
    assert set(t) >= {"wait_p50_s", "good_rate", "cases_accepted", "cases_overdue", "complaints"}


def test_appraisal_ranks_and_exports(c):
    r = c.get("/api/v1/stats/appraisal", params={"month": MORNING.strftime("%Y-%m"), "of": "window"},
              headers=c.sup)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["rows"][0]["key"] == "1" and body["rows"][0]["rank"] == 1 and body["rows"][0]["score"] is not None
    assert abs(sum(body["weights"].values()) - 1) < 1e-9 and "score" in body["definitions"]
    x = c.get("/api/v1/stats/appraisal", params={"month": "2026-11", "of": "clerk", "format": "xlsx"},
              headers=c.sup)
    ws = load_workbook(io.BytesIO(x.content)).active
    assert [cell.value for cell in ws[1]][:4] == ["工作人员", "名称", "排名", "考核得分"]
    assert_error(c.get("/api/v1/stats/appraisal", params={"month": "2026-1"}, headers=c.sup), 422, "bad_date")
    assert_error(c.get("/api/v1/stats/appraisal", params={"month": "2026-11", "of": "matter"}, headers=c.sup), 422)
