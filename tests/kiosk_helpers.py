"""What the kiosk program's tests share: a hall without its own devices, and a kiosk's devices file."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from serverproc import DISTRICT, HTTP, ROOT, free_port, without_devices

from hall_server.config import without_opening_hours

KIOSK = "kiosk2"


def hall_config(tmp: Path, opening: str | None = None) -> Path:
    """The district hall without devices (the kiosk owns its own) and no call debounce.

    `opening`: None for a hall that is always open; else a TOML `[hall.opening]` body, e.g. 'mon = "08:30-09:00"'.
    """
    text = without_opening_hours(DISTRICT.read_text(encoding="utf-8"))
    text = without_devices(text)
    text = re.sub(r"(?m)^(recall_cooldown_s|call_debounce_s)\s*=.*$", r"\1 = 0", text)
    if opening is not None:
        text = text.replace("\n[queue]", f"\n[hall.opening]\n{opening}\n\n[queue]", 1)
    path = tmp / ("hall.toml" if opening is None else "hall-closed.toml")
    path.write_text(text, encoding="utf-8")
    return path


def closed_now() -> str:
    """Opening hours under which the hall takes no tickets now: the district's own when it is closed at this
    hour, else the district's without today's (in the hall's zone)."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from hall_server.clock import tickets_open
    from hall_server.config import load_config

    hall = load_config(DISTRICT).hall
    now = datetime.now(UTC)
    today = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[now.astimezone(ZoneInfo(hall.timezone)).weekday()]
    closed_at_this_hour = not tickets_open(now, hall.timezone, hall.opening, hall.tickets_before_opening_min)
    return "\n".join(f'{day} = "{span}"' for day, span in hall.opening.items() if closed_at_this_hour or day != today)


def devices_file(tmp: Path, printer: str = "sim://printer?width=80", idcard: str | None = "sim://idcard",
                 idle_s: float = 60, voice: str = "tts://espeak?voice=cmn-latn-pinyin") -> Path:
    out = tmp / "printer"
    lines = [f'[kiosk]\nname = "{KIOSK}"\nidle_s = {idle_s}\nelder_idle_s = {idle_s * 2}\nvoice = "{voice}"\n'
             "report_s = 2\nrefresh_s = 2\n"]
    if printer:
        sep = "&" if "?" in printer else "?"
        lines.append(f'[printer]\nurl = "{printer}{sep}out={out}"\npoll_s = 1\n')
    if idcard:
        lines.append(f'[idcard]\nurl = "{idcard}"\npoll_s = 2\n')
    path = tmp / "kiosk.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def receipts(tmp: Path, count: int = 1, timeout: float = 30) -> list[Path]:
    """The receipt PNGs the kiosk's simulated printer wrote, once there are `count` (it renders after the cut)."""
    end = time.monotonic() + timeout
    while True:
        pngs = sorted((tmp / "printer").glob("*.png"))
        if len(pngs) >= count and all(p.with_suffix(".txt").exists() for p in pngs):
            return pngs
        if time.monotonic() > end:
            return pngs
        time.sleep(0.05)


class KioskProcess:
    """`onewindow-kiosk` as a subprocess (the real CLI), its output in `<tmp>/kiosk.log`."""

    def __init__(self, server_url: str, token: str, devices: Path, tmp: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tmp / "kiosk.log"
        env = {**os.environ, "ONEWINDOW_KIOSK_TOKEN": token}
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "kiosk", "--server", server_url, "--devices",
                                          str(devices), "--port", str(self.port)], cwd=ROOT, env=env,
                                         stdout=out, stderr=subprocess.STDOUT)
        end = time.monotonic() + 60            # a deadline: an exit is reported at once
        while True:
            assert self.proc.poll() is None, self.log.read_text(errors="replace")
            try:
                h = HTTP.get(self.url + "/api/health", timeout=2).json()
                if all(d["detail"] != "not opened yet" for d in h["devices"]):
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < end, "the kiosk did not start: " + self.log.read_text(errors="replace")
            time.sleep(0.1)

    def post(self, path: str, **kw) -> httpx.Response:
        return HTTP.post(self.url + path, timeout=15, **kw)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
