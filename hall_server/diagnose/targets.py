"""What a diagnose run checks (a `Target` per device) and how (`Options`)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Target:
    """One device to check: from the hall's [[devices]], its [calling] voice, or a kiosk's devices file."""
    name: str
    kind: str
    url: str
    screens: dict[str, int] = field(default_factory=dict)
    keypads: dict[str, int] = field(default_factory=dict)
    windows: tuple[int, ...] = ()
    window: int | None = None       # the window the device serves (an evaluator's key box)
    source: str = "hall"


@dataclass
class Options:
    sim_dir: Path
    active: bool = False
    wait: float = 5.0               # seconds a card read or a key test waits for a person
    timeout: float = 20.0           # seconds a device's whole check may take (more for long active checks)
    voice: str = ""                 # the hall's [calling] voice, for the audio test phrase
    locker_door: tuple[int, int] | None = None     # --locker-door: the empty (board, lock) --active opens
    sms_to: str = ""                # --sms-to: the mobile --active sends the modem's test SMS to
    wire_dir: Path | None = None    # --wire: dumps go here
    stamp: str = ""                 # the run's UTC timestamp, in file names
    # the devices the checks have open: check_all closes any a check still holds when its deadline passes
    open_devices: set = field(default_factory=set, repr=False, compare=False)
