"""A case's notices (issue 15, item 7): 受理通知书, 一次性告知书 and 不予受理通知书 printed on a window's simulated
receipt printer (58 and 80 mm, through python-escpos and the ESC/POS simulator) and as A4 pages; the notices a
case's state does not allow, a window without a printer and a failing printer.

The cases are taken in through the cases API by clerks logged in at windows 1-3; the pure parts (which notice a
state allows, the competent organ, the layout) are tested on dicts of the API's shape.
"""
from __future__ import annotations

import re
import time

import cv2
import numpy as np
import pytest
from api_helpers import clerk_at
from escpos.printer import Dummy
from fastapi.testclient import TestClient
from PIL import Image, ImageDraw

from drivers.idcard import gb11643
from drivers.printer.notice import Field, Notice, SignLine, field_lines, notice_lines, write_notice
from drivers.printer.receipt import LAYOUTS, display_width
from hall_server.api import case_notices
from hall_server.app import create_app
from hall_server.cases.config import CasesPolicy
from hall_server.cases.notices import KINDS, competent_organ, day_text, notice_for, printed, unavailable
from hall_server.config import DeviceConfig
from hall_server.runtime import Hall

ADMIN_PASSWORD = "admin-test-password"
PHONE = "0714-6351234"
ORGAN = "下陆区行政审批局"
RIGHTS = ("如不服本决定，可在收到本通知之日起六十日内向下陆区人民政府申请行政复议，"
          "或者在六个月内向下陆区人民法院提起行政诉讼。")
MATTER = "RS-006"           # 失业保险金申领, 承诺件 of 5 working days
CHECKLIST = ["居民身份证原件", "社会保障卡", "解除或终止劳动合同证明"]
ID_NUMBER = "420203198503124238"
MASKED = gb11643.mask(ID_NUMBER)
PHONE_OF_APPLICANT = "13800001234"
FULL_ID = re.compile(r"\d{17}[\dXx]")
REASON = "该事项不属于本中心受理范围，请向区市场监管局申请"
NOTE = "解除劳动合同证明须加盖单位公章"


def squash(text: str) -> str:
    """Text without any space or line break (a line may break where a space stood)."""
    return re.sub(r"[\s\u3000]+", "", text)


def wait_for(cond, timeout: float = 10.0):
    end = time.monotonic() + timeout
    while not (value := cond()):
        assert time.monotonic() < end, "condition not reached"
        time.sleep(0.02)
    return value


@pytest.fixture
def client(tmp_path, district_cfg, clock, monkeypatch):
    """The district hall with a simulated printer at window 1 (80 mm) and window 2 (58 mm); window 3 has none."""
    monkeypatch.setenv("ONEWINDOW_ADMIN_PASSWORD", ADMIN_PASSWORD)
    printers = tuple(DeviceConfig(name=f"window{n}-printer", kind="printer", window=n,
                                  url=f"sim://printer?width={width}&out={tmp_path / f'w{n}'}") for n, width in
                     ((1, 80), (2, 58)))
    cfg = district_cfg.model_copy(update={
        "devices": printers, "seats": (),
        "cases": district_cfg.cases.model_copy(update={"organ": ORGAN, "complaint_phone": PHONE,
                                                       "review_rights": RIGHTS})})
    h = Hall(cfg, tmp_path, clock)
    h.ensure_admin()
    app = create_app(h)
    if not any(getattr(r, "path", "") == "/api/v1/cases/{case_id}/print" for r in app.routes):
        app.include_router(case_notices.router)        # until app.py registers it
    with TestClient(app) as c:
        c.hall, c.out = h, tmp_path
        c.admin = login(c, "admin", ADMIN_PASSWORD)
        c.make_user = lambda username, role: make_user(c, username, role)
        wait_for(lambda: all(s.since for s in h.devices.devices.values()), 60)
        yield c


