"""What every SMS modem (短信猫) offers: send a text to a mobile, and say whether it could (SIM, signal, network).

Every call does blocking I/O on the modem's line (an AT exchange takes from milliseconds to the tens of seconds a
network takes to accept a message): the hall calls them from a thread, through its device supervisor, never on
its event loop. Texts and full numbers never reach a log or an error message; numbers appear masked (138****0000).
"""
from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any, ClassVar

from ..base import Device, DeviceError
from ..health import DeviceHealth, DeviceState

WEAK_SIGNAL = 10            # AT+CSQ below this (under -93 dBm): messages may fail or take long
SIGNAL_UNKNOWN = 99


class SmsError(DeviceError):
    """A message could not be sent. `code` says why (CODES); `zh` and `en` say it for a person (str() is `en`).

    `cms` is the modem's +CMS ERROR number, if it gave one; `refs` the message references of the parts the network
    took before the failure (a long text may be half sent); `uncertain` is True when the modem went silent after
    taking a part, so that part may or may not have gone out."""

    CODES: ClassVar[dict[str, str]] = {
        "no_sim": "no SIM card, or it needs its PIN",
        "no_signal": "no mobile signal where the modem is",
        "not_registered": "the modem is not registered on the network (searching, or registration denied)",
        "cms_error": "the modem or the network refused the message (+CMS ERROR, or ERROR)",
        "timeout": "the modem did not answer in time (unplugged, switched off, hung)",
        "bad_number": "not a Chinese mobile number",
        "bad_text": "an empty text, or one too long to be joined from parts",
        "not_open": "the driver is not open",
    }

    def __init__(self, code: str, zh: str, en: str, *, cms: int | None = None, refs: tuple[int, ...] = (),
                 uncertain: bool = False):
        super().__init__(en)
        self.code, self.zh, self.en, self.cms, self.refs, self.uncertain = code, zh, en, cms, refs, uncertain

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "cms": self.cms, "refs": list(self.refs), "uncertain": self.uncertain,
                "message_zh": self.zh, "message_en": self.en}


REGISTRATION = {0: "not-registered", 1: "home", 2: "searching", 3: "denied", 4: "unknown", 5: "roaming"}


@dataclass(frozen=True)
class ModemStatus:
    """What AT+CPIN?, AT+CSQ and AT+CREG? say. `sim`: ready | absent | pin | puk | error; `signal`: 0-31, 99
    unknown; `registration`: home | roaming | searching | denied | not-registered | unknown."""
    sim: str
    signal: int
    registration: str

    @property
    def registered(self) -> bool:
        return self.registration in ("home", "roaming")

    @property
    def dbm(self) -> int | None:
        return -113 + 2 * self.signal if 0 <= self.signal <= 31 else None

    def as_dict(self) -> dict[str, Any]:
        return {"sim": self.sim, "signal": self.signal, "dbm": self.dbm, "registered": self.registered,
                "registration": self.registration}

    def problem(self) -> SmsError | None:
        """Why no message can go now, or None. A registered modem always tries: some LTE modems report 99."""
        if self.sim != "ready":
            zh, en = {"absent": ("未检测到SIM卡", "no SIM card in the modem: insert the hall's SIM card"),
                      "pin": ("SIM卡需要PIN码", "the SIM card asks for its PIN: remove the PIN lock (in a phone)"),
                      "puk": ("SIM卡已锁（需PUK码）", "the SIM card is locked (PUK): ask the operator")}.get(
                self.sim, ("SIM卡异常", f"the SIM card is not ready ({self.sim})"))
            return SmsError("no_sim", zh, en)
        if self.registered:
            return None
        if self.signal in (0, SIGNAL_UNKNOWN):
            return SmsError("no_signal", "无信号", "no mobile signal: move the modem or its antenna (a window, "
                            "away from metal cabinets)")
        if self.registration == "denied":
            return SmsError("not_registered", "网络拒绝注册", "the network denied registration: the SIM may be "
                            "barred or out of credit; ask the operator")
        return SmsError("not_registered", "未注册到网络", f"the modem is not registered on the network "
                        f"({self.registration}): wait a minute after power-up, else check the SIM's service")


def health_of(status: ModemStatus, where: str) -> DeviceHealth:
    """The health a modem's status means: fault when it cannot send, degraded on a weak or unknown signal."""
    signal = f"signal {status.signal}/31 ({status.dbm} dBm)" if status.dbm is not None else "signal unknown"
    problem = status.problem()
    if problem is not None:
        return DeviceHealth(DeviceState.FAULT, f"the SMS modem {where} cannot send: {problem.en}, {signal} · "
                            f"短信猫无法发送：{problem.zh}")
    network = "home network" if status.registration == "home" else "roaming"
    if status.dbm is None:
        return DeviceHealth(DeviceState.DEGRADED, f"the SMS modem {where} is registered ({network}) but reports no "
                            "signal strength · 短信猫已注册，信号强度未知")
    if status.signal < WEAK_SIGNAL:
        return DeviceHealth(DeviceState.DEGRADED, f"the SMS modem {where} has a weak {signal}: messages may fail; "
                            "move it or its antenna · 短信猫信号弱")
    return DeviceHealth(DeviceState.OK, f"the SMS modem {where} is ready: SIM ready, registered ({network}), "
                        f"{signal} · 短信猫就绪")


class SmsModem(Device):
    """A modem that sends texts. `send` returns the message reference of each part, in order."""
    kind = "sms"
    personal_keys = frozenset({"text", "number"})

    @abc.abstractmethod
    def send(self, number: str, text: str) -> list[int]:
        """Send `text` to the Chinese mobile `number`; SmsError (with its code) when it did not go."""

    @abc.abstractmethod
    def status(self) -> ModemStatus:
        """SIM, signal and registration now; SmsError("timeout") when the modem does not answer."""
