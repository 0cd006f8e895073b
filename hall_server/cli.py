"""`onewindow` command line: serve a hall, check a configuration, diagnose a hall's devices, rebuild the statistics;
`onewindow district serve|rebuild`: the district service over the halls' shipped events (issue 19)."""
from __future__ import annotations

import argparse
import gc
import logging
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="onewindow", description="onewindow hall server")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the hall server")
    serve.add_argument("--config", default="config/district-centre.toml")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--data-dir", default="var")
    serve.add_argument("--dev", action="store_true", help="create demo accounts and print their passwords")
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"],
                       help="the hall server's own log level (personal data is never logged at any level)")
    serve.add_argument("--clock-offset-s", type=float, default=0.0, metavar="SECONDS",
                       help="run the hall's clock this many seconds ahead of the machine's (negative: behind), e.g. "
                            "to show or test the after-hours screens; for demonstrations and tests, never a live hall")
    check = sub.add_parser("check-config", help="validate configuration files")
    check.add_argument("paths", nargs="+")
    # everything after `diagnose` is hall_server.diagnose.cli's (`onewindow diagnose --help` shows its options)
    sub.add_parser("diagnose", add_help=False, help="check the hall's devices, database and clock (scripts/diagnose)")
    # `onewindow stats <command>`: the statistics' own commands (rebuild here; seed beside it)
    stats = sub.add_parser("stats", help="statistics: rebuild the aggregates from the event log")
    stats_sub = stats.add_subparsers(dest="stats_command", required=True)
    rebuild = stats_sub.add_parser("rebuild", help="drop the statistics' aggregates and replay the whole event log")
    rebuild.add_argument("--config", default="config/district-centre.toml")
    rebuild.add_argument("--data-dir", default="var")
    seed = stats_sub.add_parser("seed", help="write a seeded year of traffic into a fresh hall store (benchmarks, "
                                "screenshots; never a live hall)")
    seed.add_argument("--config", default="config/district-centre.toml")
    seed.add_argument("--data-dir", default="var/seed-year", help="its hall.db is written (must hold no events yet)")
    seed.add_argument("--scale", type=float, default=1.0, help="1: 1,000,000 tickets a year; 0.01 for a small one")
    seed.add_argument("--seed", type=int, default=1)
    seed.add_argument("--end", default="2026-11-30", help="the year's last day (YYYY-MM-DD)")
    seed.add_argument("--days", type=int, default=365)
    # `onewindow district <command>`: the district service (hall_server/district/), on the halls' PostgreSQL
    district = sub.add_parser("district", help="the district service: every hall's shipped events (issue 19)")
    district_sub = district.add_subparsers(dest="district_command", required=True)
    dserve = district_sub.add_parser("serve", help="run the district service and its /district board")
    dserve.add_argument("--db", required=True, metavar="URL",
                        help="the district's PostgreSQL (the halls' [rollup] url)")
    dserve.add_argument("--host", default="127.0.0.1")
    dserve.add_argument("--port", type=int, default=8200)
    dserve.add_argument("--offline-after-s", type=float, default=30.0, metavar="SECONDS",
                        help="a hall not heard from for this long is shown offline")
    dserve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    drebuild = district_sub.add_parser("rebuild", help="empty the district's projections and replay every shipped "
                                       "event into them")
    drebuild.add_argument("--db", required=True, metavar="URL", help="the district's PostgreSQL")
    args, rest = parser.parse_known_args(argv)
    if args.command == "diagnose":
        from .diagnose.cli import main as diagnose

        return diagnose(rest)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if args.command == "check-config":
        return _check(args.paths)
    if args.command == "stats":
        return _stats(args)
    if args.command == "district":
        from .district.cli import main as district_main

        return district_main(args)
    return _serve(args)


def _check(paths: list[str]) -> int:
    from .config import ConfigError, load_config

    bad = 0
    for p in paths:
        try:
            cfg = load_config(p)
        except ConfigError as exc:
            print(exc, file=sys.stderr)
            bad += 1
        else:
            print(f"{p}: ok — {cfg.hall.name}: {len(cfg.windows)} windows, {len(cfg.matters)} matters")
    return 1 if bad else 0


