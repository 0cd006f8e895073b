"""The evaluator key box over its wire (issue 17): how long a key takes to become a level, and how long a box
unplugged mid-prompt takes to be noticed (its heartbeat: a status query every heartbeat= s, answer= s to answer).

sim://evaluator runs the real serial driver (pyserial) on the simulator's pseudo-terminal. A "citizen" thread
presses a key as soon as the lamp lights; the time is from the press (the key report written to the pty) to
prompt() returning its level, which includes the driver's ACK and the lamp-off command and its ack.

    .venv/bin/python bench/evaluator.py --prompts 200
"""
from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

from lib import ms, pct

from drivers.evaluator.base import EvaluatorError
from drivers.registry import drivers_of


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--prompts", type=int, default=200)
    ap.add_argument("--unplugs", type=int, default=10)
    args = ap.parse_args()
    dev = drivers_of("evaluator").create("sim://evaluator")
    dev.open()
    sim = dev.simulator
    key_s: list[float] = []
    try:
        for i in range(args.prompts):
            pressed: list[float] = []

            def citizen(n: int = i + 1, pressed: list[float] = pressed) -> None:
                sim.wait_until(lambda: sim.faults()["lamp"] and sim.faults()["lamp_ons"] >= n, 5)
                pressed.append(time.perf_counter())
                sim.press(1 + (n - 1) % 5)
            t = threading.Thread(target=citizen)
            t.start()
            level = dev.prompt(5)
            key_s.append(time.perf_counter() - pressed[0])
            t.join()
            assert level == 1 + i % 5, level
        unplug_s: list[float] = []
        for _ in range(args.unplugs):
            sim.set_fault("none")
            lit = sim.faults()["lamp_ons"] + 1
            pulled: list[float] = []

            def unplug(n: int = lit, pulled: list[float] = pulled) -> None:
                sim.wait_until(lambda: sim.faults()["lamp_ons"] >= n, 5)
                pulled.append(time.perf_counter())
                sim.disconnect()
            t = threading.Thread(target=unplug)
            t.start()
            try:
                dev.prompt(30)
            except EvaluatorError:
                unplug_s.append(time.perf_counter() - pulled[0])
            t.join()
    finally:
        dev.close()
    load = os.getloadavg()[0]
    print(f"key → level over the pty ({len(key_s)} prompts, load {load:.2f}): p50 {ms(pct(key_s, 50))} ms, "
          f"p99 {ms(pct(key_s, 99))} ms")
    print(f"unplugged mid-prompt → error ({len(unplug_s)} times, heartbeat 1 s, answer 0.5 s): "
          f"p50 {pct(unplug_s, 50):.2f} s, max {max(unplug_s):.2f} s")


if __name__ == "__main__":
    main()
