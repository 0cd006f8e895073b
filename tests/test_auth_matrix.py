"""Who may do what (design.md "Authentication", issue 2 §7): every role × every action, plus passwords,
tokens and the first-start admin password.

Expected outcome classes:
  ok  — the role may do it: any answer but 401/403 (2xx, or a 204/409 the queue's state gives)
  401 — not authenticated
  403 — authenticated, but the role (or, for a clerk, the window) does not allow it
The table is derived from the design: kiosk may only issue tickets; a clerk acts on the window they are
logged in to (and may take a free window, issue at the counter, put a returning no-show back in line,
and read tickets); a supervisor may do anything queue-related (but does not take a window as its clerk);
a technician only reads; admin may do anything; anonymous callers nothing.
"""
from __future__ import annotations

import re
import shutil
import sqlite3

import httpx
import pytest
from conftest import ADMIN_PASSWORD, MORNING
from fastapi.testclient import TestClient
from serverproc import ServerProcess, always_open_config

from hall_server.accounts import auth
from hall_server.app import create_app
from hall_server.clock import FakeClock
from hall_server.runtime import Hall

OK, UNAUTH, FORBID = "ok", 401, 403
ROLES = ["kiosk", "clerk_on_3", "clerk_elsewhere", "supervisor", "technician", "admin", "anonymous"]

WINDOW_ACTIONS = ["call-next", "recall", "start", "skip", "finish", "transfer", "pause", "resume", "open",
                  "close", "login", "logout"]
ACTIONS = ["issue", *[f"window:{a}" for a in WINDOW_ACTIONS], "requeue", "cancel", "ticket_transfer",
           "create_user", "list_users", "ticket_list", "history"]


def _expected() -> dict[tuple[str, str], object]:
    table: dict[tuple[str, str], object] = {}
    for action in ACTIONS:
        table["admin", action] = OK
        table["anonymous", action] = UNAUTH
        table["kiosk", action] = OK if action == "issue" else FORBID
        table["technician", action] = OK if action in ("ticket_list", "history") else FORBID
        admin_only = action in ("create_user", "list_users")
        supervisor_only = action in ("cancel", "ticket_transfer")
        table["supervisor", action] = FORBID if admin_only or action == "window:login" else OK
        table["clerk_on_3", action] = FORBID if admin_only or supervisor_only else OK
        if action.startswith("window:"):
            # not their window; taking it is the one thing they may try (refused by state: it is taken)
            table["clerk_elsewhere", action] = OK if action == "window:login" else FORBID
        else:
            table["clerk_elsewhere", action] = table["clerk_on_3", action]
    return table


EXPECTED = _expected()


@pytest.fixture(scope="module")
def template(tmp_path_factory, district_cfg):
    """The scene, built once (scrypt is slow on purpose) and copied for every case: window 3 open with
    clerk3 logged in and ticket B called there; A is a no-show, C and D wait; clerk4 is logged in to
    window 4; a kiosk, a supervisor and a technician have tokens."""
    data = tmp_path_factory.mktemp("auth-scene")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ONEWINDOW_ADMIN_PASSWORD", ADMIN_PASSWORD)
        hall = Hall(district_cfg, data, FakeClock(MORNING))
        hall.ensure_admin()
    with TestClient(create_app(hall)) as c:
        admin = _login(c, "admin", ADMIN_PASSWORD)
        heads = {}
        for key, username, role in (("clerk_on_3", "clerk3", "clerk"), ("clerk_elsewhere", "clerk4", "clerk"),
                                    ("kiosk", "a_kiosk", "kiosk"), ("supervisor", "a_supervisor", "supervisor"),
                                    ("technician", "a_technician", "technician")):
            r = c.post("/api/v1/users", json={"username": username, "password": f"{username}-password",
                                              "role": role}, headers=admin)
            assert r.status_code == 201, r.text
            heads[key] = _login(c, username, f"{username}-password")
        for n, h in ((3, heads["clerk_on_3"]), (4, heads["clerk_elsewhere"])):
            assert c.post(f"/api/v1/windows/{n}/login", headers=h).status_code == 200
            assert c.post(f"/api/v1/windows/{n}/open", headers=h).status_code == 200
        ids = {}
        for name in "ABCD":
            r = c.post("/api/v1/tickets", json={"matter": "WJ-001"}, headers=admin)
            assert r.status_code == 201
            ids[name] = r.json()["id"]
        assert c.post("/api/v1/windows/3/call-next", headers=heads["clerk_on_3"]).json()["id"] == ids["A"]
        assert c.post("/api/v1/windows/3/skip", headers=heads["clerk_on_3"]).json()["status"] == "no_show"
        assert c.post("/api/v1/windows/3/call-next", headers=heads["clerk_on_3"]).json()["id"] == ids["B"]
    return data, {"ids": ids, **heads}


