"""The dashboard's open “办不成事” complaints panel in real Chromium (issue 17, item 5), against one server process.

A supervisor has /dashboard open. A complaint registered through the API (as the kiosk or window 7 would) appears
in the panel without a reload — the panel follows complaint.* events — at 待分类; classified (complex) and assigned
to 区民政局 it shows its class, department and the step now due, marked as the API marks its deadline, and links
to /complaints#<id>. Walked through 答复 → 反馈 → 核查 → 备案 it leaves the panel and the open count drops.
"""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def hall(tmp_path_factory):
    from kiosk_helpers import hall_config
    from serverproc import ServerProcess

    tmp = tmp_path_factory.mktemp("dashboard-complaints")
    srv = ServerProcess(tmp / "data", config=hall_config(tmp))
    srv.start()
    srv.http = srv.client(headers=srv.admin())
    for username, role, deps in (("dcsup", "supervisor", []), ("dcmz", "department", ["区民政局"])):
        body = {"username": username, "password": f"{username}-password", "role": role}
        if deps:
            body["departments"] = deps
        r = srv.http.post("/api/v1/users", json=body)
        assert r.status_code == 201, r.text
    srv.sup = srv.login("dcsup", "dcsup-password")
    srv.dept = srv.login("dcmz", "dcmz-password")
    yield srv
    srv.kill()


def post(hall, path: str, body: dict, headers: dict) -> dict:
    r = hall.http.post(path, json=body, headers=headers)
    assert r.status_code in (200, 201), r.text
    return r.json()


def test_a_complaint_shows_on_the_dashboard_until_it_is_filed(hall):
    from pages import chromium, expect

    errors: list[str] = []
    with chromium() as browser:
        ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
        p = ctx.new_page()
        p.on("pageerror", lambda exc: errors.append(str(exc)))
        p.goto(f"{hall.url}/dashboard")
        p.get_by_test_id("login-username").fill("dcsup")
        p.get_by_test_id("login-password").fill("dcsup-password")
        p.get_by_test_id("login-submit").click()
        expect(p.get_by_test_id("board")).to_be_visible()
        panel = p.get_by_test_id("bc-panel")
        expect(panel).to_be_visible()
        expect(panel).to_have_attribute("data-state", "ok")
        expect(p.get_by_test_id("bc-open")).to_have_text("0")
        expect(p.get_by_test_id("bc-rows")).to_contain_text("没有未办结")

        # two complaints: the panel follows the events, no reload
        keep = post(hall, "/api/v1/complaints", {"text": "低保申请材料清单与窗口说法不一致"}, hall.http.headers)
        c = post(hall, "/api/v1/complaints", {"text": "营业执照变更跑了两次没办成", "department": "区民政局",
                                              "contact": {"name": "李四", "phone": "13700002222"}},
                 hall.http.headers)
        cid = c["id"]
        expect(p.get_by_test_id("bc-open")).to_have_text("2")
        row = p.get_by_test_id(f"bc-row-{cid}")
        expect(row).to_have_attribute("data-status", "registered")
        expect(p.get_by_test_id(f"bc-step-{cid}")).to_contain_text("待分类")
        expect(p.get_by_test_id(f"bc-class-{cid}")).to_have_text("未分类")
        expect(p.get_by_test_id(f"bc-link-{cid}")).to_have_text(c["number"])
        expect(p.get_by_test_id(f"bc-link-{cid}")).to_have_attribute("href", f"/complaints#{cid}")
        assert "13700002222" not in panel.inner_text() and "李四" not in panel.inner_text()

        post(hall, f"/api/v1/complaints/{cid}/classify", {"class": "complex"}, hall.sup)
        expect(row).to_have_attribute("data-status", "classified")
        expect(p.get_by_test_id(f"bc-class-{cid}")).to_have_text("复杂")
        expect(p.get_by_test_id(f"bc-step-{cid}")).to_contain_text("待转办")
        post(hall, f"/api/v1/complaints/{cid}/assign", {"department": "区民政局"}, hall.sup)
        expect(row).to_have_attribute("data-status", "assigned")
        expect(p.get_by_test_id(f"bc-dept-{cid}")).to_have_text("区民政局")
        expect(p.get_by_test_id(f"bc-step-{cid}")).to_contain_text("待答复")
        now = hall.http.get(f"/api/v1/complaints/{cid}").json()
        expect(row).to_have_attribute("data-deadline", now["deadline"])
        expect(p.get_by_test_id(f"bc-due-{cid}")).to_contain_text(now["due"][5:])
        expect(p.get_by_test_id(f"bc-due-{cid}")).to_have_attribute("title", f"{now['due']} " + {
            "ok": "on time", "amber": "due soon", "red": "overdue"}[now["deadline"]])
        expect(p.get_by_test_id(f"bc-deadline-{cid}")).to_have_class(f"fdl fdl-{now['deadline']}")
        listed = hall.http.get("/api/v1/complaints", params={"status": "open"}).json()["complaints"]
        for x in ("amber", "red"):
            expect(p.get_by_test_id(f"bc-{x}")).to_have_text(str(sum(1 for y in listed if y["deadline"] == x)))

        # walked to 备案: it leaves the panel, the other one stays
        post(hall, f"/api/v1/complaints/{cid}/answer", {"text": "已与登记机关核实，材料一次告知"}, hall.dept)
        post(hall, f"/api/v1/complaints/{cid}/feedback", {"text": "已电话告知，群众认可"}, hall.sup)
        post(hall, f"/api/v1/complaints/{cid}/check", {}, hall.sup)
        expect(p.get_by_test_id(f"bc-step-{cid}")).to_contain_text("待备案")
        post(hall, f"/api/v1/complaints/{cid}/file", {}, hall.sup)
        expect(p.get_by_test_id("bc-open")).to_have_text("1")
        expect(row).to_have_count(0)
        expect(p.get_by_test_id(f"bc-row-{keep['id']}")).to_be_visible()

        # the link opens the complaint on the staff page
        p.get_by_test_id(f"bc-link-{keep['id']}").click()
        expect(p).to_have_url(f"{hall.url}/complaints#{keep['id']}")
        ctx.close()
    assert not errors, errors
