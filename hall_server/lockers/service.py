"""The hall's result lockers as the API uses them: load a decided case's result, a citizen's pickup by code or
swipe, a take-back, out of service and back, and the reads. Each door command goes through the device
supervisor in a thread (never on the event loop) and is bracketed by two changes — the compartment marked
before the command, its outcome after — so a stop between them is settled at the next start by reading the
door (watch.py). A request answers once its door is open; the door being shut is the watch's to see."""
from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import sqlite3
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from drivers.locker.base import DoorState, LockerError

from ..accounts.auth import Principal
from ..errors import Conflict, HallError, NotFound, Unprocessable
from ..hardware.alerts import raise_alert
from ..hardware.supervisor import DeviceUnavailable
from . import codes, compartments, pickups, views
from .config import check_lockers
from .watch import DoorWatch

if TYPE_CHECKING:
    from ..cases.base import CaseContext
    from ..clock import Clock
    from ..config import HallConfig
    from ..hardware.supervisor import DeviceSupervisor
    from ..notify.outbox import Outbox
    from ..store.database import Store

log = logging.getLogger(__name__)
OPENING_WAIT_S = 5.0        # a locker still being opened (just after start) is waited for this long
MAX_TRIES = 6               # compartments tried for one load before giving up


class TooManyTries(HallError):
    status = 429


def error_of(exc: Exception) -> dict:
    """A door command's failure as plain data (code, message_zh, message_en) for the store and the answer."""
    if isinstance(exc, LockerError):
        return {"code": exc.code, "message_zh": exc.zh, "message_en": exc.en}
    if isinstance(exc, DeviceUnavailable):
        return {"code": "unavailable", "message_zh": "智能柜暂时不可用（设备离线）", "message_en": str(exc)}
    return {"code": "device_error", "message_zh": "智能柜故障", "message_en": str(exc) or type(exc).__name__}