@pytest.fixture
def _seeded(template, tmp_path):
    src, _ = template
    for f in src.iterdir():
        if f.name.startswith("hall.db"):
            shutil.copy(f, tmp_path / f.name)


@pytest.fixture
def client(_seeded, client):
    """The conftest client, started on a copy of the scene."""
    return client


@pytest.fixture
def scene(template, client, clock):
    """The scene of `template`, with the clock moved on so call-next and recall are not refused for
    being too soon."""
    clock.advance(seconds=20)
    return template[1]


def _login(c, username: str, password: str) -> dict:
    r = c.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def _headers(client, scene, role: str) -> dict:
    if role == "anonymous":
        return {}
    if role == "admin":
        return client.admin
    return scene[role]


def _request(client, scene, action: str, headers: dict) -> httpx.Response:
    ids = scene["ids"]
    if action.startswith("window:"):
        name = action.split(":", 1)[1]
        body = {"to_window": 5, "reason": "matrix"} if name == "transfer" else None
        return client.post(f"/api/v1/windows/3/{name}", json=body, headers=headers)
    if action == "issue":
        return client.post("/api/v1/tickets", json={"matter": "WJ-001"}, headers=headers)
    if action == "requeue":
        return client.post(f"/api/v1/tickets/{ids['A']}/requeue", headers=headers)
    if action == "cancel":
        return client.post(f"/api/v1/tickets/{ids['C']}/cancel", json={"reason": "matrix"}, headers=headers)
    if action == "ticket_transfer":
        return client.post(f"/api/v1/tickets/{ids['D']}/transfer", json={"to_window": 5}, headers=headers)
    if action == "create_user":
        return client.post("/api/v1/users", json={"username": "newbie", "password": "newbie-password",
                                                  "role": "clerk"}, headers=headers)
    if action == "list_users":
        return client.get("/api/v1/users", headers=headers)
    if action == "ticket_list":
        return client.get("/api/v1/tickets", headers=headers)
    if action == "history":
        return client.get(f"/api/v1/tickets/{ids['A']}/history", headers=headers)
    raise AssertionError(action)


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("role", ROLES)
def test_role_action_matrix(client, scene, role, action):
    expected = EXPECTED[role, action]
    headers = _headers(client, scene, role)
    before = client.get("/api/v1/events", params={"since": 0, "limit": 1}).json()["latest_seq"]
    r = _request(client, scene, action, headers)
    if expected == OK:
        assert r.status_code in (200, 201, 204, 409), (role, action, r.status_code, r.text)
        if r.status_code == 409:
            assert r.json()["error"]["code"] not in ("not_your_window", "role_forbidden")
    else:
        assert r.status_code == expected, (role, action, r.status_code, r.text)
        err = r.json()["error"]
        assert err["message_zh"] and err["message_en"]
        if expected == FORBID:
            # a clerk is refused for the window; everyone else for their role
            why = "not_your_window" if role == "clerk_elsewhere" and action.startswith("window:") else "role_forbidden"
            assert err["code"] == why, err
        after = client.get("/api/v1/events", params={"since": 0, "limit": 1}).json()["latest_seq"]
        assert after == before, "a refused request left a trace in the event log"


def test_matrix_allows_something_for_every_role_but_anonymous():
    """Guard against a table that expects nothing to work (which would pass on a server that refuses all)."""
    for role in ROLES:
        allowed = [a for a in ACTIONS if EXPECTED[role, a] == OK]
        assert bool(allowed) == (role != "anonymous"), role


def test_allowed_actions_actually_take_effect(client, scene):
    """For the clerk on window 3 the state was chosen so the main actions succeed, not just 'not 403'."""
    clerk = scene["clerk_on_3"]
    assert client.post("/api/v1/windows/3/recall", headers=clerk).status_code == 200
    assert client.post("/api/v1/windows/3/start", headers=clerk).status_code == 200
    assert client.post("/api/v1/windows/3/call-next", headers=clerk).json()["id"] == scene["ids"]["C"]
    kiosk = client.make_user("kiosk1", "kiosk")
    r = client.post("/api/v1/tickets", json={"matter": "WJ-001", "channel": "staff"}, headers=kiosk)
    assert r.status_code == 201 and r.json()["channel"] == "kiosk"     # a kiosk cannot claim another channel


