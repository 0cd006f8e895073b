"""The seat worker: the one process of a hall that opens its seat cameras and runs presence detection.

    python -m hall_server.seats.worker      (started by the hall server: seats/process.py)

OpenCV and numpy load here, never in the server, so the server's memory and interpreter lock are the
clerks'. The worker reads its `start` message (cameras with their URLs, seats, policy: plain data, see
wire.py) from stdin, opens each camera through the drivers' registry and runs one thread per camera with
its seats' presence models; it sends presence and camera-health changes, a heartbeat, and answers requests
(an evidence snapshot blurred outside the seat, a simulator's fault, a camera's diagnostics). A camera
whose thread stops answering (an open or a read that hangs) is reported offline and its seats unknown.
It exits when its stdin ends or its parent changes (the server died, even by SIGKILL): no orphans.
"""
from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any, BinaryIO

from .wire import HEARTBEAT_S, encode

log = logging.getLogger("hall_server.seats.worker")
READ_TIMEOUT_S = 2.0          # a frame is waited for this long at a time
STUCK_S = 10.0                # a camera thread silent this long: its camera offline, its seats unknown
DETAIL_EVERY_S = 10.0         # a camera's unchanged health is re-sent this often (a fresher detail)
BACKOFF_START_S, BACKOFF_MAX_S = 1.0, 30.0


class Sender:
    """Whole lines to the server, from any thread; a server that is gone ends the worker."""

    def __init__(self, out: BinaryIO):
        self._out, self._lock = out, threading.Lock()

    def __call__(self, msg: dict[str, Any]) -> None:
        data = encode(msg)
        with self._lock:
            try:
                self._out.write(data)
                self._out.flush()
            except (BrokenPipeError, OSError, ValueError):
                os._exit(0)             # nobody reads us any more: the server is gone


class CameraWatch:
    """One camera and its seats, in a thread of their own."""

    def __init__(self, name: str, url: str, poll_s: float, seats: list[dict], policy: dict, send: Sender,
                 expect_empty: dict[int, bool], stop: threading.Event):
        from drivers.camera.presence import Roi, SeatPresence

        self.name, self.url, self.poll_s, self.send = name, url, poll_s, send
        self.stop, self.expect_empty = stop, expect_empty
        self.device: Any = None
        self.latest: Any = None                 # the newest frame: evidence only, never kept beyond it
        self.rois = {s["window"]: Roi(*s["roi"]) for s in seats}
        self.models = {s["window"]: SeatPresence(self.rois[s["window"]], debounce_s=policy["debounce_s"],
                                                 use_faces=policy["use_faces"]) for s in seats}
        for s in seats:
            if s.get("reference"):
                _load_reference(self.models[s["window"]], s["reference"])
        self.shown = dict.fromkeys(self.models, "")
        self.beat = time.monotonic()            # the thread's last sign of life
        self.stuck = False
        self._health: tuple[str, str, float] = ("", "", 0.0)
        self.thread = threading.Thread(target=self._run, name=f"camera:{name}", daemon=True)

    def _run(self) -> None:
        from drivers.base import checked_health
        from drivers.registry import drivers_of

        try:
            self.device = drivers_of("camera").create(self.url)
        except Exception as exc:        # a bad URL: retrying cannot help; its seats stay unknown
            self.report("fault", f"bad device URL: {exc}")
            return
        next_check, backoff = 0.0, BACKOFF_START_S
        while not self.stop.is_set():
            self.alive()
            if time.monotonic() >= next_check:
                health = checked_health(self.device)
                self.report(health.state.value, health.detail)
                if self.device.is_open:
                    next_check, backoff = time.monotonic() + self.poll_s, BACKOFF_START_S
                else:
                    next_check, backoff = time.monotonic() + backoff, min(backoff * 2, BACKOFF_MAX_S)
            frame = None
            if self.device.is_open:
                _reference_from(self.device, self.models.values())
                try:
                    frame = self.device.read(READ_TIMEOUT_S)
                except Exception as exc:       # the camera's own health says more
                    log.debug("reading %s: %s", self.name, exc)
            if frame is not None:
                self.latest = frame
            self.alive()
            now = time.monotonic()
            for window, model in self.models.items():
                # "nobody is logged in" only starts the empty-seat reference: once there is one, the model
                # learns on its own, so a clerk seated before logging in is never learnt as the empty seat
                state = model.update(None if frame is None else frame.image, now,
                                     expect_empty=self.expect_empty.get(window, True) and not model.has_reference)
                self.presence(window, state)
            if frame is None:
                self.stop.wait(0.5)

    def alive(self) -> None:
        self.beat = time.monotonic()
        if self.stuck:                          # back: say everything afresh
            self.stuck = False
            self._health = ("", "", 0.0)
            self.shown = dict.fromkeys(self.models, "")

    def presence(self, window: int, state: str) -> None:
        if state != self.shown[window]:
            self.shown[window] = state
            self.send({"type": "presence", "window": window, "state": state})

    def report(self, state: str, detail: str) -> None:
        last_state, _, at = self._health
        if state != last_state or time.monotonic() - at >= DETAIL_EVERY_S:
            self._health = (state, detail, time.monotonic())
            self.send({"type": "camera", "camera": self.name, "state": state, "detail": detail})

    def check_stuck(self) -> None:
        """From the heartbeat thread: a camera thread that hangs cannot say so itself."""
        silent = time.monotonic() - self.beat
        if silent > STUCK_S and not self.stuck:
            self.stuck = True
            log.warning("camera %s has not answered for %.0f s; its seats read unknown", self.name, silent)
            self.send({"type": "camera", "camera": self.name, "state": "offline",
                       "detail": f"the camera has not answered for {silent:.0f} s (opening it or reading from it "
                                 "takes that long, or hangs)"})
            for window in self.models:
                self.shown[window] = "unknown"
                self.send({"type": "presence", "window": window, "state": "unknown"})


