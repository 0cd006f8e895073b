"""`onewindow district serve --db …` and `onewindow district rebuild --db …` (the parser is hall_server/cli.py's).

serve: a URL that is not PostgreSQL's is refused at once (exit 2, a line saying what to give); a database that cannot
be reached (down, wrong password) is ONE log line and a health warning — the service runs and keeps retrying, it does
not exit and get restarted in a loop. rebuild: empties the projections and replays every hall's shipped events; a
database it cannot reach is one line and exit 2.
"""
from __future__ import annotations

import logging
import re
import sys
import time

BAD_URL = ("district: {url!r} 不是 PostgreSQL 地址，请写成 postgresql://用户:密码@主机/数据库 / "
           "{url!r} is not a PostgreSQL URL; give --db postgresql://user:password@host/database "
           "(or postgresql:///district?host=/path/to/socket)")


def _url_ok(url: str) -> bool:
    return re.match(r"^postgres(ql)?://", url) is not None


def main(args) -> int:
    from ..rollup.config import redact_url

    if not _url_ok(args.db):
        print(BAD_URL.format(url=redact_url(args.db)), file=sys.stderr)
        return 2
    if args.district_command == "serve":
        return _serve(args)
    return _rebuild(args)


def _serve(args) -> int:
    import uvicorn

    from .app import create_district_app

    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_district_app(args.db, offline_after_s=args.offline_after_s)
    print(f"\n  district service: http://{args.host}:{args.port}/district\n", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    return 0


def _rebuild(args) -> int:
    import psycopg

    from ..rollup.config import redact_url
    from .projector import rebuild

    started = time.perf_counter()
    try:
        with psycopg.connect(args.db, autocommit=True, connect_timeout=10,
                             application_name="onewindow district rebuild") as conn:
            n = rebuild(conn)
            halls = conn.execute("SELECT count(*) FROM d_cursor").fetchone()[0]
    except psycopg.OperationalError as exc:
        print(f"district rebuild: 无法连接区级数据库 / cannot reach the district database {redact_url(args.db)}: "
              f"{' '.join(str(exc).split())} — check the URL, the password and that PostgreSQL runs", file=sys.stderr)
        return 2
    print(f"district rebuild: {n} events of {halls} halls replayed into the projections in "
          f"{time.perf_counter() - started:.1f} s", flush=True)
    return 0