# -- passwords and tokens ------------------------------------------------------------------------
def test_wrong_password_and_unknown_user_get_the_same_401(client):
    client.make_user("alice", "clerk")
    wrong = client.post("/api/v1/auth/login", json={"username": "alice", "password": "not-her-password"})
    unknown = client.post("/api/v1/auth/login", json={"username": "nobody", "password": "not-her-password"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert "token" not in wrong.json()
    assert client.post("/api/v1/auth/login", json={"username": "alice", "password": "alice-password"}
                       ).status_code == 200


def test_passwords_are_stored_as_scrypt(client, monkeypatch):
    from conftest import STRONG_SCRYPT

    monkeypatch.setattr(auth, "_SCRYPT", STRONG_SCRYPT)           # the server's own cost, not the tests' cheap one
    client.make_user("alice", "clerk")
    client.post("/api/v1/users", json={"username": "bob", "password": "alice-password", "role": "clerk"},
                headers=client.admin)
    rows = dict(client.hall.store.read.execute(
        "SELECT username, password_hash FROM users WHERE username IN ('alice', 'bob')").fetchall())
    assert set(rows) == {"alice", "bob"}
    for stored in rows.values():
        assert stored.startswith("scrypt$"), stored
        _scheme, n, r, _p, _salt, _digest = stored.split("$")
        assert int(n) >= 2**14 and int(r) >= 8
        for plain in ("alice-password", "admin-test-password"):
            assert plain not in stored
    assert rows["alice"] != rows["bob"]          # same password, different salt
    dump = "\n".join(client.hall.store.read.iterdump())
    assert "alice-password" not in dump and "admin-test-password" not in dump
    listed = client.get("/api/v1/users", headers=client.admin).json()
    assert all("password_hash" not in u and "password" not in u for u in listed)


def test_tokens_are_not_stored_in_clear(client):
    token = client.admin["Authorization"].split()[1]
    dump = "\n".join(client.hall.store.read.iterdump())
    assert token not in dump


def test_logout_invalidates_the_token(client):
    h = client.make_user("alice", "supervisor")
    assert client.get("/api/v1/auth/me", headers=h).status_code == 200
    r = client.post("/api/v1/auth/logout", headers=h)
    assert r.status_code == 204
    assert client.get("/api/v1/auth/me", headers=h).status_code == 401
    r = client.post("/api/v1/tickets", json={"matter": "WJ-001"}, headers=h)
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_token"
    assert client.get("/api/v1/auth/me", headers=client.admin).status_code == 200   # others unaffected


def test_logout_survives_a_restart(client, tmp_path, district_cfg, clock):
    """A logged-out token stays invalid for a new server process on the same database."""
    h = client.make_user("alice", "supervisor")
    keep = client.make_user("bob", "supervisor")
    client.post("/api/v1/auth/logout", headers=h)
    client.hall.store.close()
    h2 = Hall(district_cfg, tmp_path, clock)
    with TestClient(create_app(h2)) as c2:
        assert c2.get("/api/v1/auth/me", headers=h).status_code == 401
        assert c2.get("/api/v1/auth/me", headers=keep).status_code == 200


# -- first start: the generated admin password -----------------------------------------------------
@pytest.mark.slow
def test_first_start_prints_generated_admin_password_once(tmp_path):
    # without devices: what is checked is the first start's admin
    srv = ServerProcess(tmp_path / "data", admin_password=None, config=always_open_config(tmp_path, devices=False))
    try:
        srv.start()
        first = srv.stdout_of_last_start()
        m = re.search(r"user 'admin' created with password (\S+)", first)
        assert m, f"no generated password printed on first start:\n{first}"
        password = m.group(1)
        assert len(password) >= 12
        assert srv.login("admin", password)["Authorization"].startswith("Bearer ")
        with pytest.raises(httpx.HTTPStatusError):
            srv.login("admin", "admin-test-password")

        srv.restart()
        second = srv.stdout_of_last_start()
        assert password not in second and "created with password" not in second, second
        assert srv.login("admin", password)                      # the same password still works
        assert srv.stdout().count(password) == 1
        assert password not in srv.stderr()                      # not in the logs either
    finally:
        srv.stop()
    stored = sqlite3.connect(srv.db_path).execute("SELECT password_hash FROM users WHERE username='admin'"
                                                  ).fetchone()[0]
    assert stored.startswith("scrypt$") and password not in stored


def test_a_token_expires_after_its_roles_lifetime(client, clock):
    from hall_server.accounts.auth import TOKEN_DAYS
    clerk = client.make_user("shortlived", "clerk")
    assert client.get("/api/v1/auth/me", headers=clerk).status_code == 200
    clock.advance(days=TOKEN_DAYS["clerk"], seconds=-1)
    assert client.get("/api/v1/auth/me", headers=clerk).status_code == 200
    clock.advance(seconds=1)
    r = client.get("/api/v1/auth/me", headers=clerk)
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_token"
