"""The command line of the seeded year: `python -m hall_server.stats.seed` and `onewindow stats seed`."""
from __future__ import annotations

import argparse
import json
from datetime import date

from . import __doc__ as _package_doc
from .base import DISTRICT
from .seeder import seed


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m hall_server.stats.seed", description=_package_doc.split("\n\n")[0])
    p.add_argument("--db", required=True, help="the hall store to write (created if missing)")
    p.add_argument("--scale", type=float, default=1.0, help="1 = a year of 1,000,000 tickets; 0.01 for tests")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--end", type=date.fromisoformat, default=date(2026, 11, 30), help="the year's last day")
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--config", default=str(DISTRICT))
    a = p.parse_args(argv)
    out = seed(a.db, scale=a.scale, seed=a.seed, end=a.end, days=a.days, config=a.config)
    print(json.dumps(out, ensure_ascii=False))
    return 0

