"""The device supervisor: opens each device, polls health, logs a failure once and the recovery once,
reopens with back-off, records `device.health` events, reports devices in /api/v1/health, and keeps a
broken device from harming the server."""
from __future__ import annotations

import asyncio
import logging

import pytest

from drivers.base import Device
from drivers.health import DeviceHealth, DeviceState
from drivers.registry import registry
from drivers.url import parse_url
from hall_server.config import parse_config
from hall_server.hardware import supervisor as devices_mod
from hall_server.hardware.supervisor import DeviceSupervisor, DeviceUnavailable
from hall_server.runtime import Hall
from hall_server.store.events import read_events


class Plug:
    """What the test changes: whether the device answers, and what it says."""

    def __init__(self):
        self.plugged = True
        self.state = DeviceState.OK
        self.detail = ""
        self.opens = 0


PLUGS: dict[str, Plug] = {}


class Socket(Device):
    """A device whose 'hardware' is a Plug: unplugging makes open() and health() fail as I/O does."""
    kind = "printer"

    def __init__(self, raw: str):
        super().__init__(parse_url(raw))
        self.plug = PLUGS.setdefault(self.url.address, Plug())

    def _open(self):
        if not self.plug.plugged:
            raise OSError("[Errno 111] Connection refused")
        self.plug.opens += 1

    def _close(self):
        pass

    def health(self):
        if not self.plug.plugged:
            raise OSError("[Errno 32] Broken pipe")
        return DeviceHealth(self.plug.state, self.plug.detail)


if "socket" not in registry("printer").schemes:
    registry("printer").register("socket", Socket)


@pytest.fixture(autouse=True)
def fast(monkeypatch):
    PLUGS.clear()
    monkeypatch.setattr(devices_mod, "BACKOFF_START_S", 0.01)
    monkeypatch.setattr(devices_mod, "BACKOFF_MAX_S", 0.04)


def make_hall(tmp_path, district_cfg, clock, *devices: dict) -> Hall:
    data = district_cfg.model_dump(mode="json")
    data["devices"], data["seats"] = list(devices), []
    return Hall(parse_config(data, "test"), tmp_path, clock)


async def until(cond, timeout=5.0):
    end = asyncio.get_running_loop().time() + timeout
    while not cond():
        assert asyncio.get_running_loop().time() < end, "condition not reached"
        await asyncio.sleep(0.005)


def health_events(hall):
    return [(e["data"]["device"], e["data"]["state"]) for e in read_events(hall.store.read, 0)
            if e["type"] == "device.health"]


def test_failure_logged_once_recovery_once_and_reopened(tmp_path, district_cfg, clock, caplog):
    hall = make_hall(tmp_path, district_cfg, clock,
                     {"name": "kiosk1-printer", "kind": "printer", "url": "socket://p1", "kiosk": "kiosk1",
                      "poll_s": 0.01})

    async def scenario():
        await hall.start()
        sup = hall.devices
        await until(lambda: sup.devices["kiosk1-printer"].health.state is DeviceState.OK)
        PLUGS["p1"].plugged = False                          # unplugged
        await until(lambda: sup.devices["kiosk1-printer"].health.state is DeviceState.OFFLINE)
        await asyncio.sleep(0.2)                             # many failed polls and reopen attempts
        with pytest.raises(DeviceUnavailable, match="offline"):
            async with sup.use("kiosk1-printer"):
                pass
        PLUGS["p1"].plugged = True                           # back
        await until(lambda: sup.devices["kiosk1-printer"].health.state is DeviceState.OK)
        async with sup.use("kiosk1-printer") as dev:
            assert dev.is_open
        await hall.stop()

    with caplog.at_level(logging.INFO, logger="hall_server.hardware.supervisor"):
        asyncio.run(scenario())
    lines = [r.getMessage() for r in caplog.records if "kiosk1-printer" in r.getMessage()]
    assert sum("is offline" in m for m in lines) == 1, lines
    assert sum("is ok" in m for m in lines) == 2, lines     # first open, then the recovery
    assert PLUGS["p1"].opens == 2
    reopened = Hall(hall.cfg, tmp_path, clock)             # the events were durable
    assert health_events(reopened) == [("kiosk1-printer", "ok"), ("kiosk1-printer", "offline"),
                                       ("kiosk1-printer", "ok")]
    reopened.close()


def test_fault_states_and_bad_urls_are_reported_not_raised(tmp_path, district_cfg, clock):
    hall = make_hall(tmp_path, district_cfg, clock,
                     {"name": "p-ok", "kind": "printer", "url": "socket://p2", "poll_s": 0.01},
                     {"name": "p-typo", "kind": "printer", "url": "sockte://p3", "poll_s": 0.01})
    PLUGS["p2"] = Plug()
    PLUGS["p2"].state, PLUGS["p2"].detail = DeviceState.FAULT, "cover open: close the printer's cover"

    async def scenario():
        await hall.start()
        sup = hall.devices
        await until(lambda: sup.devices["p-ok"].since and sup.devices["p-typo"].since)
        snap = {d["name"]: d for d in sup.snapshot()}
        await hall.stop()
        return snap

    snap = asyncio.run(scenario())
    assert snap["p-ok"]["state"] == "fault" and "cover open" in snap["p-ok"]["detail"]
    assert snap["p-typo"]["state"] == "fault"
    assert "unknown printer scheme 'sockte'; did you mean socket://?" in snap["p-typo"]["detail"]


def test_health_endpoint_reports_every_device(tmp_path, district_cfg, clock, monkeypatch):
    from fastapi.testclient import TestClient

    from hall_server.app import create_app
    hall = make_hall(tmp_path, district_cfg, clock,
                     {"name": "w3-printer", "kind": "printer", "url": "socket://p4", "window": 3, "poll_s": 0.01})
    PLUGS["p4"] = Plug()
    PLUGS["p4"].state, PLUGS["p4"].detail = DeviceState.DEGRADED, "paper near end: load a new roll soon"
    with TestClient(create_app(hall)) as c:
        for _ in range(500):
            body = c.get("/api/v1/health").json()
            if body["devices"][0]["state"] != "offline":
                break
            asyncio.run(asyncio.sleep(0.01))
    assert body["devices"][0] | {"at": None, "since": None} == {
        "name": "w3-printer", "kind": "printer", "url": "socket://p4", "kiosk": None, "window": 3,
        "state": "degraded", "detail": "paper near end: load a new roll soon", "at": None, "since": None}
    assert body["status"] == "ok"      # degraded devices still work


def test_device_config_is_validated(district_cfg):
    data = district_cfg.model_dump(mode="json")
    data["devices"], data["seats"] = [{"name": "p", "kind": "printer", "url": "socket://x", "window": 99}], []
    with pytest.raises(ValueError, match="device p serves window 99"):
        parse_config(data, "test")
    data["devices"] = [{"name": "p", "kind": "printr", "url": "socket://x"}]
    with pytest.raises(ValueError, match="devices"):
        parse_config(data, "test")


def test_no_devices_no_tasks(tmp_path, district_cfg, clock):
    sup = DeviceSupervisor((), write=None, now=clock.now)
    asyncio.run(sup.start())
    assert sup.snapshot() == [] and sup._tasks == []
