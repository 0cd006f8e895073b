"""Devices for technicians: what each configured device reports, and runtime faults for simulators."""
from __future__ import annotations

import asyncio
import contextlib

from fastapi import APIRouter, Depends

from ..accounts.auth import Principal
from ..errors import Conflict, NotFound, Unprocessable
from ..runtime import Hall
from ..seats.process import WorkerError, WorkerUnavailable
from .deps import get_hall, require
from .models import SimulatedFaults

router = APIRouter(prefix="/api/v1/devices", tags=["devices"])

technician = require("technician", "supervisor")


def _known(hall: Hall, name: str) -> None:
    if name not in hall.devices.devices:
        raise NotFound("device_not_found", f"没有名为 {name} 的设备", f"no device named {name!r} in this hall's "
                       "config; see GET /api/v1/health for the devices", device=name)


@router.get("/{name}", summary="A device's health and its driver's diagnostics (personal data redacted)")
async def device(name: str, hall: Hall = Depends(get_hall), who: Principal = Depends(technician)) -> dict:
    _known(hall, name)
    s = hall.devices.devices[name]
    out = s.as_dict()
    if hall.seats.owns(name):          # a seat camera: the seat worker has it
        with contextlib.suppress(WorkerUnavailable, WorkerError):
            out["diagnostics"] = await hall.seats.diagnostics(name)
    elif s.device is not None:
        out["diagnostics"] = await asyncio.to_thread(s.device.diagnostics)
    return out


@router.post("/{name}/simulate", summary="Inject a fault into a simulated device (sim:// URLs only)")
async def simulate(name: str, body: SimulatedFaults, hall: Hall = Depends(get_hall),
                   who: Principal = Depends(technician)) -> dict:
    _known(hall, name)
    faults = body.model_dump(exclude_none=True)
    s = hall.devices.devices[name]
    if hall.seats.owns(name):
        return await _simulate_seat_camera(hall, name, faults)
    async with s.lock:                 # not use(): an offline simulator must still take its "back online"
        sim = getattr(s.device, "simulator", None)
        if sim is None:
            raise Conflict("not_a_simulator", f"{name} 不是正在运行的模拟设备",
                           f"{name} ({s.cfg.url}) is not a running simulator; faults can only be injected into "
                           "sim:// devices that have been opened")
        simulate = getattr(s.device, "simulate", None)
        try:
            if simulate is not None:        # a simulated driver that takes its kind's own options
                await asyncio.to_thread(simulate, **faults)
            else:
                await asyncio.to_thread(sim.set_fault, **faults)
        except (TypeError, ValueError, KeyError) as exc:
            raise Unprocessable("bad_simulation", f"{name} 不支持这些模拟选项：{exc}",
                                f"{name} ({s.cfg.kind}) cannot simulate that: {exc}", device=name) from None
        state = getattr(s.device, "faults", None) or sim.faults
        return {"device": name, "faults": await asyncio.to_thread(state)}


async def _simulate_seat_camera(hall: Hall, name: str, faults: dict) -> dict:
    """A seat camera's fault, injected by the seat worker that has the camera open."""
    try:
        data = await hall.seats.simulate(name, faults)
    except WorkerUnavailable as exc:
        raise Conflict("not_a_simulator", f"{name} 现在无法模拟：座席监控进程未运行",
                       f"{name} cannot take a fault now: {exc}; try again in a few seconds") from None
    except WorkerError as exc:
        text = str(exc)
        if "not a simulator" in text or "not open yet" in text:
            raise Conflict("not_a_simulator", f"{name} 不是正在运行的模拟设备",
                           f"{name} is not a running simulator ({text}); faults can only be injected into "
                           "sim:// devices that have been opened") from None
        raise Unprocessable("bad_simulation", f"{name} 不支持这些模拟选项：{text}",
                            f"{name} (camera) cannot simulate that: {text}", device=name) from None
    return {"device": name, "faults": data["faults"]}