class Lockers:
    def __init__(self, cfg: HallConfig, store: Store, devices: DeviceSupervisor, clock: Clock, ctx: CaseContext,
                 outbox: Outbox, key: bytes):
        self.cfg, self.policy, self.store, self.devices, self.clock = cfg, cfg.lockers, store, devices, clock
        self.ctx, self.outbox, self.key = ctx, outbox, key
        self.quiet = dataclasses.replace(ctx, notify=None)     # the locker's ready SMS (with the code) is ours
        self.device = self.policy.device
        self.problem = ""
        try:
            check_lockers(self.policy, {d.name: d.kind for d in cfg.devices})
        except ValueError as exc:
            self.problem = str(exc)
            log.warning("result lockers disabled: %s", exc)
        self.watch = DoorWatch(self)

    @property
    def enabled(self) -> bool:
        return bool(self.device) and not self.problem

    @property
    def read(self) -> sqlite3.Connection:
        return self.store.read

    def now(self) -> datetime:
        return self.clock.now()

    async def start(self) -> None:
        if self.enabled:
            await self.store.write(lambda conn: compartments.sync(conn, self.policy, self.now()))
            self.watch.start()

    async def stop(self) -> None:
        await self.watch.stop()

    # -- the doors ---------------------------------------------------------------------------------------------
    async def open_door(self, board: int, lock: int) -> DoorState:
        async with self.devices.use(self.device, wait_s=OPENING_WAIT_S) as dev:
            return await asyncio.to_thread(dev.open_door, board, lock)

    async def door_state(self, board: int, lock: int) -> DoorState:
        async with self.devices.use(self.device) as dev:
            return await asyncio.to_thread(dev.door_state, board, lock)

    def _required(self) -> None:
        if not self.enabled:
            raise Conflict("no_lockers", "本厅尚未配置智能取件柜，请选择窗口领取或邮寄",
                           "this hall has no smart lockers configured: choose via window or mail"
                           + (f" ({self.problem})" if self.problem else ""))

    async def _board_alert(self, error: dict, where: str) -> None:
        await raise_alert(self.store, self.clock, "locker_fault", self.device,
                          f"{where}：{error['message_zh']} / {error['message_en']}")

    # -- loading -----------------------------------------------------------------------------------------------
    async def load(self, who: Principal, case_id: int, size: str | None) -> dict:
        """Open a free compartment for the case's result: answers once the door is open (state loading); the
        case goes ready, with the code's SMS, when the watch sees the door shut."""
        self._required()
        skip: list[int] = []
        skip_boards: list[int] = []
        failures: list[dict] = []
        for _ in range(MAX_TRIES):
            comp = await self.store.write(lambda conn: compartments.reserve(
                conn, who, case_id, size, tuple(skip), tuple(skip_boards), self.now()))
            if comp is None:
                break
            try:
                await self.open_door(comp["board"], comp["lock"])
            except Exception as exc:        # LockerError, DeviceUnavailable or the driver's own failure
                error = error_of(exc)
                await self.store.write(partial(compartments.open_failed, comp_id=comp["id"], at=self.now(),
                                               device=self.device, error=error))
                failures.append({"compartment": comp["label"], **error})
                skip.append(comp["id"])
                if error["code"] == "not_opened":
                    continue                # out of service with an alert: the next one
                await self._board_alert(error, f"装柜开门失败（{comp['label']} 号格口）")
                if error["code"] in ("no_answer", "garbled"):
                    skip_boards.append(comp["board"])
                    continue                # that board is silent: another board's compartment
                raise _unavailable(error, failures) from None
            await self.store.write(partial(compartments.load_opened, comp_id=comp["id"], at=self.now()))
            self.watch.wake()
            return {"compartment": comp["label"], "board": comp["board"], "lock": comp["lock"],
                    "size": comp["size"], "state": "loading", "tried": failures,
                    "message_zh": f"{comp['label']} 号格口（{compartments.SIZE_ZH[comp['size']]}）已打开：请放入材料并"
                                  "关好柜门，关门后系统自动发送取件码短信",
                    "message_en": f"Compartment {comp['label']} ({comp['size']}) is open: put the result in and "
                                  "shut the door; the pickup code is sent by SMS once it is shut"}
        if failures:
            raise _unavailable(failures[-1], failures)
        free = views.summary(self.read)
        raise Conflict("no_free_compartment",
                       f"智能柜没有空闲的{compartments.SIZE_ZH.get(size or 'small', '')}格口，请选择窗口领取或稍后再试",
                       f"no free {size or 'small or large'} compartment in the lockers: hand the result out at the "
                       "window, or try again later", sizes=free)

    async def cancel(self, who: Principal, label: str) -> dict:
        comp = self._compartment(label)
        await self.store.write(lambda conn: compartments.cancel(conn, who, comp["id"], self.now()))
        self.watch.wake()
        return self.compartment(label)

    # -- pickup ------------------------------------------------------------------------------------------------
    async def pickup(self, who: Principal, kiosk: str, code: str | None = None, swipe: str | None = None,
                     kiosk_name: str | None = None) -> dict:
        """Open the door(s) of a code or a swiped applicant's results; the case is delivered when the watch sees
        the door shut. `kiosk`: whose wrong codes count (the kiosk account); `kiosk_name`: the kiosk program's
        own name, which the swipe must come from."""
        self._required()
        now = self.now()
        if code is not None:
            comps = [await self._by_code(kiosk, code, now)]
            method = "code"
        else:
            comps = views.by_citizen(self.read, self._citizen(swipe, kiosk_name, now))
            method = "swipe"
            if not comps:
                raise NotFound("no_locker_result", "智能柜中没有您的材料。如已收到取件短信，请输入取件码；"
                               "或在办公时间到综合出件窗口咨询", "there is no result of yours in the lockers. If you "
                               "had an SMS with a pickup code, type the code; or ask at the 出件 window during "
                               "opening hours")
        already = [self._already_open(c) for c in comps if c["state"] in ("opening", "collecting")]
        usable = [c for c in comps if c["state"] == "occupied" and c["status"] == "ready"]
        if not usable and not already:
            raise self._fault(comps[0])
        started = await self.store.write(lambda conn: pickups.begin(conn, who, kiosk_name or kiosk, method,
                                                                    [c["id"] for c in usable], self.now()))
        out, errors = list(already), []
        by_id = {c["id"]: c for c in usable}
        for p in started:
            comp = by_id[p["compartment_id"]]
            try:
                await self.open_door(p["board"], p["lock"])
            except Exception as exc:
                error = error_of(exc)
                await self.store.write(partial(pickups.failed, pickup_id=p["id"], at=self.now(), device=self.device,
                                               error=error))
                if error["code"] != "not_opened":
                    await self._board_alert(error, f"取件开门失败（{comp['label']} 号格口）")
                errors.append(error)
                out.append(self._shown(comp, p["token"], "failed", error))
                continue
            await self.store.write(partial(pickups.opened, pickup_id=p["id"], at=self.now()))
            out.append(self._shown(comp, p["token"], "open"))
        self.watch.wake()
        if not any(p["state"] == "open" for p in out):
            raise _pickup_failed(errors[0] if errors else {"code": "device_error"}, self._phone())
        labels = "、".join(p["compartment"] for p in out if p["state"] == "open")
        return {"pickups": out, "message_zh": f"请到 {labels} 号格口取件，取出后请关好柜门",
                "message_en": f"Take your result from compartment {labels}, then shut the door"}

    async def _by_code(self, kiosk: str, typed: str, now: datetime) -> sqlite3.Row:
        until = pickups.paused_until(self.read, kiosk, now)
        if until:
            raise self._too_many(until, now)
        code = codes.normalise(typed)
        if code is None:
            raise Unprocessable("bad_code", "取件码为6位数字，请重新输入", "a pickup code is 6 digits: type it again")
        comp = views.by_code(self.read, codes.code_hash(self.key, code))
        if comp is not None:
            return comp
        tried = await self.store.write(lambda conn: pickups.wrong_try(conn, self.policy, kiosk, now))
        if tried["paused_until"]:
            raise self._too_many(tried["paused_until"], now)
        left = tried["left"]
        raise NotFound("wrong_code", f"取件码不正确，请核对短信中的6位取件码（还可输入 {left} 次）；"
                       "也可刷申请人身份证取件",
                       f"that pickup code is not right: check the 6 digits in your SMS ({left} more tries), or "
                       "swipe the applicant's ID card", tries_left=left)

    def _too_many(self, until: str, now: datetime) -> TooManyTries:
        at = datetime.fromisoformat(until)
        local = at.astimezone(ZoneInfo(self.cfg.hall.timezone)).strftime("%H:%M")
        wait_s = max(1, int((at - now).total_seconds()) + 1)
        return TooManyTries("too_many_tries", f"取件码输错次数过多，本机已暂停输入取件码，请于 {local} 后再试；"
                            "刷申请人身份证仍可取件", f"too many wrong pickup codes: this kiosk takes codes again "
                            f"after {local}; swiping the applicant's ID card still works", retry_at=until,
                            retry_after_s=wait_s)

    def _citizen(self, swipe: str | None, kiosk_name: str | None, now: datetime) -> str:
        citizen = views.swiped(self.read, swipe, kiosk_name, now)
        if citizen is None:
            raise NotFound("swipe_not_found", "刷卡信息已失效，请重新刷卡", "no such swipe at this kiosk, or it has "
                           "expired: swipe the card again", swipe=swipe)
        return citizen

    def _already_open(self, comp: sqlite3.Row) -> dict:
        p = views.pickup_of(self.read, comp["id"])
        return self._shown(comp, p["token"] if p else "", "open")

    def _fault(self, comp: sqlite3.Row) -> HallError:
        if comp["state"] == "out_of_service":
            return Conflict("compartment_fault", f"{comp['label']} 号格口故障，暂时无法开门。您的材料仍在柜内，"
                            f"工作人员已收到通知；请在办公时间到综合出件窗口领取，或致电 {self._phone()}",
                            f"compartment {comp['label']} is out of order and cannot be opened now. Your result is "
                            f"still inside and the staff have been told: collect it at the 出件 window during "
                            f"opening hours, or phone {self._phone()}", compartment=comp["label"])
        return Conflict("not_collectable", f"{comp['number']} 的材料暂时不能自助取件，请到综合出件窗口咨询",
                        f"the result of {comp['number']} cannot be collected here now: ask at the 出件 window",
                        compartment=comp["label"])

    def _phone(self) -> str:
        return self.cfg.cases.complaint_phone or self.cfg.hall.phone or "—"

    @staticmethod
    def _shown(comp: sqlite3.Row, token: str, state: str, error: dict | None = None) -> dict:
        snap = json.loads(comp["snapshot"]) if comp["snapshot"] else {}
        out = {"token": token, "compartment": comp["label"], "size": comp["size"], "number": comp["number"],
               "matter_name": snap.get("name", ""), "state": state}
        if error:
            out["error"] = error["code"]
        return out

    def pickup_status(self, token: str) -> dict:
        row = views.pickup(self.read, token)
        if row is None:
            raise NotFound("pickup_not_found", "没有这次取件的记录，请重新输入取件码",
                           "no such pickup: type the code again", token=token)
        door = {"opening": "opening", "open": "open", "delivered": "closed", "failed": "closed"}[row["state"]]
        if row["state"] == "open" and row["compartment_id"] in self.watch.unknown:
            door = "unknown"
        snap = json.loads(row["snapshot"])
        return {"token": token, "compartment": row["label"], "size": row["size"], "number": row["number"],
                "matter_name": snap.get("name", ""), "state": row["state"], "door": door,
                "case_status": row["case_status"], "error": row["error"]}

    # -- staff -------------------------------------------------------------------------------------------------
    async def take_back(self, who: Principal, label: str) -> dict:
        """Open a compartment holding a result and hand the case to the 出件 window (still ready)."""
        self._required()
        comp = self._compartment(label)
        await self.store.write(lambda conn: compartments.take_back_begin(conn, who, comp["id"], self.now()))
        try:
            await self.open_door(comp["board"], comp["lock"])
        except Exception as exc:
            error = error_of(exc)
            await self.store.write(lambda conn: compartments.open_failed(conn, comp["id"], self.now(), self.device,
                                                                         error))
            raise HallError("door_not_opened", f"{label} 号格口未能打开：{error['message_zh']}",
                            f"compartment {label} did not open: {error['message_en']}", status=503,
                            compartment=label, reason=error["code"]) from None
        case_id = await self.store.write(lambda conn: compartments.taken_back(conn, self.ctx, comp["id"], self.now()))
        self.watch.wake()
        return {**self.compartment(label), "case_id": case_id}

    async def in_service(self, who: Principal, label: str) -> dict:
        comp = self._compartment(label)
        await self.store.write(lambda conn: compartments.in_service(conn, who, comp["id"], self.now()))
        return self.compartment(label)

    # -- reads -------------------------------------------------------------------------------------------------
    def _compartment(self, label: str) -> sqlite3.Row:
        row = views.by_label(self.read, label)
        if row is None:
            raise NotFound("compartment_not_found", f"没有 {label} 号格口", f"no compartment {label!r} in the lockers",
                           compartment=label)
        return row

    def compartment(self, label: str) -> dict:
        return next(c for c in views.compartments(self.read) if c["compartment"] == label)

    def listing(self) -> dict:
        s = self.devices.devices.get(self.device)
        return {"enabled": self.enabled, "device": self.device or None, "problem": self.problem or None,
                "health": s.health.as_dict() if s else None, "sizes": views.summary(self.read),
                "compartments": views.compartments(self.read)}

    def overdue(self) -> dict:
        days = self.policy.take_back_days
        return {"days": days, "compartments": views.overdue(self.read, self.now(), days)}

    def info(self) -> dict[str, Any]:
        """What a kiosk needs to know: whether there are lockers and whether they work."""
        s = self.devices.devices.get(self.device) if self.enabled else None
        return {"enabled": self.enabled, "working": bool(s and s.health.working)}


