"""What a failed check likely means and what to do about it, as data: (kinds, pattern, advice).

The first entry whose kinds include the check's kind (or "*") and whose pattern is found in the check's
detail wins; the advice is formatted with the pattern's named groups. Kind-specific entries come first, the
generic ones (ports, timeouts) last. A check that matches nothing gets FALLBACK for its kind.
"""
from __future__ import annotations

import re

PORT_BUSY = ("the hall server may be running and holding the port: stop it (systemctl stop onewindow) or check "
             "the port's permissions (the user must be in the dialout group)")

# kinds that may be on a serial port
PORTED = ("printer", "idcard", "display", "caller", "audio", "locker", "sms", "evaluator")
ADVICE: list[tuple[tuple[str, ...], str, str]] = [
    # -- serial ports, whatever the kind: before the kinds' own (a printer's "cannot connect" may be a busy port)
    (PORTED, r"No such file|no such device|does not exist", "the port is not there: check that the adapter is "
                                                            "plugged in and the URL names the right port "
                                                            "(scripts/ports lists them)"),
    (PORTED, r"[Bb]usy|in use|Permission denied|could not open port|Errno 1[36]\b", PORT_BUSY),
    # -- printers ------------------------------------------------------------------------------------
    (("printer",), r"paper out: load an? (?P<mm>\d+) mm", "paper out: load an {mm} mm roll"),
    (("printer",), r"paper near end", "paper near end: have a new roll ready and replace it before the day's rush"),
    (("printer",), r"cover open", "cover open: close the printer cover firmly; if it is closed, its cover switch "
                                  "may be faulty (supplier)"),
    (("printer",), r"cutter jam|overheated", "printer error: clear the paper path and the cutter, switch the "
                                             "printer off and on; if it stays, call the supplier"),
    (("printer",), r"reports it is offline", "the printer says it is not ready: check it is switched on, its "
                                             "cover closed and it is not feeding paper"),
    (("printer",), r"no answer from the printer|cannot connect to the printer",
     "the printer does not answer: check its power, its cable or network (ping its address) and the port in its "
     "URL"),
    # -- ID-card readers -----------------------------------------------------------------------------
    (("idcard",), r"SAM|self-test", "the SAM module reports a fault: power-cycle the reader; if it persists, the SAM "
                                    "needs replacing by the supplier"),
    (("idcard",), r"no card was presented", "no card was placed on the reader during the test: run again with "
                                            "--active and place a card within the wait (--wait)"),
    (("idcard",), r"pcscd|PC/SC|no reader", "PC/SC does not see the reader: start pcscd (systemctl start pcscd), "
                                            "replug the reader and check that pcsc_scan lists it"),
    (("idcard",), r"no answer from the ID-card reader", "the reader does not answer: check its power and cable, the "
                                                        "port and the baud rate (115200 for most GA 467 readers)"),
    # -- LED screens ---------------------------------------------------------------------------------
    (("display",), r"no screen answers", "no screen on the bus answers: check the RS-485 adapter and its power, the "
                                         "A/B wires (swapped?), the baud rate and the 120 Ω terminator"),
    (("display",), r"address (?P<address>\d+) does not answer",
     "display at address {address} does not answer: check the RS-485 A/B wiring and the screen's address DIP "
     "switches"),
    (("display",), r"garbled", "the screens' answers are garbled: check the baud rate, the A/B wires and the "
                               "terminator; keep the RS-485 cable away from mains cables"),
    (("display",), r"writing to the LED screens .* failed", "writing to the screens' bus failed: check the RS-485 "
                                                            "adapter's USB cable and power"),
    # -- cameras -------------------------------------------------------------------------------------
    (("camera",), r"no frame for (?P<s>\d+) s", "camera has sent no frame for {s} s: check power/PoE and the RTSP "
                                                "URL and password"),
    (("camera",), r"waiting for the first frame", "the camera has sent no frame yet: check power/PoE, the network and "
                                                  "the RTSP URL and password"),
    (("camera",), r"may be frozen", "the picture does not change: the camera may be frozen; power-cycle it (its PoE "
                                    "port) and check its stream settings"),
    (("camera",), r"frames/s of the|frame is .* old", "frames come too slowly: check the camera's network (cable, "
                                                      "switch, bandwidth) or lower its resolution or bitrate"),
    # -- audio ---------------------------------------------------------------------------------------
    (("voice",), r"espeak|pyttsx3|not installed", "speech synthesis does not work here: install espeak-ng "
                                                  "(apt-get install espeak-ng) or use voice = \"clips://zh\""),
    (("voice",), r"no clips|clip directory", "clips are missing: run scripts/make-clips or restore sounds/clips/zh"),
    (("audio",), r"ALSA|alsa|sound card", "the sound card is not available: check that `aplay -l` lists it, the "
                                          "device name in the URL and the amplifier's power"),
    # -- caller keypads ------------------------------------------------------------------------------
    (("caller",), r"no key was pressed", "no key was pressed during the test: run again with --active and press a "
                                         "key on a keypad within the wait (--wait)"),
    # -- evaluator key boxes -------------------------------------------------------------------------
    (("evaluator",), r"no key was pressed", "the lamp lit but nobody pressed a key: run again with --active and "
                                            "press a key on the window's key box within the wait (--wait)"),
    (("evaluator",), r"did not answer|stopped answering", "the key box does not answer: check its cable and power, "
                                                          "that address= matches its DIP switches and baudrate= its "
                                                          "setting"),
    (("evaluator",), r"wrong checksum", "the key box's frames are garbled: check the cable, its screen and the baud "
                                        "rate"),
    # -- smart lockers -------------------------------------------------------------------------------
    (("locker",), r"answered garbled|wrong BCC", "the boards' answers are garbled: check the A/B wires and the 120 Ω "
                                                 "terminator, the baud rate, and that no two boards share a DIP "
                                                 "address"),
    (("locker",), r"no board answers", "no lock board answers: check the RS-485 adapter, the boards' power supply, "
                                       "the A/B wires (swapped?), the baud rate and that boards= matches the boards "
                                       "fitted"),
    (("locker",), r"locker board (?P<board>\d+)[^;]* does not answer",
     "lock board {board} does not answer: check its power, that its DIP switches set address {board}, and its A/B "
     "wires"),
    (("locker",), r"stayed closed", "the door did not open: check that the lock is not jammed and nothing presses "
                                    "against the door; if every door says so, the URL's feedback= (closed-short, "
                                    "open-short) is the wrong way round for this wiring"),
    (("locker",), r"there is no door", "--locker-door names a door this locker does not have: see boards= and locks= "
                                       "in its URL"),
    (("locker",), r"no door was opened", "run again with --active --locker-door BOARD:LOCK naming an empty "
                                         "compartment to test a door"),
    (("locker",), r"already open before the test", "the test door was open already: someone left it open, or its "
                                                   "feedback switch is faulty or wired the other way (feedback=)"),
    # -- SMS modems ----------------------------------------------------------------------------------
    (("sms",), r"no SIM card", "the modem has no SIM card: switch it off, insert the hall's SIM (contacts down) and "
                               "switch it on again"),
    (("sms",), r"PIN|PUK|SIM card is not ready|SIM卡", "the SIM card is locked or faulty: remove its PIN lock in a "
                                                     "phone (or ask the operator for the PUK), then put it back"),
    (("sms",), r"no mobile signal|weak signal", "the signal is too weak: move the modem or its antenna to a window, "
                                                "away from metal cabinets, and check the antenna is screwed on"),
    (("sms",), r"denied registration", "the network refuses the SIM: it may be barred, expired or out of credit; call "
                                       "the operator with the SIM's number"),
    (("sms",), r"not registered", "the modem is not on the network: wait a minute after power-up; if it stays, ask "
                                  "the operator whether the SIM's service is active"),
    (("sms",), r"refuses PDU mode", "this modem cannot send Chinese texts (no PDU mode): use a GSM/4G modem that does"),
    (("sms",), r"no answer from the SMS modem|cannot open the SMS modem",
     "the modem does not answer: check its power LED and USB cable; a USB modem has several ports and the URL must "
     "name its AT port (scripts/ports lists them)"),
    (("sms",), r"\+CMS ERROR: (?P<n>\d+)", "the network refused the test message (+CMS ERROR {n}): check the SIM's "
                                          "credit and SMS service, and smsc= in the URL (empty: the SIM's own)"),
    (("sms",), r"no test SMS was sent: give", "run again with --active --sms-to MOBILE (a staff member's phone) to "
                                              "send a test message"),
    # -- database ------------------------------------------------------------------------------------
    (("database",), r"database (?P<dir>\S*?)/?[^/\s]+ is read-only",
     "database is read-only: check the permissions of {dir}/ (owner, mode, `lsattr`) and free disk"),
    (("database",), r"malformed|corrupt|integrity|not a database",
     "the database is damaged: stop the hall server, copy the data dir aside and restore the latest backup "
     "(or `sqlite3 hall.db .recover`); tell the developers"),
    (("database",), r"cannot make its database", "the data dir is not writable: check its owner and mode (the hall "
                                                 "server's user makes files there) or pass another --data-dir"),
    (("database",), r"no database", "no database in the data dir: check --data-dir; the hall server creates it at "
                                    "its first start"),
    (("database",), r"locked|busy", "the database was busy: run the check again; if it persists, check that only "
                                    "one hall server runs"),
    (("database", "disk"), r"free", "the disk is nearly full: delete old logs and exports or add space; SQLite stops "
                                    "writing when the disk is full"),
    # -- clock ---------------------------------------------------------------------------------------
    (("clock",), r"clock reads", "the clock is wrong: set it (timedatectl set-time) and enable NTP"),
    (("clock",), r"not synchronised", "the clock is not synchronised: enable NTP (timedatectl set-ntp true) or point "
                                      "chrony at the hall's time server; a wrong clock shifts opening hours and the "
                                      "daily rollover"),
    (("clock",), r"synchronisation is unknown", "cannot tell whether the clock is synchronised: compare it with "
                                                "a reliable clock and check NTP (chrony, systemd-timesyncd)"),
    (("clock",), r"hall's time zone is (?P<zone>\S+)", "set the system's time zone to the hall's (timedatectl "
                                                       "set-timezone {zone}) so logs agree; the server itself "
                                                       "uses the hall's zone"),
    # -- network -------------------------------------------------------------------------------------
    (("network",), r"(?P<where>\S+:\d+) refused", "{where}: the device answers but nothing listens on that port: "
                                                  "its service is off or the port in the URL is wrong"),
    (("network",), r"resolve", "the host name does not resolve: use the device's IP address or fix DNS"),
    (("network",), r"(?P<where>\S+:\d+)", "{where} does not answer: check the device's power and network cable, its "
                                          "IP address and the switch or VLAN"),
    # -- any kind ------------------------------------------------------------------------------------
    (("*",), r"did not answer within", "the driver hung: the device or its port does not respond; power-cycle the "
                                       "device, check its cable and run the check again"),
    (("*",), r"bad device URL|unknown option|unknown scheme", "the device's URL in the config is wrong: fix it "
                                                              "(onewindow check-config names the bad part)"),
    (("*",), r"no \w+ drivers here|No module named", "a driver's libraries are missing on this machine: install "
                                                     "onewindow's dependencies (make setup)"),
]

FALLBACK = {
    "printer": "run scripts/printer-test --config … --device NAME for details",
    "idcard": "run scripts/card-read --config … --device NAME for details",
    "camera": "run scripts/camera-check --config … --device NAME for details",
}
GENERIC = "check the device's power and cable, then run the check again"


def advise(kind: str, detail: str) -> str:
    """What a warning or failure of `kind` with this `detail` likely means and what to do."""
    for kinds, pattern, text in ADVICE:
        if kind in kinds or "*" in kinds:
            found = re.search(pattern, detail)
            if found:
                return text.format(**{k: v for k, v in found.groupdict().items() if v is not None})
    return FALLBACK.get(kind, GENERIC)
