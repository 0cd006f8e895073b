"""The real locker driver (lockerbus+serial://, pyserial on a pty) against the board simulator; sim://locker
around both; the faults, retries and health a technician meets; the lockers in scripts/diagnose."""
from __future__ import annotations

import json
import threading
import time

import pytest
from serverproc import DISTRICT, without_devices

from drivers.health import DeviceState
from drivers.locker.base import DoorState, LockerError
from drivers.locker.frames import encode_open, encode_read
from drivers.locker.serial_locker import SerialLocker, from_url
from drivers.locker.simulator import LockerBusSimulator
from drivers.registry import drivers_of
from drivers.url import DeviceURLError
from hall_server.api.models import SimulatedFaults
from hall_server.diagnose import FAIL, OK, WARN, devices
from hall_server.diagnose.cli import main as diagnose_main
from hall_server.diagnose.targets import Options, Target

FAST = "timeout=0.2&retries=2"     # answers come within a millisecond: 0.2 s is a wide margin on a busy machine


def wait_for(cond, timeout=3.0):
    end = time.monotonic() + timeout
    while not (value := cond()):
        assert time.monotonic() < end, "condition not reached"
        time.sleep(0.01)
    return value


def sent(sim: LockerBusSimulator) -> list[bytes]:
    return [t.data for t in sim.traffic if t.direction == "rx"]


@pytest.fixture
def bus(request):
    """Two boards of 24 locks, and the driver on their pty; `request.param` adds driver options."""
    wiring = getattr(request, "param", "closed-short")
    sim = LockerBusSimulator(boards=2, locks=24, feedback=wiring)
    port = sim.start()
    locker = from_url(f"lockerbus+serial://{port}?boards=2&locks=24&feedback={wiring}&{FAST}")
    locker.open()
    yield sim, locker
    locker.close()
    sim.stop()


def test_doors_start_closed_open_on_command_and_are_shut_by_hand(bus):
    sim, locker = bus
    assert locker.door_state(1, 3) is DoorState.CLOSED
    assert locker.open_door(1, 3) == "open"                  # a DoorState is its string, for the hall's JSON
    assert sent(sim)[-1] == bytes.fromhex("8A 01 03 11 99")
    assert sim.door(1, 3) is DoorState.OPEN
    assert locker.door_state(1, 3) is DoorState.OPEN
    assert sent(sim)[-1] == encode_read(1, 3)
    sim.shut(1, 3)                                           # a citizen closes the door
    assert locker.door_state(1, 3) is DoorState.CLOSED
    assert locker.states(2) == {lock: DoorState.CLOSED for lock in range(1, 25)}
    assert locker.diagnostics()["opens"] == 1


def test_every_lock_of_a_board_opens_with_lock_00(bus):
    sim, locker = bus
    states = locker.open_all(2)
    assert encode_open(2, 0) in sent(sim)
    assert set(states.values()) == {DoorState.OPEN} and len(states) == 24
    assert set(sim.doors(1).values()) == {DoorState.CLOSED}


@pytest.mark.parametrize("bus", ["open-short"], indirect=True)
def test_open_short_wiring_reads_the_other_way_round(bus):
    sim, locker = bus
    assert locker.door_state(1, 1) is DoorState.CLOSED
    assert sim.wait_until(lambda: sim.traffic[-1].data[3] == 0x00)     # "00" means closed on this wiring
    assert locker.open_door(1, 1) is DoorState.OPEN
    assert sim.traffic[-1].data[3] == 0x11


def test_a_driver_set_for_the_wrong_wiring_says_so():
    with LockerBusSimulator(feedback="open-short") as sim:
        locker = from_url(f"lockerbus+serial://{sim.port}?feedback=closed-short&{FAST}")
        with locker:
            with pytest.raises(LockerError, match="feedback=closed-short may be the wrong way round") as caught:
                locker.open_door(1, 2)
            assert caught.value.code == "not_opened"
            assert sim.door(1, 2) is DoorState.OPEN          # it did open: only the meaning of 00/11 was wrong