def login(c, user: str, password: str) -> dict:
    r = c.post("/api/v1/auth/login", json={"username": user, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def make_user(c, username: str, role: str) -> dict:
    r = c.post("/api/v1/users", json={"username": username, "password": f"{username}-password", "role": role},
               headers=c.admin)
    assert r.status_code == 201, r.text
    return login(c, username, f"{username}-password")


def take_in(client, clerk: dict, missing: tuple[str, ...] = ()) -> dict:
    r = client.post("/api/v1/cases", headers=clerk, json={
        "matter": MATTER, "applicant": {"name": "王秀英", "phone": PHONE_OF_APPLICANT, "id_number": ID_NUMBER},
        "materials": [{"name": m, "state": "missing" if m in missing else "original"} for m in CHECKLIST]})
    assert r.status_code == 201, r.text
    return r.json()


def act(client, clerk: dict, case: dict, action: str, body: dict | None = None) -> dict:
    r = client.post(f"/api/v1/cases/{case['id']}/{action}", json=body or {}, headers=clerk)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture
def clerk(client):
    return clerk_at(client, 1)


@pytest.fixture
def cases(client, clerk) -> dict[str, dict]:
    """One case in each state a notice is about, taken in at windows 1 and 2 (and 3, which has no printer)."""
    clerk2, clerk3 = clerk_at(client, 2), clerk_at(client, 3)
    out = {"acceptance": act(client, clerk, take_in(client, clerk), "accept"),
           "supplement": act(client, clerk2, take_in(client, clerk2, missing=("社会保障卡",)), "request-supplement",
                             {"missing": ["解除或终止劳动合同证明"], "note": NOTE}),
           "refusal": act(client, clerk, take_in(client, clerk), "refuse",
                          {"reason": REASON, "competent_organ": "区市场监管局"}),
           "received": take_in(client, clerk),
           "at_window_3": act(client, clerk3, take_in(client, clerk3), "accept")}
    assert [out[k]["window"] for k in ("acceptance", "supplement", "at_window_3")] == [1, 2, 3]
    return {k: client.get(f"/api/v1/cases/{c['id']}", headers=clerk).json() for k, c in out.items()}


def must_say(kind: str, case: dict) -> list[str]:
    """What each notice must say (backoffice-rules.md), as it stands on paper and on the page."""
    common = [case["number"], "王秀英", MASKED, "失业保险金申领", ORGAN]
    if kind == "acceptance":
        return [*common, "受理通知书", "受理时间：2026年11月24日 09:00", "承诺办结日期",
                f"{day_text(case['due'])}（{case['promised_days']} 个工作日）", "法定办结日期",
                f"{day_text(case['legal_due'])}（{case['legal_days']} 个工作日）", "受理机关", "监督投诉电话", PHONE]
    if kind == "supplement":
        return [*common, "一次性告知书", "社会保障卡", "解除或终止劳动合同证明", "共 2 项", NOTE, "五日内", "一次告知",
                "需要补正的全部内容", "申请人签名", "日期", "2026年11月24日"]
    return [*common, "不予受理通知书", "不予受理理由", REASON, "有权机关：区市场监管局", RIGHTS, "行政复议", "行政诉讼",
            "2026年11月24日"]


def printed_receipts(client, window: int, count: int = 1) -> list:
    out = client.out / f"w{window}"
    return wait_for(lambda: len(found := sorted(out.glob("*.txt"))) >= count and found)


def decode_qr(image) -> str:
    """The QR code's text; OpenCV's classic detector misses a few percent of small-module codes on a long
    receipt, its ArUco-based one finds those."""
    for detector in (cv2.QRCodeDetector(), cv2.QRCodeDetectorAruco()):
        data, _, _ = detector.detectAndDecode(image)
        if data:
            return data
    return ""


# -- on the window's printer ----------------------------------------------------------------------------------
@pytest.mark.parametrize("window, width", [(1, 80), (2, 58)])
@pytest.mark.parametrize("kind", KINDS)
def test_each_notice_prints_on_the_windows_printer_with_what_it_must_say(client, clerk, cases, kind, window, width):
    c = cases[kind]
    r = client.post(f"/api/v1/cases/{c['id']}/print", json={"notice": kind, "window": window}, headers=clerk)
    assert r.status_code == 200, r.text
    assert r.json()["ok"] is True and r.json()["device"] == f"window{window}-printer"
    txt = printed_receipts(client, window)[-1]
    text = txt.read_text(encoding="utf-8")
    flat = squash(text)
    for words in must_say(kind, c):
        assert squash(words) in flat, (words, text)
    columns = LAYOUTS[width].columns
    assert all(display_width(line.rstrip()) <= columns for line in text.splitlines() if not line.startswith("[QR"))
    assert PHONE_OF_APPLICANT not in text and not FULL_ID.search(text)
    status = f"http://testserver/c/{c['query_code']}"
    if kind == "refusal":
        assert "[QR" not in text
    else:
        assert f"[QR {status}]" in text
        assert decode_qr(cv2.imread(str(txt.with_suffix(".png")))) == status


def test_the_window_defaults_to_the_one_that_took_the_case_in(client, clerk, cases):
    r = client.post(f"/api/v1/cases/{cases['supplement']['id']}/print", json={"notice": "supplement"}, headers=clerk)
    assert r.status_code == 200 and r.json()["device"] == "window2-printer"     # taken in at window 2
    assert "一次性告知书" in printed_receipts(client, 2)[-1].read_text(encoding="utf-8")
    assert not list((client.out / "w1").glob("*.txt"))


def test_a_print_is_in_the_event_log_with_who_printed_it(client, clerk, cases):
    c = cases["acceptance"]
    r = client.post(f"/api/v1/cases/{c['id']}/print", json={"notice": "acceptance"}, headers=clerk)
    assert r.status_code == 200
    events = client.get("/api/v1/events", params={"since": 0, "limit": 1000}).json()["events"]
    printed_events = [e for e in events if e["type"] == "notice.printed"]
    assert printed_events[-1]["data"] == {"case": c["id"], "number": c["number"], "notice": "acceptance",
                                          "device": "window1-printer", "window": 1, "by": "clerk1"}
    after = client.get(f"/api/v1/cases/{c['id']}", headers=clerk).json()
    assert after["status"] == "accepted" and after["history"] == c["history"]    # printing changes no case


def test_a_window_without_a_printer_is_409_saying_to_configure_one(client, clerk, cases):
    r = client.post(f"/api/v1/cases/{cases['at_window_3']['id']}/print", json={"notice": "acceptance"}, headers=clerk)
    assert r.status_code == 409
    err = r.json()["error"]
    assert err["code"] == "no_printer" and err["window"] == 3
    assert "3 号窗口" in err["message_zh"] and "window 3" in err["message_en"] and "configure" in err["message_en"]
    r = client.post(f"/api/v1/cases/{cases['acceptance']['id']}/print", json={"notice": "acceptance", "window": 99},
                    headers=clerk)
    assert r.status_code == 404 and r.json()["error"]["code"] == "window_not_found"


NOT_AVAILABLE = [            # (the case, the notice asked for, what the answer says)
    ("received", "acceptance", "not been accepted"),
    ("received", "supplement", "no 补正"),
    ("received", "refusal", "not refused"),
    ("acceptance", "supplement", "no 补正"),
    ("acceptance", "refusal", "not refused"),
    ("supplement", "acceptance", "not been accepted"),
    ("refusal", "acceptance", "not been accepted"),
    ("refusal", "supplement", "no 补正"),
]


def test_a_notice_the_cases_state_does_not_allow_is_409(client, clerk, cases):
    for which, kind, words in NOT_AVAILABLE:          # one hall for the table: each needs only reads
        c = cases[which]
        for r in (client.post(f"/api/v1/cases/{c['id']}/print", json={"notice": kind}, headers=clerk),
                  client.get(f"/cases/{c['id']}/notice/{kind}", headers=clerk)):
            assert r.status_code == 409, (which, kind, r.text)
            err = r.json()["error"]
            assert err["code"] == "notice_not_available" and words in err["message_en"], (which, kind, err)
            assert c["status"] in err["message_zh"] and err["notice"] == kind and err["case_status"] == c["status"]
    assert not list((client.out / "w1").glob("*.txt")) and not list((client.out / "w2").glob("*.txt"))


def test_a_supplement_case_completed_later_gets_its_acceptance_notice(client, clerk, cases):
    c = cases["supplement"]
    act(client, clerk, c, "materials", {"materials": [{"name": "社会保障卡", "state": "original"},
                                                      {"name": "解除或终止劳动合同证明", "state": "copy"}]})
    assert client.get(f"/cases/{c['id']}/notice/supplement", headers=clerk).status_code == 409
    r = client.get(f"/cases/{c['id']}/notice/acceptance", headers=clerk)
    assert r.status_code == 200 and "受理通知书" in r.text


def test_paper_out_answers_503_with_an_alert_and_changes_nothing(client, clerk, cases):
    c = cases["acceptance"]
    tech = client.make_user("tech", "technician")
    r = client.post("/api/v1/devices/window1-printer/simulate", json={"paper": "out"}, headers=tech)
    assert r.status_code == 200, r.text
    r = client.post(f"/api/v1/cases/{c['id']}/print", json={"notice": "acceptance"}, headers=clerk)
    assert r.status_code == 503
    body = r.json()
    assert body["ok"] is False and body["device"] == "window1-printer"
    assert body["error"]["code"] == "print_failed" and "paper" in body["error"]["reason"]
    assert c["number"] in body["error"]["message_zh"] and "A4" in body["error"]["message_en"]
    alerts = client.get("/api/v1/alerts").json()["alerts"]
    assert alerts[0]["kind"] == "print_failed" and alerts[0]["device"] == "window1-printer"
    assert c["number"] in alerts[0]["detail"]
    assert not list((client.out / "w1").glob("*.txt"))
    assert client.get(f"/api/v1/cases/{c['id']}", headers=clerk).json()["status"] == "accepted"


def test_only_staff_print_and_see_notices(client, cases):
    url = f"/api/v1/cases/{cases['acceptance']['id']}/print"
    page = f"/cases/{cases['acceptance']['id']}/notice/acceptance"
    tech = client.make_user("tech", "technician")
    assert client.post(url, json={"notice": "acceptance"}).status_code == 401
    assert client.post(url, json={"notice": "acceptance"}, headers=tech).status_code == 403
    assert client.get(page).status_code == 401
    assert client.get(page, headers=tech).status_code == 403
    sup = client.make_user("sup", "supervisor")
    assert client.get(page, headers=sup).status_code == 200


def test_a_case_taken_in_at_no_window_needs_the_window_named(client, clerk):
    sup = client.make_user("sup", "supervisor")                     # not logged in at a window
    c = act(client, sup, take_in(client, sup), "accept")
    assert c["window"] is None
    r = client.post(f"/api/v1/cases/{c['id']}/print", json={"notice": "acceptance"}, headers=clerk)
    assert r.status_code == 409 and r.json()["error"]["code"] == "no_window"
    r = client.post(f"/api/v1/cases/{c['id']}/print", json={"notice": "acceptance", "window": 1}, headers=clerk)
    assert r.status_code == 200 and r.json()["device"] == "window1-printer"


def test_bad_requests(client, clerk, cases):
    c = cases["acceptance"]
    r = client.post(f"/api/v1/cases/{c['id']}/print", json={"notice": "receipt"}, headers=clerk)
    assert r.status_code == 422
    r = client.post("/api/v1/cases/999/print", json={"notice": "acceptance"}, headers=clerk)
    assert r.status_code == 404 and r.json()["error"]["code"] == "case_not_found"
    assert client.get("/cases/999/notice/acceptance", headers=clerk).status_code == 404
    assert client.get(f"/cases/{c['id']}/notice/other", headers=clerk).status_code == 422


# -- the A4 page ----------------------------------------------------------------------------------------------
def svg_qr_image(svg: str) -> np.ndarray:
    """The inline SVG's modules (the qrcode package's path of unit squares) drawn as an image, to decode."""
    size = int(re.search(r'viewBox="0 0 (\d+) \d+"', svg).group(1))
    scale = 8
    img = Image.new("L", (size * scale, size * scale), 255)
    draw = ImageDraw.Draw(img)
    for x, y in re.findall(r"M(\d+),(\d+)H", svg):
        draw.rectangle((int(x) * scale, int(y) * scale, (int(x) + 1) * scale - 1, (int(y) + 1) * scale - 1), fill=0)
    return cv2.cvtColor(np.array(img), cv2.COLOR_GRAY2BGR)


@pytest.mark.parametrize("kind", KINDS)
def test_the_a4_page_says_what_the_paper_says_and_works_offline(client, clerk, cases, kind):
    c = cases[kind]
    r = client.get(f"/cases/{c['id']}/notice/{kind}", headers=clerk)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    visible = squash(re.sub(r"<[^>]+>", "", page))
    for words in must_say(kind, c):
        assert squash(words) in visible, words
    assert f'data-notice="{kind}"' in page and 'href="/static/notice.css"' in page
    assert not re.search(r'(src|href)="(https?:)?//', page)          # nothing from the network
    assert PHONE_OF_APPLICANT not in page and not FULL_ID.search(page)
    svg = re.search(r"<svg[^>]*data-test-id=\"notice-qr\".*?</svg>", page, re.S)
    if kind == "refusal":
        assert svg is None
    else:
        assert decode_qr(svg_qr_image(svg.group(0))) == f"http://testserver/c/{c['query_code']}"
    if kind == "supplement":
        assert page.count("<li ") == 2 and 'data-test-id="sign-line"' in page


def test_the_page_prints_on_a4():
    from hall_server.web.templates import STATIC
    css = (STATIC / "notice.css").read_text(encoding="utf-8")
    assert re.search(r"@page\s*{[^}]*size:\s*A4", css) and "@media print" in css
    assert "url(" not in css and "@import" not in css


# -- the notices' text, without a hall ------------------------------------------------------------------------
def shaped(status: str, **changes) -> dict:
    """A case dict of the shape the case API answers."""
    c = {"id": 12, "number": "XL-20261124-0012", "query_code": "q7Hk2mPzW1Rw", "matter": MATTER,
         "matter_name": "失业保险金申领", "kind": "承诺", "channel": "window", "ticket": None, "window": 1,
         "applicant": {"name": "王秀英", "phone": PHONE_OF_APPLICANT, "id_masked": MASKED}, "agent": None,
         "materials": [], "missing": [], "status": status, "outcome": None, "opinion": None, "reason": None,
         "supplement_note": None, "received_at": "2026-11-24T01:20:00+00:00", "accepted_at": None,
         "decided_at": None, "accept_day": None, "due": None, "legal_due": None, "promised_days": 5,
         "legal_days": 20, "suspended_days": 0, "extended_days": 0, "deadline": "ok", "departments": [],
         "history": []}
    c.update(changes)
    return c


ACCEPTED = shaped("accepted", accepted_at="2026-11-24T01:30:00+00:00", accept_day="2026-11-24", due="2026-12-01",
                  legal_due="2026-12-22", agent={"name": "李建国", "phone": "13900002222", "id_masked": "420***4238"})
FOR_KIND = {"acceptance": ACCEPTED,
            "supplement": shaped("supplement", missing=["社会保障卡", "解除或终止劳动合同证明" * 3],
                                 supplement_note=NOTE),
            "refusal": shaped("refused", reason=REASON * 2)}


@pytest.mark.parametrize("reason, organ", [
    ("该事项不属于本中心受理范围，请向区市场监管局申请", "区市场监管局"),
    ("依法应由下陆公安分局办理", "下陆公安分局"),
    ("请到市住房公积金中心下陆办事处办理", "市住房公积金中心下陆办事处"),
    ("申请人不符合申请条件", ""),
    ("", ""),
])
def test_the_competent_organ_is_found_in_the_reason(reason, organ):
    assert competent_organ({"reason": reason}) == organ
    assert competent_organ({"reason": reason, "competent_organ": "黄石市民政局"}) == "黄石市民政局"


@pytest.mark.parametrize("status, allowed", [
    ("received", set()), ("supplement", {"supplement"}), ("refused", {"refusal"}),
    ("accepted", {"acceptance"}), ("in_review", {"acceptance"}), ("suspended", {"acceptance"}),
    ("decided", {"acceptance"}), ("ready", {"acceptance"}), ("delivered", {"acceptance"}),
])
def test_which_notice_each_state_allows(status, allowed):
    assert {k for k in KINDS if unavailable({"status": status}, k) is None} == allowed


def test_a_withdrawn_case_keeps_its_acceptance_notice_only_if_it_was_accepted():
    assert unavailable({"status": "withdrawn", "accepted_at": "2026-11-24T01:30:00+00:00"}, "acceptance") is None
    assert unavailable({"status": "withdrawn", "accepted_at": None}, "acceptance") is not None


def test_the_status_link_uses_the_public_url_and_times_the_halls_zone(district_cfg):
    cfg = district_cfg.model_copy(update={"cases": CasesPolicy()})       # no organ, no complaint phone
    n = notice_for(ACCEPTED, "acceptance", cfg, "https://xialu.example.cn/")
    assert n.status_url == "https://xialu.example.cn/c/q7Hk2mPzW1Rw"
    fields = {e.label: e.text for e in n.entries if e.kind == "field"}
    assert fields["受理时间"] == "2026年11月24日 09:30"                 # 01:30 UTC in Asia/Shanghai
    assert fields["监督投诉电话"] == district_cfg.hall.phone              # no cases.complaint_phone: the hall's
    assert n.date == "2026年11月24日" and n.organ == district_cfg.hall.name     # no cases.organ: the hall's
    assert fields["代办人"] == "李建国" and "13900002222" not in str(n)


def test_an_instant_case_says_it_is_done_on_the_spot(district_cfg):
    c = {**ACCEPTED, "kind": "即办", "due": "2026-11-24", "legal_due": None, "promised_days": 0}
    n = notice_for(c, "acceptance", district_cfg, "http://h")
    fields = {e.label: e.text for e in n.entries if e.kind == "field"}
    assert fields["承诺办结"] == "即办件，当场办结" and "法定办结日期" not in fields


# -- the printed document -------------------------------------------------------------------------------------
@pytest.mark.parametrize("label, value, columns", [
    ("申请事项", "城乡居民基本养老保险参保登记（含补缴）", 32),
    ("承诺办结日期", "2026年12月1日（5 个工作日，含延期 2 个工作日）", 32),
    ("1.", "户口簿首页及本人页复印件一份，需要加盖公章", 48),
    ("一个非常非常长的标签名字", "值", 20),
])
def test_a_field_wraps_under_its_value_within_the_paper(label, value, columns):
    lines = field_lines(Field(label, value), columns)
    assert all(display_width(line) <= columns for line in lines)
    assert squash("".join(lines)) == squash(label + "：" + value)


def test_notice_bytes_are_gb18030_in_chinese_mode_with_a_native_qr_and_a_cut():
    p = Dummy()
    notice = Notice(title="受理通知书", heading=[ORGAN], reference="编号：XL-20261124-0012",
                    lines=[Field("申请人", "王秀英"), "经审查，决定予以受理。", SignLine("申请人签名")],
                    qr_url="http://testserver/c/abc", qr_caption="扫码查询办理进度", closing=[ORGAN, "2026年11月24日"])
    write_notice(p, notice)
    out = p.output
    assert out.startswith(b"\x1b@")
    assert b"\x1c&" + "受理通知书".encode("gb18030") + b"\x1c." in out
    assert b"\x1d(k" in out and b"http://testserver/c/abc" in out
    assert out.endswith(b"\x1bd\x06\x1dV\x00")
    assert any(line.startswith("申请人签名：____") for line in notice_lines(notice, 32))


@pytest.mark.parametrize("width", [58, 80])
def test_printed_notices_are_laid_out_for_the_paper(district_cfg, width):
    for kind, c in FOR_KIND.items():
        document = printed(notice_for(c, kind, district_cfg, "http://h"), width)
        columns = LAYOUTS[width].columns
        assert document.width == width
        assert all(display_width(line) <= columns for line in notice_lines(document, columns))


# -- the A4 page in a real browser ----------------------------------------------------------------------------
def open_in_chromium(client, browser, path: str, headers: dict):
    """`path` of the app in a chromium page: every request the page makes goes to the test client (the page
    needs nothing else; anything not of the hall fails)."""
    page = browser.new_page()

    def serve(route, request):
        if not request.url.startswith("http://hall.test/"):
            return route.abort()
        r = client.get(request.url.removeprefix("http://hall.test"), headers=headers)
        route.fulfill(status=r.status_code, body=r.content, content_type=r.headers["content-type"])

    page.route("**/*", serve)
    page.goto(f"http://hall.test{path}")
    return page


@pytest.fixture(scope="module")
def browser():
    from pages import chromium

    with chromium() as b:
        yield b


@pytest.mark.parametrize("kind", KINDS)
def test_the_page_prints_from_chromium_on_one_a4_sheet(client, clerk, cases, browser, kind):
    from pages import serious_axe_problems

    page = open_in_chromium(client, browser, f"/cases/{cases[kind]['id']}/notice/{kind}", clerk)
    try:
        page.get_by_test_id("notice-title").wait_for()
        assert serious_axe_problems(page) == []
        page.emulate_media(media="print")
        assert not page.get_by_test_id("print").is_visible()             # the button stays on screen
        if kind != "refusal":
            size = page.get_by_test_id("notice-qr").evaluate("e => e.getBoundingClientRect().width")
            assert 100 <= size <= 130                                     # 30 mm at 96 px per inch
        pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    finally:
        page.close()
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 1                 # one sheet
    box = [float(v) for v in re.search(rb"/MediaBox\s*\[([^\]]+)\]", pdf).group(1).split()]
    assert round(box[2] - box[0]) == 595 and round(box[3] - box[1]) == 842    # A4 in points
