"""Issue 19, cases across levels, with a real PostgreSQL (tests/pgcluster.py), the district's own projector
(hall_server/district: catch_up over the shipped events into d_cases) and three in-process halls built from
config/district-centre.toml, street-centre.toml and community-station.toml, each with [rollup] — one database
and one set of halls for the module; each test takes in a case of its own.

A 承诺件 (SH-003 临时救助申请, decided by 区民政局 at the district) taken in at the community station appears in
the district centre's department officer's worklist of other halls' cases, is claimed and decided there through
commands, applied once at the station, handed out at the station (ready → deliver), and found with its public
steps by a 跨域 query at the street centre. Then the faults: a command for a case withdrawn meanwhile is
rejected with the station's reason, shown at the district; commands sent while the station is down stay
pending and are applied when it starts again; a crash between the SQLite commit and the PostgreSQL settle, and a
command delivered again after it was settled, are each settled with the first outcome and never applied twice.
"""
from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import psycopg
import pytest
from api_helpers import assert_error, clerk_at
from district_helpers import HallClient, config, project, wait_for
from pgcluster import pg_cluster  # noqa: F401  (the fixture `pg`: the session's PostgreSQL)

from hall_server.cases.remote import apply_command
from hall_server.cases.service import ACTIONS
from hall_server.clock import FakeClock

MATERIALS_SH003 = ["居民身份证原件", "临时救助申请书", "遭遇困难的相关证明"]
APPLICANT = {"name": "张三", "phone": "13800000000", "id_number": "11010519491231002X"}
DISTRICT, STREET, STATION = "xialu-district", "dongfangshan-street", "shiliuyuan-community"
MORNING = datetime(2026, 11, 24, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))       # a Tuesday
COMMAND_FIELDS = ("id", "case_id", "case_number", "action", "body", "actor", "actor_role", "actor_departments",
                  "issued_by_hall")


class Levels:
    def __init__(self, url: str, halls: dict[str, HallClient]):
        self.url = url
        self.district, self.street, self.station = halls[DISTRICT], halls[STREET], halls[STATION]
        self.halls = halls
        self.mz = self.district.make_user("mz1", "department", departments=["区民政局"])
        self.clerk = clerk_at(self.station.c, 1, "stclerk")

    def project(self, *halls: HallClient) -> None:
        project(self.url, *(halls or self.halls.values()))

    def pg(self, sql: str, *args) -> list[tuple]:
        with psycopg.connect(self.url, autocommit=True) as conn:
            return [tuple(r) for r in conn.execute(sql, args).fetchall()] if sql.lstrip().startswith("SELECT") \
                else [conn.execute(sql, args).rowcount]


@pytest.fixture(scope="module")
def levels(pg, tmp_path_factory):
    url = pg.create_database("levels_case")
    base = tmp_path_factory.mktemp("levels")
    clock = FakeClock(MORNING)
    halls = {}
    try:
        for code, name in ((DISTRICT, "district-centre.toml"), (STREET, "street-centre.toml"),
                           (STATION, "community-station.toml")):
            halls[code] = HallClient(base / code, config(name), clock, url).start()
        yield Levels(url, halls)
    finally:
        for h in halls.values():
            h.stop()


# -- steps ---------------------------------------------------------------------------------------------------
def take_in_and_accept(lv: Levels) -> dict:
    station = lv.station
    r = station.c.post("/api/v1/cases", headers=lv.clerk, json={
        "matter": "SH-003", "applicant": APPLICANT, "materials": [{"name": n, "state": "original"} for n in
                                                                  MATERIALS_SH003]})
    assert r.status_code == 201, r.text
    case = r.json()
    assert case["kind"] == "承诺" and [t["department"] for t in case["departments"]] == ["区民政局"]
    r = station.c.post(f"/api/v1/cases/{case['id']}/accept", headers=lv.clerk)
    assert r.status_code == 200, r.text
    lv.project(station)
    return {**r.json(), "query_code": case["query_code"]}


def send(lv: Levels, case: dict, action: str, body: dict | None = None) -> dict:
    r = lv.district.c.post(f"/api/v1/remote-cases/{STATION}/{case['id']}/{action}", json=body or {}, headers=lv.mz)
    assert r.status_code == 202, r.text
    command = r.json()
    assert command["state"] == "pending" and command["hall"] == STATION and command["case_number"] == case["number"]
    return command


def command_of(lv: Levels, command_id: str) -> dict:
    r = lv.district.c.get(f"/api/v1/remote-commands/{command_id}", headers=lv.mz)
    assert r.status_code == 200, r.text
    return r.json()


def settled(lv: Levels, command_id: str) -> dict:
    return wait_for(lambda: (lambda c: c if c["state"] != "pending" else None)(command_of(lv, command_id)),
                    what="the station to settle the command")


