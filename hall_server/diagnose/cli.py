"""`scripts/diagnose` and `onewindow diagnose`: check every device of a hall, its database and its clock.

    scripts/diagnose                                    # the district centre's config, data dir var/
    scripts/diagnose --config config/street-centre.toml --data-dir /var/lib/onewindow
    scripts/diagnose --active                           # also print, read a card, show, speak, press a key
    scripts/diagnose --device lockers --active --locker-door 2:24   # open that (empty) locker door
    scripts/diagnose --device sms-modem --active --sms-to 13800000000   # a test SMS to that mobile
    scripts/diagnose --device kiosk1-printer --active   # one device (add --system for database and clock)
    scripts/diagnose --kiosk-devices /etc/onewindow/kiosk.toml    # a kiosk program's own printer and reader
    scripts/diagnose --wire                             # dump each serial device's traffic under <data-dir>/wire/

Checks: each device (health; with --active one real action: a test receipt, a card read, a test pattern on
every screen, the test phrase on every audio sink, a key press, a locker door opened, a test SMS; the SMS modem's
SIM, signal and registration always), the calling voice, the TCP
reachability of every networked device (escpos+tcp, rtsp, http, socket:// ports), the database (integrity,
writable, size, free disk) and the clock (time zone against the hall's, NTP synchronisation). `--device` checks only the
named devices (and their hosts) and skips the database and clock unless `--system` is given as well.
Simulated devices write under <data-dir>/diagnose-sim, never into the hall's own simulator folders.
The hall server holds its serial ports while it runs: stop it first (systemctl stop onewindow).

A table goes to the terminal and a JSON report (personal data redacted) to --json, by default
<data-dir>/diagnose-<UTC timestamp>.json. Exit status: 0 nothing failed (warnings allowed), 1 at least one
check failed, 2 bad usage (unknown device, unreadable configuration).
"""
from __future__ import annotations

import argparse
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path

VOICE = "calling-voice"     # the row of the hall's [calling] voice


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="diagnose", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="config/district-centre.toml", help="the hall's configuration")
    ap.add_argument("--data-dir", default="var", help="the hall server's data dir (database; reports go here)")
    ap.add_argument("--device", action="append", metavar="NAME", help="check only this device (repeatable)")
    ap.add_argument("--system", action="store_true", help="with --device: also check the database and clock")
    ap.add_argument("--active", action="store_true",
                    help="also print a test receipt, read a card, show a test pattern, speak, wait for a key, "
                         "open a locker door, send a test SMS (to --sms-to)")
    ap.add_argument("--locker-door", type=locker_door, metavar="BOARD:LOCK",
                    help="with --active: the empty locker compartment to open (a simulator: 1:1 if not given)")
    ap.add_argument("--sms-to", type=sms_number, metavar="MOBILE",
                    help="with --active: the mobile the SMS modem sends its test message to (without it, none)")
    ap.add_argument("--wait", type=float, default=5.0, help="seconds to wait for a card or a key press (5)")
    ap.add_argument("--timeout", type=float, default=20.0, help="seconds a device's check may take (20)")
    ap.add_argument("--json", metavar="PATH", help="the JSON report (default <data-dir>/diagnose-<UTC>.json)")
    ap.add_argument("--wire", action="store_true", help="dump serial devices' traffic to <data-dir>/wire/")
    ap.add_argument("--kiosk-devices", metavar="FILE", help="also check a kiosk program's devices file")
    ap.add_argument("--log-level", default="error", choices=["debug", "info", "warning", "error"])
    return ap


def locker_door(text: str) -> tuple[int, int]:
    """`2:24` (or 2/24) → (2, 24): a board's DIP address and a lock on it."""
    board, sep, lock = text.replace("/", ":").partition(":")
    if not sep or not board.isdigit() or not lock.isdigit() or not 1 <= int(board) <= 32 or not 1 <= int(lock) <= 24:
        raise argparse.ArgumentTypeError(f"{text!r}: write the door as BOARD:LOCK, e.g. 2:24 (board 1-32, lock 1-24)")
    return int(board), int(lock)