@pytest.mark.parametrize("fault,code,acted", [
    ("unplugged", "no_answer", False),      # the board is gone: nothing moves, nothing answers
    ("mute", "no_answer", True),            # its transmitter is dead: the door opens, the answer never comes
    ("bad-bcc", "garbled", True),           # the answer comes with a wrong BCC, every time
])
def test_a_board_fault_is_a_locker_error_naming_the_board(bus, fault, code, acted):
    sim, locker = bus
    sim.fault(fault, board=2)
    with pytest.raises(LockerError) as caught:
        locker.open_door(2, 5)
    err = caught.value
    assert (err.code, err.board, err.lock) == (code, 2, 5)
    assert "locker board 2" in err.en and "open lock 5" in err.en and "2号锁控板" in err.zh
    assert str(err) == err.en and err.as_dict()["message_zh"] == err.zh
    assert sim.door(2, 5) is (DoorState.OPEN if acted else DoorState.CLOSED)
    assert sent(sim).count(encode_open(2, 5)) == 3           # tried 1 + retries=2 times
    assert locker.open_door(1, 5) is DoorState.OPEN          # the other board still works
    assert locker.diagnostics()["last_error"]["code"] == code


def test_a_door_that_does_not_open(bus):
    sim, locker = bus
    sim.fault("stuck", board=1, lock=7)
    with pytest.raises(LockerError, match="door 7 of locker board 1 stayed closed") as caught:
        locker.open_door(1, 7)
    assert (caught.value.code, caught.value.board, caught.value.lock) == ("not_opened", 1, 7)
    assert "1号锁控板7号门未能打开" in caught.value.zh
    assert sent(sim).count(encode_open(1, 7)) == 1           # an answer came: no retry
    assert locker.door_state(1, 7) is DoorState.CLOSED
    assert locker.open_door(1, 8) is DoorState.OPEN
    sim.fault("none", board=1, lock=7)
    assert locker.open_door(1, 7) is DoorState.OPEN


@pytest.mark.parametrize("fault,times,ok", [("bad-bcc", 2, True), ("mute", 2, True), ("bad-bcc", 3, False)])
def test_retries_cover_silence_and_bad_bcc_then_give_up(bus, fault, times, ok):
    sim, locker = bus
    sim.fault(fault, board=1, times=times)
    if ok:
        assert locker.door_state(1, 1) is DoorState.CLOSED
        counters = locker.diagnostics()
        assert counters["retries"] == 2 and counters["garbled" if fault == "bad-bcc" else "no_answers"] == 2
    else:
        with pytest.raises(LockerError, match=r"answered garbled .*wrong BCC.*3 tries"):
            locker.door_state(1, 1)
    assert [e["outcome"] for e in sim.log] == [fault] * min(times, 3) + ["answered"] * ok
    assert sim.faults()["fault"] == "none"                   # a fault for `times` frames clears itself


def test_no_retries_when_told_so():
    with LockerBusSimulator() as sim:
        sim.fault("bad-bcc", board=1, times=1)
        with from_url(f"lockerbus+serial://{sim.port}?timeout=0.1&retries=0") as locker:
            with pytest.raises(LockerError, match="1 tries"):
                locker.door_state(1, 1)
            assert locker.door_state(1, 1) is DoorState.CLOSED


def test_health_asks_every_board(bus):
    sim, locker = bus
    health = locker.health()
    assert health.state is DeviceState.OK and "boards 1-2 answer" in health.detail and "锁控板应答正常" in health.detail
    sim.fault("unplugged", board=2)                          # unplugged mid-session
    health = locker.health()
    assert health.state is DeviceState.DEGRADED
    assert "board(s) 2 of 1-2 fail" in health.detail and "2号锁控板故障" in health.detail
    with pytest.raises(LockerError, match="locker board 2 does not answer"):
        locker.open_door(2, 1)
    sim.fault("mute", board=1)
    health = locker.health()
    assert health.state is DeviceState.OFFLINE and "no board answers properly" in health.detail
    assert "所有锁控板均无正确应答" in health.detail
    outcomes = locker.diagnostics()["board_outcomes"]
    assert not outcomes[1]["ok"] and not outcomes[2]["ok"] and "无应答" in outcomes[2]["detail_zh"]
    sim.fault("none")                                        # plugged back in
    assert locker.health().state is DeviceState.OK
    assert locker.open_door(2, 1) is DoorState.OPEN


def test_the_adapter_unplugged_is_a_port_error_and_offline(bus):
    sim, locker = bus
    sim.stop()
    with pytest.raises(LockerError) as caught:
        locker.door_state(1, 1)
    assert caught.value.code == "port" and caught.value.board is None
    health = locker.health()
    assert health.state is DeviceState.OFFLINE and "RS-485 adapter" in health.detail and "串口" in health.detail


