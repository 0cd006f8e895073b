"""The bare endpoint the hall's issue rate is held against: FastAPI doing one durable SQLite commit per request.

    .venv/bin/python bench/bare.py --port P --data-dir DIR

`POST /tickets` `{"matter": "<code>"}` → 201 `{"id", "matter", "issued_at"}`: a pydantic body, one INSERT
and its COMMIT on a WAL database with `synchronous=FULL` (so acknowledged after fsync), run on the event
loop (an `async def` endpoint, one connection), a JSON answer. No authentication, no queue, no events.
Served as the hall is: uvicorn, one worker, uvloop and httptools when installed, no access log.
`GET /api/v1/health` answers `{"status": "ok", "database": {"commits": N}}` for the bench's start-up
wait and commit count.
"""
from __future__ import annotations

import argparse
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel, Field


class IssueRequest(BaseModel):
    matter: str = Field(min_length=1, max_length=40)


def create_app(db: Path) -> FastAPI:
    conn = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE IF NOT EXISTS tickets (id INTEGER PRIMARY KEY, matter TEXT NOT NULL,"
                 " issued_at TEXT NOT NULL)")
    app = FastAPI()
    commits = [0]

    @app.post("/tickets", status_code=201)
    async def issue(body: IssueRequest) -> dict:
        at = datetime.now(UTC).isoformat(timespec="milliseconds")
        conn.execute("BEGIN IMMEDIATE")
        tid = conn.execute("INSERT INTO tickets (matter, issued_at) VALUES (?, ?) RETURNING id",
                           (body.matter, at)).fetchone()[0]
        conn.execute("COMMIT")
        commits[0] += 1
        return {"id": tid, "matter": body.matter, "issued_at": at}

    @app.get("/api/v1/health")
    async def health() -> dict:
        return {"status": "ok", "database": {"commits": commits[0]}}

    return app


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--data-dir", required=True)
    args = ap.parse_args()
    d = Path(args.data_dir)
    d.mkdir(parents=True, exist_ok=True)
    uvicorn.run(create_app(d / "bare.db"), host=args.host, port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