def sms_number(text: str) -> str:
    """A Chinese mobile for the modem's test SMS, refused at once rather than after the other checks ran."""
    from drivers.sms.numbers import BadNumber, international
    try:
        return international(text)
    except BadNumber as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    from ..config import ConfigError, load_config
    from .devices import check_all
    from .targets import Options
    try:
        cfg = load_config(args.config)
        targets = hall_targets(cfg) + (kiosk_targets(args.kiosk_devices) if args.kiosk_devices else [])
    except (ConfigError, OSError, ValueError) as exc:
        print(f"diagnose: {exc}", file=sys.stderr)
        return 2
    if args.device:
        known = [t.name for t in targets]
        unknown = [n for n in args.device if n not in known]
        if unknown:
            print(f"diagnose: no device named {', '.join(map(repr, unknown))} in {args.config}"
                  f"{' or ' + args.kiosk_devices if args.kiosk_devices else ''}; devices: {', '.join(known)}",
                  file=sys.stderr)
            return 2
        targets = [t for t in targets if t.name in args.device]
    now = datetime.now(UTC)
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    data_dir = Path(args.data_dir)
    opts = Options(sim_dir=data_dir / "diagnose-sim", active=args.active, wait=args.wait, timeout=args.timeout,
                   voice=cfg.calling.voice, wire_dir=data_dir / "wire" if args.wire else None, stamp=stamp,
                   locker_door=args.locker_door, sms_to=args.sms_to or "")
    checks = check_all(targets, opts)
    from . import system
    checks += system.reachability({t.name: t.url for t in targets})
    if not args.device or args.system:
        checks += [system.database(data_dir), system.clock(cfg.hall.timezone)]
        if cfg.rollup is not None:                  # issue 19: shipping to the district's PostgreSQL
            from .rollup import rollup
            checks.append(rollup(cfg, data_dir))
    from . import report
    out = Path(args.json) if args.json else data_dir / f"diagnose-{stamp}.json"
    meta = {"at": now.isoformat(timespec="seconds"), "config": str(args.config), "data_dir": str(data_dir),
            "hall": {"code": cfg.hall.code, "name": cfg.hall.name, "timezone": cfg.hall.timezone},
            "options": {"active": args.active, "devices": args.device, "system": not args.device or args.system,
                        "wire": args.wire, "wait_s": args.wait, "timeout_s": args.timeout,
                        "locker_door": list(args.locker_door) if args.locker_door else None,
                        "sms_to": _masked(args.sms_to),
                        "kiosk_devices": args.kiosk_devices}}
    doc = report.document(checks, meta)
    report.table(checks, f"{cfg.hall.name} — onewindow diagnose {now:%Y-%m-%d %H:%M} UTC")
    try:
        report.write_json(doc, out)
        print(f"report: {out}")
    except OSError as exc:
        print(f"diagnose: cannot write the report {out}: {exc}", file=sys.stderr)
    return report.exit_code(checks)


def _masked(number: str | None) -> str | None:
    from drivers.sms.numbers import mask
    return mask(number) if number else None


def hall_targets(cfg) -> list:
    from .targets import Target
    windows = tuple(w.number for w in cfg.windows)
    targets = [Target(d.name, d.kind, d.url, dict(d.screens), dict(d.keypads), windows, window=d.window)
               for d in cfg.devices]
    if cfg.calling.voice:
        targets.append(Target(VOICE, "voice", cfg.calling.voice))
    return targets


def kiosk_targets(path: str) -> list:
    """A kiosk program's printer and reader (config/kiosks/*.toml), named <kiosk>-printer, <kiosk>-idcard."""
    from kiosk.settings import SettingsError, load_settings

    from .targets import Target
    try:
        s = load_settings(path)
    except SettingsError as exc:
        raise ValueError(str(exc)) from None
    name = s.kiosk.name or "kiosk"
    found = [Target(f"{name}-{kind}", kind, section.url, source=str(path))
             for kind, section in (("printer", s.printer), ("idcard", s.idcard)) if section is not None]
    if s.kiosk.voice:
        found.append(Target(f"{name}-voice", "voice", s.kiosk.voice, source=str(path)))
    return found


if __name__ == "__main__":
    sys.exit(main())
