"""The announcer (issue 5, items 1-2): every call is heard once, in call order, never over another, however
fast the calls come; a WAV per call (chime + phrase x repeat) cached by content; quiet hours; recalls; the
calling screens fetch the WAV. Real voices (recorded clips, espeak-ng) into the simulated loudspeaker."""
from __future__ import annotations

import itertools
import time

import pytest
from api_helpers import clerk_at, issue
from fastapi.testclient import TestClient

from drivers.audio import wav
from drivers.registry import registry
from hall_server.app import create_app
from hall_server.config import DeviceConfig
from hall_server.runtime import Hall
from hall_server.speech.text import compose

PASSWORD = "admin-test-password"


def wait_for(cond, timeout=20.0):
    end = time.monotonic() + timeout
    while not (value := cond()):
        assert time.monotonic() < end, "condition not reached"
        time.sleep(0.02)
    return value


@pytest.fixture
def make_client(tmp_path, district_cfg, clock, monkeypatch):
    monkeypatch.setenv("ONEWINDOW_ADMIN_PASSWORD", PASSWORD)
    clients = []

    def make(voice="clips://zh", speed=200.0, sinks=True, queue=None, **calling):
        data = tmp_path / f"hall{len(clients)}"
        devices = (DeviceConfig(name="speakers", kind="audio", url=f"sim://audio?speed={speed:g}&out={data}/audio"),
                   DeviceConfig(name="screens", kind="audio", url="screen://")) if sinks else ()
        cfg = district_cfg.model_copy(update={
            "devices": devices,
            "calling": district_cfg.calling.model_copy(update={"voice": voice, **calling}),
            "queue": district_cfg.queue.model_copy(update=queue or {})})
        h = Hall(cfg, data, clock)
        h.ensure_admin()
        c = TestClient(create_app(h))
        c.__enter__()
        clients.append(c)
        c.hall = h
        c.admin = {"Authorization": "Bearer " + c.post("/api/v1/auth/login", json={
            "username": "admin", "password": PASSWORD}).json()["token"]}
        c.make_user = lambda u, role: _user(c, u, role)
        if sinks:
            wait_for(lambda: h.devices.devices["speakers"].health.state.value == "ok")
        return c

    yield make
    for c in clients:
        c.__exit__(None, None, None)


def _user(c, username, role):
    c.post("/api/v1/users", json={"username": username, "password": f"{username}-password", "role": role},
           headers=c.admin)
    token = c.post("/api/v1/auth/login", json={"username": username, "password": f"{username}-password"})
    return {"Authorization": f"Bearer {token.json()['token']}"}


def timeline(c):
    return c.hall.devices.devices["speakers"].device.timeline()


def announcement(c, seq):
    return wait_for(lambda: (r := c.get(f"/api/v1/announcements/{seq}")).status_code == 200
                    and r.json()["state"] in ("played", "skipped", "failed") and r.json())


def last_call_seq(c):
    events = c.get("/api/v1/events?since=0").json()["events"]
    return [e["seq"] for e in events if e["type"] in ("ticket.called", "ticket.recalled")][-1]


def test_a_call_is_announced_with_chime_and_two_repetitions(make_client):
    c = make_client()
    t = issue(c, "SH-001")
    clerk = clerk_at(c, 3)
    c.post("/api/v1/windows/3/call-next", headers=clerk)
    a = announcement(c, last_call_seq(c))
    assert a["state"] == "played" and a["text"] == f"请{t['number']}号到3号窗口办理"
    r = c.get(a["wav_url"])
    assert r.status_code == 200 and r.headers["content-type"] == "audio/wav"
    with registry("voice").create("clips://zh") as voice:
        one = voice.render(compose(c.hall.cfg.calling.template, t["number"], 3))
    # chime (0.95 s) + gap + phrase + gap + phrase
    assert wav.duration_s(r.content) == pytest.approx(0.95 + 2 * 0.35 + 2 * wav.duration_s(one), abs=0.1)
    assert wav.rms(r.content) > 0.02
    played = timeline(c)
    assert [p["label"] for p in played] == [a["text"]]


def test_a_burst_of_50_calls_is_announced_in_order_without_overlap(make_client):
    c = make_client(queue={"call_debounce_s": 0})
    tickets = [issue(c, "SH-001") for _ in range(50)]
    clerks = {n: clerk_at(c, n) for n in range(1, 6)}
    for _ in range(10):                         # 50 calls as fast as the API takes them (well under a second)
        for n, h in clerks.items():
            assert c.post(f"/api/v1/windows/{n}/call-next", headers=h).status_code == 200
    calls = [e for e in c.get("/api/v1/events?since=0").json()["events"] if e["type"] == "ticket.called"]
    assert len(calls) == 50 and {e["data"]["number"] for e in calls} == {t["number"] for t in tickets}
    played = wait_for(lambda: len(p := timeline(c)) == 50 and p, timeout=60)
    expected = [f"请{e['data']['number']}号到{e['data']['window']}号窗口办理" for e in calls]
    assert [p["label"] for p in played] == expected, "announced out of call order"
    for before, after in itertools.pairwise(played):
        assert after["start"] >= before["end"], (before, after)


