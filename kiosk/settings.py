"""The kiosk's devices file (TOML): its name, its printer and ID-card reader by URL, timeouts and voice.

    [kiosk]
    name = "kiosk2"
    idle_s = 60
    [printer]
    url = "escpos+tcp://192.168.10.31:9100?width=80"
    [idcard]
    url = "sam+serial:///dev/ttyUSB0"

Unknown keys are errors naming the file and the key, as the hall's own config does.
"""
from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class SettingsError(ValueError):
    """The devices file is wrong; the message names the file, the key and what to do."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KioskSection(_Strict):
    name: str = Field(default="", pattern=r"^([a-z0-9][a-z0-9_-]*)?$",
                      description="the kiosk's name in the hall (tickets, alerts, device health); "
                      "empty: the --name option, else the token's user name")
    idle_s: float = Field(default=60, ge=5, le=3600, description="back to the start after this long untouched")
    elder_idle_s: float = Field(default=120, ge=5, le=3600, description="the same in 长者版 (elder mode)")
    voice: str = Field(default="tts://espeak?voice=cmn-latn-pinyin",
                       description="spoken prompts of the elder mode; empty: none")
    report_s: float = Field(default=15, ge=1, le=300, description="device health is reported to the hall this often")
    refresh_s: float = Field(default=10, ge=1, le=300, description="the hall's state is read this often")


class DeviceSection(_Strict):
    url: str = Field(min_length=4)
    poll_s: float = Field(default=5, gt=0, le=3600, description="seconds between health checks")


class KioskSettings(_Strict):
    kiosk: KioskSection = KioskSection()
    printer: DeviceSection | None = None
    idcard: DeviceSection | None = None


def load_settings(path: str | Path) -> KioskSettings:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(f"{path}: no such file; pass --devices with the kiosk's devices file "
                            "(see config/kiosks/kiosk-sim.toml)") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path}: not valid TOML: {exc}") from None
    try:
        return KioskSettings.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "top level"
            if err["type"] == "extra_forbidden":
                lines.append(f"{path}: unknown key '{where}'")
            else:
                lines.append(f"{path}: {where}: {err['msg'].removeprefix('Value error, ')}")
        raise SettingsError("\n".join(lines)) from None