def _stats(args) -> int:
    from .config import ConfigError, load_config

    try:
        cfg = load_config(args.config)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.stats_command == "rebuild":
        from .cases.calendar import WorkCalendar
        from .runtime import stats_dims
        from .stats.schema import open_reports
        from .stats.service import Stats
        from .store.database import Store

        path = Path(args.data_dir) / "hall.db"
        if not path.exists():
            print(f"no hall database in {args.data_dir} (hall.db); give the server's --data-dir", file=sys.stderr)
            return 2
        Store(path).close()         # the hall's schema brought up to date, nothing else written (no Hall)
        # the replay runs here, batch by batch, each batch one transaction of the stats database with its cursor
        stats = Stats(path, stats_dims(cfg, WorkCalendar(cfg.calendar).working_days_between), lambda: 0)
        events, seconds = stats.rebuild()
        conn = open_reports(stats.path, path)
        try:
            tickets = conn.execute("SELECT COUNT(*) FROM stats_ticket").fetchone()[0]
            days = conn.execute("SELECT COUNT(*) FROM stats_days WHERE rolled=1").fetchone()[0]
        finally:
            conn.close()
        print(f"stats rebuilt from the event log of {path}: {events} events replayed in {seconds:.1f} s; "
              f"{tickets} tickets, {days} days rolled up")
        return 0
    if args.stats_command == "seed":
        import json
        from datetime import date

        from .stats.seed import seed

        try:
            out = seed(Path(args.data_dir) / "hall.db", scale=args.scale, seed=args.seed,
                       end=date.fromisoformat(args.end), days=args.days, config=args.config)
        except (ValueError, RuntimeError) as exc:
            print(exc, file=sys.stderr)
            return 2
        print(json.dumps(out, ensure_ascii=False))
        return 0
    return 2


def _tune_malloc() -> None:
    """glibc's allocator for a long-running server with a few threads: at most two arenas (each thread otherwise
    gets one of its own and keeps its high-water mark), and a fixed mmap threshold of 256 KB — a large block freed
    (scrypt's 16 MB at every log-in) goes back to the system at once instead of raising the threshold so that the
    next ones stay in the heap. Measured: the server's RSS peak with set-up 116–121 MB → 101 MB (bench/run.py).
    Nothing on a C library without mallopt."""
    import ctypes

    try:
        libc = ctypes.CDLL(None)
        libc.mallopt(-8, 2)             # M_ARENA_MAX
        libc.mallopt(-3, 256 * 1024)    # M_MMAP_THRESHOLD
    except (OSError, AttributeError):
        pass


def _serve(args) -> int:
    _tune_malloc()
    # Start-up is mostly imports; the collector gains nothing scanning them, so it waits until the app
    # is built, and what exists then is frozen out of later collections.
    gc.disable()
    from .config import ConfigError, load_config

    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        cfg = load_config(args.config)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    import uvicorn

    from .app import create_app
    from .runtime import Hall

    data_dir = Path(args.data_dir)
    if any(d.kind == "printer" for d in cfg.devices):
        from .hardware import escpos_cache

        escpos_cache.prepare(data_dir / "cache")    # before a printer's driver first imports python-escpos
    clock = None
    if args.clock_offset_s:
        from .clock import OffsetClock

        clock = OffsetClock(args.clock_offset_s)
        logging.getLogger(__name__).warning("the hall's clock runs %+.0f s off the machine's (--clock-offset-s): %s",
                                            args.clock_offset_s, clock.now().isoformat(timespec="seconds"))
    hall = Hall(cfg, data_dir, clock, stats_mode="process")
    generated = hall.ensure_admin()
    if generated:
        print(f"\n  first start: user 'admin' created with password {generated}\n"
              "  (shown once; set ONEWINDOW_ADMIN_PASSWORD to choose it)\n", flush=True)
    if args.dev:
        creds = hall.ensure_dev_users(generated)
        print(f"  development accounts ({data_dir / 'dev-credentials.json'}):")
        for user, c in creds.items():
            print(f"    {c['role']:<11} {user:<11} {c['password']}")
        print(f"\n  {cfg.hall.name}: http://{args.host}:{args.port}/   API: http://{args.host}:{args.port}/api/docs\n",
              flush=True)
    app = create_app(hall)
    # Frozen without a collection first: a full collection here found some 650 garbage objects among 66,000
    # and took 60 ms of the start-up; kept for good, they cost a few kilobytes.
    gc.freeze()
    gc.enable()
    # The store's writer thread and the event loop share the GIL: hand it over every 1 ms rather than
    # the default 5 ms, so a commit's waiter is not kept waiting behind a busy request handler.
    sys.setswitchinterval(0.001)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