def _unavailable(error: dict, failures: list[dict]) -> HallError:
    return HallError("lockers_unavailable",
                     f"智能柜暂时无法开门（{error.get('message_zh', '')}），办件未改变：请检查智能柜，或选择窗口领取",
                     f"the lockers could not open a door ({error.get('message_en', '')}); the case is unchanged: "
                     "check the lockers, or hand the result out at the window", status=503, tried=failures)


def _pickup_failed(error: dict, phone: str) -> HallError:
    if error.get("code") == "not_opened":
        return Conflict("compartment_fault",
                        "柜门未能打开，该格口已报修。您的材料仍在柜内，办件状态不变："
                        f"请在办公时间到综合出件窗口领取，或致电 {phone}",
                        "the door did not open and has been reported. Your result is still inside and nothing has "
                        f"changed: collect it at the 出件 window during opening hours, or phone {phone}")
    return HallError("lockers_unavailable",
                     "取件柜暂时无法开门（设备无应答）。您的材料仍在柜内，办件状态不变："
                     f"请稍后再试，或在办公时间到综合出件窗口领取，咨询电话 {phone}",
                     "the locker cannot open its door right now (it does not answer). Your result is still inside "
                     "and nothing has changed: try again in a while, or collect it at the 出件 window during opening "
                     f"hours; phone {phone}", status=503, reason=error.get("code"))
