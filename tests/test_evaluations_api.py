"""好差评 API (design.md "Evaluations and complaints"): rating at the window by its evaluator account."""
from __future__ import annotations

from api_helpers import assert_error, clerk_at, issue


def evaluator(client, window: int) -> dict:
    password = f"eval{window}-password"
    r = client.post("/api/v1/users", json={"username": f"eval{window}", "password": password, "role": "evaluator",
                                           "window": window}, headers=client.admin)
    assert r.status_code == 201, r.text
    assert r.json()["window"] == window
    return client.headers_for(f"eval{window}", password)


def finish_one(client, window: int, clerk: dict) -> dict:
    t = issue(client)
    r = client.post(f"/api/v1/windows/{window}/call-next", headers=clerk)
    assert r.status_code == 200, r.text
    assert r.json()["id"] == t["id"]
    r = client.post(f"/api/v1/windows/{window}/finish", headers=clerk)
    assert r.status_code == 200, r.text
    return t


def test_smoke(client):
    clerk = clerk_at(client, 1)
    ev = evaluator(client, 1)
    t = finish_one(client, 1, clerk)
    r = client.get("/api/v1/evaluations/pending", headers=ev)
    assert r.status_code == 200, r.text
    assert r.json()["pending"]["ticket"] == t["id"], r.json()
    r = client.post("/api/v1/evaluations", json={"ticket": t["id"], "level": 2, "reasons": ["态度"]}, headers=ev)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["window"] == 1 and body["clerk"] == "clerk1" and body["badrating"], body
    assert_error(client.post("/api/v1/evaluations", json={"ticket": t["id"], "level": 2}, headers=ev), 409,
                 "already_rated")
