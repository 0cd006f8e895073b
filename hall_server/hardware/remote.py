"""Devices a kiosk program owns (its printer, its ID-card reader) and reports on over HTTP.

The hall server does not drive them; it keeps what each kiosk last said, so `/health` and the dashboard
show them beside the devices it supervises itself. A kiosk reports every `interval_s` seconds; one that
has been silent for three intervals has its devices shown `offline`. Each change of state (and a device's
first report) appends one `device.health` event, as for the server's own devices, marked `"remote": true`.
"""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from drivers.health import DeviceHealth, DeviceState

SILENT_INTERVALS = 3      # a kiosk silent for this many of its intervals has its devices shown offline


class DeviceNameTaken(ValueError):
    """The name is the server's own device, or another kiosk (still reporting) reports it."""

    def __init__(self, name: str, owner: str | None):
        super().__init__(name)
        self.name, self.owner = name, owner


@dataclass
class Remote:
    kiosk: str
    name: str
    kind: str
    url: str
    health: DeviceHealth        # as reported, or offline once the kiosk was noticed to be silent
    since: datetime             # when it entered this state
    at: datetime                # the kiosk's last report
    interval_s: float

    def silent_since(self) -> datetime:
        return self.at + timedelta(seconds=SILENT_INTERVALS * self.interval_s)

    def silent(self, now: datetime) -> bool:
        return now > self.silent_since()

    def silence(self, now: datetime) -> str:
        return f"kiosk {self.kiosk} has not reported for {int((now - self.at).total_seconds())} s"


class RemoteDevices:
    def __init__(self, log_change: Callable[..., Awaitable[None]], now: Callable[[], datetime],
                 own: Collection[str] = ()):
        self._log_change = log_change      # DeviceSupervisor._log_change: logs and appends device.health
        self._now = now
        self._own = frozenset(own)         # the server's own devices: a kiosk cannot report under their names
        self._by_name: dict[str, Remote] = {}
        self._lock = asyncio.Lock()

    def owner(self, name: str) -> str | None:
        r = self._by_name.get(name)
        return r.kiosk if r is not None and not r.silent(self._now()) else None

    async def report(self, kiosk: str, devices: list[dict], interval_s: float) -> None:
        async with self._lock:
            now = self._now()
            for d in devices:
                owner = None if d["name"] not in self._by_name else self.owner(d["name"])
                if d["name"] in self._own or owner not in (None, kiosk):
                    raise DeviceNameTaken(d["name"], owner)
            names = {d["name"] for d in devices}
            for name in [n for n, r in self._by_name.items() if r.kiosk == kiosk and n not in names]:
                del self._by_name[name]            # the kiosk no longer has it
            for d in devices:
                health = DeviceHealth(DeviceState(d["state"]), d.get("detail") or "", at=now)
                r = self._by_name.get(d["name"])
                changed = r is None or r.health.state != health.state or r.kind != d["kind"] or r.kiosk != kiosk
                if changed:
                    await self._log_change(d["name"], d["kind"], kiosk, None,
                                           None if r is None else r.health.state, health, remote=True)
                self._by_name[d["name"]] = Remote(kiosk, d["name"], d["kind"], d["url"], health,
                                                  now if changed else r.since, now, interval_s)

    async def check(self) -> None:
        """Devices of silent kiosks become offline, each with its device.health event."""
        async with self._lock:
            now = self._now()
            for r in list(self._by_name.values()):
                if not r.silent(now) or r.health.detail == _SILENT_MARK:
                    continue
                health = DeviceHealth(DeviceState.OFFLINE, r.silence(now), at=now)
                if r.health.state is not DeviceState.OFFLINE:
                    await self._log_change(r.name, r.kind, r.kiosk, None, r.health.state, health, remote=True)
                    r.since = now
                r.health = DeviceHealth(DeviceState.OFFLINE, _SILENT_MARK, at=now)

    def snapshot(self) -> list[dict]:
        now = self._now()
        out = []
        for r in self._by_name.values():
            state, detail, since = r.health.state.value, r.health.detail, r.since
            if r.silent(now):      # shown offline at once, even before check() has logged it
                state, detail = DeviceState.OFFLINE.value, r.silence(now)
                if r.health.detail != _SILENT_MARK and r.health.state is not DeviceState.OFFLINE:
                    since = r.silent_since()
            out.append({"name": r.name, "kind": r.kind, "url": r.url, "kiosk": r.kiosk, "window": None,
                        "state": state, "detail": detail, "at": r.at.isoformat(timespec="seconds"),
                        "since": since.isoformat(timespec="seconds"), "remote": True})
        return out


_SILENT_MARK = "(silent)"       # the stored detail of a device whose kiosk was noticed to be silent