def test_the_same_call_again_is_served_from_the_cache(make_client):
    c = make_client(queue={"call_debounce_s": 0, "recall_cooldown_s": 0})
    issue(c, "SH-001")
    clerk = clerk_at(c, 2)
    c.post("/api/v1/windows/2/call-next", headers=clerk)
    first = announcement(c, last_call_seq(c))
    c.post("/api/v1/windows/2/recall", headers=clerk)
    again = announcement(c, last_call_seq(c))
    assert (first["cached"], again["cached"], again["text"]) == (False, True, first["text"])
    assert [p["label"] for p in timeline(c)] == [first["text"], first["text"]]


def test_recalls_can_be_left_to_the_screens(make_client):
    c = make_client(queue={"recall_cooldown_s": 0}, recalls_announced=False)
    issue(c, "SH-001")
    clerk = clerk_at(c, 2)
    c.post("/api/v1/windows/2/call-next", headers=clerk)
    announcement(c, last_call_seq(c))
    c.post("/api/v1/windows/2/recall", headers=clerk)
    r = c.get(f"/api/v1/announcements/{last_call_seq(c)}.wav")
    assert r.status_code == 404 and r.json()["error"]["code"] == "announcement_not_found"
    assert len(timeline(c)) == 1


def test_quiet_hours_silence_the_call_but_not_the_screens(make_client):
    c = make_client(quiet_hours=("08:00-10:00",), quiet_volume=0)     # the test clock says 09:00
    issue(c, "SH-001")
    c.post("/api/v1/windows/4/call-next", headers=clerk_at(c, 4))
    a = announcement(c, last_call_seq(c))
    assert a["state"] == "skipped" and "quiet hours" in a["detail"]
    assert c.get(f"/api/v1/announcements/{a['seq']}.wav").status_code == 404
    assert timeline(c) == []


def test_quiet_hours_lower_the_volume(make_client):
    def loudness(**calling):
        c = make_client(**calling)
        issue(c, "SH-001")
        c.post("/api/v1/windows/4/call-next", headers=clerk_at(c, 4))
        a = announcement(c, last_call_seq(c))
        assert a["state"] == "played"
        return wav.rms(c.get(a["wav_url"]).content)
    loud, quiet = loudness(), loudness(quiet_hours=("08:00-10:00",), quiet_volume=0.3)
    assert quiet == pytest.approx(0.3 * loud, rel=0.05)
    assert loudness(quiet_hours=("10:00-12:00",), quiet_volume=0.3) == pytest.approx(loud, rel=0.01)


def test_a_hall_without_audio_sinks_does_not_render(make_client):
    c = make_client(sinks=False)
    issue(c, "SH-001")
    c.post("/api/v1/windows/4/call-next", headers=clerk_at(c, 4))
    a = announcement(c, last_call_seq(c))
    assert a["state"] == "skipped" and "no audio sink" in a["detail"]


def test_a_broken_voice_fails_the_announcement_not_the_call(make_client, tmp_path):
    c = make_client(voice=f"clips://zh?dir={tmp_path}/no-such-clips")
    issue(c, "SH-001")
    r = c.post("/api/v1/windows/4/call-next", headers=clerk_at(c, 4))
    assert r.status_code == 200
    a = announcement(c, last_call_seq(c))
    assert a["state"] == "failed" and "no-such-clips" in a["detail"]
    assert c.get("/api/v1/health").json()["announcer"]["voice_state"].startswith("fault")


def test_espeak_speaks_the_call(make_client):
    c = make_client(voice="tts://espeak?voice=cmn-latn-pinyin", template_en="Number {number}, please go to "
                    "window {window}")
    issue(c, "SH-001")
    c.post("/api/v1/windows/3/call-next", headers=clerk_at(c, 3))
    a = announcement(c, last_call_seq(c))
    assert a["state"] == "played", a
    data = c.get(a["wav_url"]).content
    assert 6 < wav.duration_s(data) < 30 and wav.rms(data) > 0.02      # chime, then zh + en twice


def test_the_audio_cache_keeps_only_recent_calls(make_client, monkeypatch):
    from hall_server.speech import announcer
    monkeypatch.setattr(announcer, "CACHE_FILES", 3)
    monkeypatch.setattr(announcer, "PRUNE_EVERY", 2)
    c = make_client(queue={"call_debounce_s": 0})
    for _ in range(12):
        issue(c, "SH-001")
    clerk = clerk_at(c, 1)
    for _ in range(10):
        c.post("/api/v1/windows/1/call-next", headers=clerk)
    wait_for(lambda: len(timeline(c)) == 10)
    for _ in range(2):                  # after everything was played: the next pruning keeps 3 (+ unplayed)
        c.post("/api/v1/windows/1/call-next", headers=clerk)
    wait_for(lambda: len(timeline(c)) == 12)
    cached = list((c.hall.data_dir / "audio-cache").glob("call-*.wav"))
    assert 3 <= len(cached) <= 5
    first = c.get("/api/v1/announcements").json()["items"][-1]
    r = c.get(f"/api/v1/announcements/{first['seq']}.wav")
    assert r.status_code == 404 and "pruned" in r.json()["error"]["message_en"]