def test_a_door_the_locker_does_not_have_is_refused_before_any_byte(bus):
    sim, locker = bus
    for board, lock in [(3, 1), (1, 25), (1, 0), (0, 1)]:
        with pytest.raises(LockerError, match="boards 1-2 with locks 1-24") as caught:
            locker.open_door(board, lock)
        assert caught.value.code == "no_such_door"
    assert sent(sim) == []


def test_one_request_on_the_line_at_a_time(bus):
    _, locker = bus
    errors = []

    def work(board):
        try:
            for lock in range(1, 13):
                locker.open_door(board, lock)
                locker.door_state(board, lock)
        except Exception as exc:     # collected for the assertion
            errors.append(exc)
    threads = [threading.Thread(target=work, args=(b,)) for b in (1, 2, 1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert errors == []
    counters = locker.diagnostics()
    assert counters["garbled"] == 0 and counters["opens"] == 48


@pytest.mark.parametrize("url,match", [
    ("lockerbus+serial:///dev/ttyUSB2?feedback=normally-closed", "feedback"),
    ("lockerbus+serial:///dev/ttyUSB2?boards=33", "boards"),
    ("lockerbus+serial:///dev/ttyUSB2?locks=0", "locks"),
    ("lockerbus+serial:///dev/ttyUSB2?baudrate=9601", "baudrate"),
    ("lockerbus+serial:///dev/ttyUSB2?boad=2", "did you mean 'boards'"),
    ("lockerbus+serial://ttyUSB2", "three slashes"),
    ("locker+serial:///dev/ttyUSB2", "did you mean lockerbus"),
    ("sim://lockers?boards=2", "sim://locker"),
    ("sim://locker?fault=stuck@3:1&boards=2", "not there"),
    ("sim://locker?fault=unplugged@1:2", "whole board"),
    ("sim://locker?fault=jammed@1", "FAULT@BOARD"),
])
def test_bad_urls_name_the_part_at_fault(url, match):
    with pytest.raises(DeviceURLError, match=match):
        drivers_of("locker").create(url)


def test_the_url_sets_the_driver():
    locker = drivers_of("locker").create("lockerbus+serial:///dev/ttyUSB2?boards=2&locks=24&feedback=open-short")
    assert isinstance(locker, SerialLocker) and not locker.is_open
    assert (locker.port, locker.baudrate, locker.boards, locker.locks, locker.feedback, locker.retries) == (
        "/dev/ttyUSB2", 9600, (1, 2), 24, "open-short", 2)
    assert locker.health().state is DeviceState.OFFLINE
    with pytest.raises(LockerError, match="not open"):
        locker.door_state(1, 1)


def test_sim_locker_drives_the_real_driver_and_takes_runtime_faults(tmp_path):
    dump = tmp_path / "wire.txt"
    locker = drivers_of("locker").create(f"sim://locker?boards=2&locks=12&{FAST}&fault=stuck@2:12&out=x&wire={dump}")
    with locker:
        assert locker.health().state is DeviceState.OK
        assert (locker.boards, locker.locks) == ((1, 2), 12)
        assert locker.open_door(1, 1) is DoorState.OPEN
        with pytest.raises(LockerError, match="stayed closed"):
            locker.open_door(2, 12)
        # the bodies POST /api/v1/devices/{name}/simulate passes on, as its model gives them
        for body in ({"shut": True, "board": 1, "lock": 1}, {"fault": "unplugged", "board": 2},
                     {"fault": "stuck", "board": 1, "lock": 3}):
            locker.simulate(**SimulatedFaults(**body).model_dump(exclude_none=True))
        assert locker.door_state(1, 1) is DoorState.CLOSED
        assert locker.health().state is DeviceState.DEGRADED
        faults = locker.faults()
        assert faults["boards"] == {2: "unplugged"} and faults["stuck"] == ["1/3", "2/12"]
        for bad in ({"board": 1}, {"shut": True, "board": 1}, {"fault": "jammed"}, {"fault": "mute", "board": 1,
                                                                                         "lock": 2}):
            with pytest.raises(ValueError):
                locker.simulate(**bad)
        locker.simulate(fault="none")
        assert locker.health().state is DeviceState.OK
        diag = locker.diagnostics()
        assert diag["kind"] == "locker" and diag["simulator"]["fault"] == "none" and diag["board_outcomes"][2]["ok"]
        lines = locker.simulator.wire_log()
        assert any(line.endswith("rx 8A 01 01 11 9B") for line in lines)
        assert any(line.endswith("tx 8A 01 01 00 8A") for line in lines)          # open, on closed-short
    assert not locker.is_open and locker.simulator is None
    assert "8A 01 01 11 9B" in dump.read_text(encoding="utf-8")                  # spy:// dumped the line


def test_sim_locker_with_a_slow_board():
    with drivers_of("locker").create("sim://locker?answer_ms=50&timeout=0.5&retries=0") as locker:
        started = time.monotonic()
        assert locker.open_door(1, 24) is DoorState.OPEN
        assert time.monotonic() - started >= 0.05


# -- scripts/diagnose ----------------------------------------------------------------------------------
@pytest.mark.parametrize("url,active,door,state,detail,advice", [
    ("sim://locker?boards=2", False, None, OK, "boards 1-2 answer", ""),
    ("sim://locker?boards=2", True, (2, 24), OK, "door 24 of board 2 opened: shut it by hand", ""),
    ("sim://locker?boards=2&fault=unplugged@2", False, None, WARN, "board(s) 2 of 1-2 fail",
     "lock board 2 does not answer: check its power, that its DIP switches set address 2"),
    ("sim://locker?boards=2&fault=mute@1,mute@2", True, None, FAIL, "no test door was opened",
     "no lock board answers"),
    ("sim://locker?fault=bad-bcc@1", False, None, FAIL, "wrong BCC", "answers are garbled"),
    ("sim://locker?fault=stuck@1:1", True, None, FAIL, "the test door did not open", "the door did not open"),
    ("sim://locker?locks=12", True, (1, 13), FAIL, "there is no door 13", "--locker-door names a door"),
])
def test_diagnose_checks_each_board_and_opens_the_chosen_door(tmp_path, url, active, door, state, detail, advice):
    target = Target("lockers", "locker", f"{url}{'&' if '?' in url else '?'}{FAST}")
    check = devices.check_device(target, Options(sim_dir=tmp_path, active=active, locker_door=door))
    assert check.state == state and detail in check.detail, check
    assert advice in check.advice
    if door and state == OK:
        assert check.data["door"] == {"board": 2, "lock": 24, "before": "closed", "after": "open"}
    assert check.data["board_addresses"] == ([1, 2] if "boards=2" in url else [1])
    assert check.data["kind"] == "locker" and check.data["locks"] == (12 if "locks=12" in url else 24)


def test_diagnose_command_with_a_real_driver_on_a_pty(tmp_path, capsys):
    """onewindow diagnose (scripts/diagnose's main, in this process: the simulator holds its pty here, which the
    tool would otherwise report as a port another process holds) on lockerbus+serial:// at the simulator's pty,
    --active opening the door named on the command line."""
    with LockerBusSimulator(boards=2) as sim:
        config = tmp_path / "hall.toml"
        config.write_text(without_devices(DISTRICT.read_text(encoding="utf-8")) + (
            f'\n[[devices]]\nname = "lockers"\nkind = "locker"\n'
            f'url = "lockerbus+serial://{sim.port}?boards=2&locks=24&{FAST}"\n'), encoding="utf-8")
        report = tmp_path / "report.json"
        code = diagnose_main(["--config", str(config), "--data-dir", str(tmp_path / "data"), "--json", str(report),
                              "--device", "lockers", "--active", "--locker-door", "2:7"])
        assert code == 0, capsys.readouterr()
        doc = json.loads(report.read_text(encoding="utf-8"))
        [row] = doc["checks"]
        assert row["kind"] == "locker" and row["state"] == OK and "door 7 of board 2 opened" in row["detail"]
        assert doc["options"]["locker_door"] == [2, 7]
        assert sim.door(2, 7) is DoorState.OPEN
    with pytest.raises(SystemExit) as bad:
        diagnose_main(["--config", str(config), "--locker-door", "2-7"])
    assert bad.value.code == 2 and "BOARD:LOCK" in capsys.readouterr().err


def test_wire_dumps_the_locker_line():
    from pathlib import Path

    from drivers.wire import with_wire
    assert with_wire("lockerbus+serial:///dev/ttyUSB2?boards=2", Path("/tmp/w.txt")) == (
        "lockerbus+serial://?port=spy:///dev/ttyUSB2?file=/tmp/w.txt&boards=2")
    assert with_wire("sim://locker?boards=2", Path("/tmp/w.txt")) == "sim://locker?boards=2&wire=/tmp/w.txt"