def station_case(lv: Levels, case_id: int) -> dict:
    return lv.station.c.get(f"/api/v1/cases/{case_id}", headers=lv.station.admin).json()


def remote_list(lv: Levels, case: dict, headers: dict | None = None) -> tuple[list[dict], list[dict]]:
    """The district officer's other-halls worklist and commands, for this case only (the module shares halls)."""
    r = lv.district.c.get("/api/v1/remote-cases", headers=headers or lv.mz)
    assert r.status_code == 200, r.text
    out = r.json()
    return ([c for c in out["cases"] if c["number"] == case["number"]],
            [c for c in out["commands"] if c["case_number"] == case["number"]])


def confirmations(lv: Levels, command_id: str) -> list[dict]:
    """The station's own events about a command: command.applied / command.rejected naming it."""
    return [{"seq": r[0], "type": r[1], **json.loads(r[2])} for r in lv.station.rows(
        "SELECT seq, type, data FROM events WHERE type GLOB 'command.*' AND json_extract(data, '$.command') = ?"
        " ORDER BY seq", command_id)]


def case_event(lv: Levels, seq: int) -> str:
    return lv.station.rows("SELECT type FROM events WHERE seq = ?", seq)[0][0]


# -- the Done-when case --------------------------------------------------------------------------------------
def test_a_promised_case_taken_in_at_the_station_decided_at_the_district_handed_out_at_the_station(levels):
    lv = levels
    district, street, station = lv.district, lv.street, lv.station
    case = take_in_and_accept(lv)
    health_before = station.c.get("/api/v1/health").json()["rollup"]["commands"]

    # the district centre's 区民政局 officer: besides the local worklist, the station's case
    other = district.make_user("cl1", "department", departments=["区残联"])
    local = district.c.get("/api/v1/office/worklist", headers=lv.mz).json()
    assert all(c["number"] != case["number"] for c in local["cases"])          # the hall's own cases, as before
    out = district.c.get("/api/v1/remote-cases", headers=lv.mz).json()
    assert out["enabled"] and out["hall"] == DISTRICT and out["me"] == f"mz1@{DISTRICT}"
    [row] = [c for c in out["cases"] if c["number"] == case["number"]]
    assert row["hall"] == STATION and row["hall_name"] == "石榴园社区便民服务站" and row["status"] == "accepted"
    assert row["case_id"] == case["id"] and row["kind"] == "承诺" and row["matter_name"] == "临时救助申请"
    assert row["due"] == case["due"] and row["deadline"] == "ok" and row["working_days_left"] == 10
    assert row["departments"] == [{"department": "区民政局", "state": "open", "claimed_by": None, "outcome": None}]
    text = json.dumps(out, ensure_ascii=False)
    assert APPLICANT["name"] not in text and APPLICANT["phone"] not in text and case["query_code"] not in text
    assert remote_list(lv, case, other) == ([], [])                                # not 区残联's
    assert_error(district.c.post(f"/api/v1/remote-cases/{STATION}/{case['id']}/claim", json={}, headers=other),
                 403, "not_your_department")
    assert_error(district.c.post(f"/api/v1/remote-cases/{STATION}/{case['id']}/withdraw", json={}, headers=lv.mz),
                 422)                                                             # not an action a district sends

    # claim: a command, pending → applied at the station (confirming) → its event in d_cases (confirmed)
    claim = send(lv, case, "claim")
    done = settled(lv, claim["id"])
    assert done["state"] == "applied" and done["shown"] == "confirming" and done["status"] == "in_review"
    got = station_case(lv, case["id"])
    assert got["status"] == "in_review" and got["departments"][0]["claimed_by"] == f"mz1@{DISTRICT}"
    assert got["history"][-1]["action"] == "claimed" and got["history"][-1]["by"] == f"mz1@{DISTRICT}"
    [confirm] = confirmations(lv, claim["id"])
    assert confirm["type"] == "command.applied" and confirm["events"] == [done["applied_seq"]]
    assert case_event(lv, done["applied_seq"]) == "case.claimed"
    lv.project(station)
    assert command_of(lv, claim["id"])["shown"] == "confirmed"
    detail = district.c.get(f"/api/v1/remote-cases/{STATION}/{case['id']}", headers=lv.mz).json()
    assert detail["status"] == "in_review" and detail["me"] == f"mz1@{DISTRICT}"
    assert detail["departments"][0]["claimed_by"] == f"mz1@{DISTRICT}"
    assert [c["id"] for c in detail["commands"]] == [claim["id"]]

    # decide: approved, applied once at the station
    assert_error(district.c.post(f"/api/v1/remote-cases/{STATION}/{case['id']}/decide", json={}, headers=lv.mz),
                 422, "field_required")
    decide = send(lv, case, "decide", {"outcome": "approved", "opinion": "符合临时救助条件"})
    done = settled(lv, decide["id"])
    assert done["state"] == "applied" and done["status"] == "decided"
    got = station_case(lv, case["id"])
    assert got["status"] == "decided" and got["outcome"] == "approved" and got["opinion"] == "符合临时救助条件"
    assert case_event(lv, done["applied_seq"]) == "case.decided"
    assert [c["type"] for c in confirmations(lv, decide["id"])] == ["command.applied"]
    assert {r[0] for r in station.rows("SELECT id FROM applied_commands WHERE case_id = ?", case["id"])} == \
        {claim["id"], decide["id"]}

    # hand-out where the citizen applied: the station's own ready → deliver, after the remote decision
    r = station.c.post(f"/api/v1/cases/{case['id']}/ready", json={"via": "window"}, headers=lv.clerk)
    assert r.status_code == 200 and r.json()["status"] == "ready", r.text
    r = station.c.post(f"/api/v1/cases/{case['id']}/deliver", headers=lv.clerk,
                       json={"collector": {"name": APPLICANT["name"], "id_number": APPLICANT["id_number"]}})
    assert r.status_code == 200 and r.json()["status"] == "delivered", r.text
    lv.project(station)
    cases, commands = remote_list(lv, case)
    assert cases == []                                                # delivered: off the worklist
    assert [(c["action"], c["shown"]) for c in commands] == [("decide", "confirmed"), ("claim", "confirmed")]

    # 跨域 query at the street centre: by number (the kiosk's lookup) and by query code (the status API, the page)
    kiosk = street.make_user("kiosk-q", "kiosk")
    found = street.c.post("/api/v1/case-lookup", json={"number": case["number"]}, headers=kiosk)
    assert found.status_code == 200, found.text
    [public] = found.json()["cases"]
    assert public["hall"] == STATION and public["hall_name"] == "石榴园社区便民服务站"
    assert public["status"] == "delivered" and public["outcome"] == "approved" and public["remote"] is True
    assert [s["step"] for s in public["steps"]] == ["received", "accepted", "claimed", "decided", "ready",
                                                    "delivered"]
    assert public["steps"][2]["name"] == "部门审查" and public["steps"][2]["department"] == "区民政局"
    by_code = street.c.post("/api/v1/case-lookup", json={"query_code": case["query_code"]}, headers=kiosk).json()
    assert [c["number"] for c in by_code["cases"]] == [case["number"]]
    status = street.c.get(f"/api/v1/case-status/{case['query_code']}")
    assert status.status_code == 200 and status.json()["number"] == case["number"]
    assert status.json()["steps"] == public["steps"]
    text = json.dumps([public, by_code, status.json()], ensure_ascii=False)
    for secret in (APPLICANT["name"], APPLICANT["phone"], APPLICANT["id_number"], "mz1", case["query_code"]):
        assert secret not in text, secret
    page = street.c.get(f"/c/{case['query_code']}")
    assert page.status_code == 200 and case["number"] in page.text and APPLICANT["name"] not in page.text
    assert street.c.get("/c/NOSUCHCODE123").status_code == 404
    assert_error(street.c.get("/api/v1/case-status/NOSUCHCODE123"), 404, "case_not_found")
    assert street.c.post("/api/v1/case-lookup", json={"number": "NOSUCH-1"}, headers=kiosk).json() == {"cases": []}

    # the command runner's figures in health
    health = station.c.get("/api/v1/health").json()["rollup"]["commands"]
    assert health["running"] and health["connected"] and health["error"] is None
    assert health["applied"] == health_before["applied"] + 2 and health["rejected"] == health_before["rejected"]