class Worker:
    def __init__(self, start: dict, send: Sender):
        self.send, self.stop = send, threading.Event()
        empty = set(start.get("expect_empty", []))
        self.expect_empty = {s["window"]: s["window"] in empty for s in start["seats"]}
        self.seats = {s["window"]: s for s in start["seats"]}
        policy = {"debounce_s": start["debounce_s"], "use_faces": start["use_faces"]}
        self.cameras = {c["name"]: CameraWatch(c["name"], c["url"], c.get("poll_s", 1.0),
                                               [s for s in start["seats"] if s["camera"] == c["name"]], policy,
                                               send, self.expect_empty, self.stop)
                        for c in start["cameras"]}
        self.parent = os.getppid()

    def run(self, stdin: BinaryIO) -> None:
        self.send({"type": "ready", "pid": os.getpid()})      # first: the hall drops camera words before it
        for watch in self.cameras.values():
            watch.thread.start()
        threading.Thread(target=self._heartbeat, name="heartbeat", daemon=True).start()
        for line in stdin:
            try:
                msg = json.loads(line)
                if msg.get("type") == "stop":
                    self.close()
                    return
                self._handle(msg)
            except Exception:                   # the server's own lines: a bug, said, never fatal
                log.exception("seat worker: cannot handle %r", line[:200])
        # stdin ended without a stop: the server died; nothing is closed that the exit does not close
        log.warning("seat worker: the hall server is gone; exiting")
        logging.shutdown()
        os._exit(0)

    def _handle(self, msg: dict) -> None:
        if msg["type"] == "expect_empty":
            self.expect_empty[int(msg["window"])] = bool(msg["empty"])
        elif msg["type"] == "request":
            try:
                data = getattr(self, f"_op_{msg['op']}")(msg)
                reply = {"type": "reply", "id": msg["id"], "ok": True, "data": data}
            except Exception as exc:
                reply = {"type": "reply", "id": msg["id"], "ok": False, "error": f"{type(exc).__name__}: {exc}"}
            self.send(reply)

    def _op_snapshot(self, msg: dict) -> dict:
        """The evidence of an alert: the camera's newest frame, blurred outside the seat region."""
        from drivers.camera.snapshot import evidence_jpeg

        window = int(msg["window"])
        watch = self.cameras[self.seats[window]["camera"]]
        frame = watch.latest
        if frame is None:
            return {"path": None}
        path = Path(msg["path"])
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.write_bytes(evidence_jpeg(frame.image, watch.rois[window]))
        path.chmod(0o600)
        return {"path": str(path)}

    def _device(self, msg: dict) -> Any:
        device = self.cameras[msg["camera"]].device
        if device is None:
            raise LookupError(f"{msg['camera']} is not open yet")
        return device

    def _op_simulate(self, msg: dict) -> dict:
        device = self._device(msg)
        if getattr(device, "simulator", None) is None:
            raise LookupError(f"{msg['camera']} is not a simulator")
        device.simulate(**msg["faults"])
        return {"faults": device.simulator.faults()}

    def _op_diagnostics(self, msg: dict) -> dict:
        return self._device(msg).diagnostics()

    def _heartbeat(self) -> None:
        while not self.stop.wait(HEARTBEAT_S):
            if os.getppid() != self.parent:         # the server died and we were handed to init
                log.warning("seat worker: the hall server is gone; exiting")
                os._exit(0)
            for watch in self.cameras.values():
                watch.check_stuck()
            self.send({"type": "heartbeat"})

    def close(self) -> None:
        self.stop.set()
        closers = [threading.Thread(target=w.device.close, daemon=True) for w in self.cameras.values()
                   if w.device is not None]
        for t in closers:
            t.start()
        deadline = time.monotonic() + 3.0
        for t in [*closers, *(w.thread for w in self.cameras.values())]:
            t.join(max(0.0, deadline - time.monotonic()))


def _reference_from(dev: Any, models) -> None:
    """A simulated camera knows its empty scene: the seats start from it, as from a technician's snapshot."""
    empty = getattr(dev, "reference_frame", None)
    for model in models:
        if empty is not None and not model.has_reference:
            model.set_reference(empty())


def _load_reference(model: Any, path: str) -> None:
    import cv2

    image = cv2.imread(path)
    if image is None:
        log.warning("seat reference %s could not be read; the empty seat will be learnt instead", path)
        return
    model.set_reference(image)


def main() -> int:
    # the protocol has stdout to itself: anything else printed (OpenCV, a stray print) goes to stderr
    out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format="%(asctime)s %(levelname)s seat-worker[%(process)d] %(name)s: %(message)s")
    first = sys.stdin.buffer.readline()
    if not first:
        return 0
    start = json.loads(first)
    with_nice = start.get("nice", 0)
    if with_nice:
        try:
            os.nice(with_nice)          # the clerks' server comes first
        except OSError:
            pass
    Worker(start, Sender(out)).run(sys.stdin.buffer)
    log.info("seat worker stopped")
    logging.shutdown()
    os._exit(0)     # the cameras are closed; OpenCV's own teardown is not waited for


if __name__ == "__main__":
    raise SystemExit(main())