def test_a_hall_without_rollup_has_no_remote_cases(client):
    r = client.post("/api/v1/users", json={"username": "mzx", "password": "mzx-password", "role": "department",
                                           "departments": ["区民政局"]}, headers=client.admin)
    assert r.status_code == 201, r.text
    mz = client.headers_for("mzx", "mzx-password")
    r = client.get("/api/v1/remote-cases", headers=mz)
    assert r.status_code == 200 and r.json()["enabled"] is False and r.json()["cases"] == []
    assert_error(client.post("/api/v1/remote-cases/elsewhere/1/claim", json={}, headers=mz), 404, "no_rollup")
    assert_error(client.get("/api/v1/case-status/NOSUCHCODE123"), 404, "case_not_found")
    assert "rollup" not in client.get("/api/v1/health").json()
    assert client.hall.commands is None and client.hall.remote_cases is None


# -- faults --------------------------------------------------------------------------------------------------
def test_a_command_for_a_case_withdrawn_meanwhile_is_rejected_with_the_stations_reason(levels):
    lv = levels
    case = take_in_and_accept(lv)
    assert [c["number"] for c in remote_list(lv, case)[0]] == [case["number"]]
    rejected_before = lv.station.c.get("/api/v1/health").json()["rollup"]["commands"]["rejected"]
    # the applicant withdraws at the station before the district officer acts on what it still lists
    r = lv.station.c.post(f"/api/v1/cases/{case['id']}/withdraw", json={"reason": "申请人撤回"}, headers=lv.clerk)
    assert r.status_code == 200 and r.json()["status"] == "withdrawn", r.text
    claim = send(lv, case, "claim")
    done = settled(lv, claim["id"])
    assert done["state"] == "rejected" and done["shown"] == "rejected" and done["applied_seq"] is None
    assert done["reason"]["code"] == "case_state" and "已撤回" in done["reason"]["message_zh"]
    assert "withdrawn" in done["reason"]["message_en"]
    assert station_case(lv, case["id"])["status"] == "withdrawn"
    [logged] = confirmations(lv, claim["id"])                       # the refusal is in the station's own log
    assert logged["type"] == "command.rejected" and logged["code"] == "case_state"
    assert [h["action"] for h in station_case(lv, case["id"])["history"]] == ["received", "accepted", "withdrawn"]
    lv.project(lv.station)
    cases, [shown] = remote_list(lv, case)
    assert cases == []                                               # withdrawn: no longer to be worked
    assert shown["id"] == claim["id"] and shown["shown"] == "rejected" and "已撤回" in shown["reason"]["message_zh"]
    assert lv.station.c.get("/api/v1/health").json()["rollup"]["commands"]["rejected"] == rejected_before + 1


def test_commands_sent_while_the_station_is_down_are_applied_when_it_returns(levels):
    lv = levels
    case = take_in_and_accept(lv)
    lv.station.stop()                                                # the station is offline
    try:
        claim = send(lv, case, "claim")
        suspend = send(lv, case, "suspend", {"reason": "现场核查"})
        _cases, commands = remote_list(lv, case)
        assert [(c["action"], c["shown"]) for c in commands] == [("suspend", "pending"), ("claim", "pending")]
        assert lv.pg("SELECT count(*) FROM commands WHERE case_number = %s AND state = 'pending'",
                     case["number"]) == [(2,)]
    finally:
        lv.station.start()                                           # back: both applied, in the order sent
    assert settled(lv, claim["id"])["state"] == "applied"
    assert settled(lv, suspend["id"])["state"] == "applied"
    got = station_case(lv, case["id"])
    assert got["status"] == "suspended" and [h["action"] for h in got["history"]] == [
        "received", "accepted", "claimed", "suspended"]
    lv.project(lv.station)
    assert {c["shown"] for c in remote_list(lv, case)[1]} == {"confirmed"}


def test_a_command_applied_before_a_crash_or_delivered_again_is_settled_once_never_applied_twice(levels):
    lv = levels
    case = take_in_and_accept(lv)
    station = lv.station
    runner = station.hall.commands
    runner.stop_sync()                       # nothing else takes the command while the crash is staged
    try:
        claim = send(lv, case, "claim")
        [row] = lv.pg(f"SELECT {', '.join('id::text' if f == 'id' else f for f in COMMAND_FIELDS)} FROM commands"
                      " WHERE id = %s", claim["id"])
        cmd = dict(zip(COMMAND_FIELDS, row, strict=True))
        # the runner's first half, as it ran before the crash: the case change and the command id, in SQLite
        first = apply_command(station.hall.store, station.hall.cases.ctx, ACTIONS, cmd)
        assert first["state"] == "applied" and case_event(lv, first["seq"]) == "case.claimed"
        assert command_of(lv, claim["id"])["state"] == "pending"     # PostgreSQL never heard of it
    finally:
        runner.start()                       # the runner again (the hall restarted): finds it pending, settles it
    done = settled(lv, claim["id"])
    assert done["state"] == "applied" and done["applied_seq"] == first["seq"]

    # delivered again (the row back to pending, as a restored or replayed district database would have it)
    assert lv.pg("UPDATE commands SET state = 'pending', settled_at = NULL, applied_seq = NULL WHERE id = %s",
                 claim["id"]) == [1]
    lv.pg("SELECT pg_notify('district_commands', %s)", STATION)
    again = settled(lv, claim["id"])
    assert again["state"] == "applied" and again["applied_seq"] == first["seq"]
    assert [h["action"] for h in station_case(lv, case["id"])["history"]] == ["received", "accepted", "claimed"]
    assert [c["type"] for c in confirmations(lv, claim["id"])] == ["command.applied"]
    assert station.rows("SELECT count(*) FROM applied_commands WHERE id = ?", claim["id"])[0][0] == 1
    assert apply_command(station.hall.store, station.hall.cases.ctx, ACTIONS, cmd) == first
