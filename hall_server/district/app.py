"""The district service's FastAPI app: `create_district_app(db_url)` — the API and the /district board (api.py), the
projector's thread (projector.py), a few PostgreSQL connections for the queries, and the hub that LISTENs on
`district_changed` and fans each notification out to the board's WebSockets.

Access: the board is read-only and for bureau staff on the district's network. The district has no accounts of its
own (the halls keep theirs), so it asks for no log-in; it shows no personal data — the projections hold none (ticket
numbers, counts, window states, case numbers and states; never a name, phone or ID number). Put it behind the
district network's own access control when it must not be seen by everyone there.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import queue
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..clock import Clock
from ..errors import HallError
from ..rollup.config import redact_url
from ..web.templates import STATIC
from . import api
from .migrations import ensure_projection_schema
from .outage import Outage
from .projector import CHANGED_CHANNEL, Projector


class Pool:
    """A handful of autocommit connections for the queries, made when first needed, a broken one dropped."""

    def __init__(self, url: str, size: int = 4):
        self.url = url
        self._idle: queue.LifoQueue[psycopg.Connection] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(size)

    @contextlib.contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        with self._slots:
            try:
                conn = self._idle.get_nowait()
            except queue.Empty:
                conn = psycopg.connect(self.url, autocommit=True, connect_timeout=5,
                                       application_name="onewindow district")
            try:
                yield conn
            finally:
                if conn.closed or conn.broken or conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                    conn.close()
                else:
                    self._idle.put(conn)

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return


class Hub:
    """LISTEN district_changed (one connection), each notification to every subscriber's queue. A subscriber that
    does not keep up loses messages, never the hub: each says only that something changed."""

    def __init__(self, url: str, outage: Outage):
        self.url = url
        self.outage = outage
        self.subscribers: set[asyncio.Queue] = set()
        self.connected = False
        self.failures = 0                   # connection attempts failed in a row
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    @contextlib.contextmanager
    def subscribe(self) -> Iterator[asyncio.Queue]:
        q: asyncio.Queue = asyncio.Queue(maxsize=64)
        self.subscribers.add(q)
        try:
            yield q
        finally:
            self.subscribers.discard(q)

    def publish(self, message: dict[str, Any]) -> None:
        for q in list(self.subscribers):
            with contextlib.suppress(asyncio.QueueFull):
                q.put_nowait(message)

    async def _run(self) -> None:
        delay, logged = 0.5, False
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self.url, autocommit=True,
                                                                 application_name="onewindow district hub") as conn:
                    await conn.execute(f"LISTEN {CHANGED_CHANNEL}")
                    self.connected, self.failures, delay = True, 0, 0.5
                    if logged:
                        self.outage.up("the board's live updates")
                        logged = False
                    self.publish({"type": "changed", "what": "reconnected"})
                    async for n in conn.notifies():
                        try:
                            body = json.loads(n.payload)
                        except ValueError:
                            body = {}
                        self.publish({"type": "changed", **body})
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.connected = False
                self.failures += 1
                if not logged:
                    self.outage.down("board's live updates", exc)
                    logged = True
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)


class District:
    """What the routes need (app.state.district)."""

    def __init__(self, url: str, clock: Clock, offline_after_s: float, projector: Projector | None,
                 outage: Outage):
        self.url = url
        self.url_shown = redact_url(url)
        self.clock = clock
        self.offline_after_s = offline_after_s
        self.pool = Pool(url)
        self.projector = projector
        self.outage = outage
        self.hub = Hub(url, outage)


def create_district_app(db_url: str, *, clock: Clock | None = None, offline_after_s: float = 30.0,
                        interval_s: float = 2.0, run_projector: bool = True) -> FastAPI:
    """The district service on the PostgreSQL at `db_url` (the halls' [rollup] url). `offline_after_s`: a hall
    not heard from for this long is offline (its shipper reports every interval_s, 5 s by default)."""
    outage = Outage(redact_url(db_url))
    projector = (Projector(db_url, interval_s=interval_s, offline_after_s=offline_after_s, outage=outage)
                 if run_projector else None)
    district = District(db_url, clock or Clock(), offline_after_s, projector, outage)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            await asyncio.to_thread(_migrate, db_url)
        except psycopg.Error as exc:       # said once; the projector keeps trying, health says why
            outage.down("start-up", exc)
        district.hub.start()
        if projector is not None:
            projector.start()
        try:
            yield
        finally:
            await district.hub.stop()
            if projector is not None:
                await asyncio.to_thread(projector.stop)
            district.pool.close()

    app = FastAPI(title="onewindow district service", version="1", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Every hall of the district, from the events they ship to PostgreSQL (issue 19).")
    app.state.district = district
    app.include_router(api.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    _errors(app)
    return app


def _migrate(url: str) -> None:
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        ensure_projection_schema(conn)


def _errors(app: FastAPI) -> None:
    @app.exception_handler(HallError)
    async def hall_error(_: Request, exc: HallError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status)

    @app.exception_handler(psycopg.OperationalError)
    async def database_down(_: Request, exc: psycopg.OperationalError) -> JSONResponse:
        err = HallError("district_database_unavailable", "区级数据库暂时无法访问，请稍后重试或联系技术人员",
                        "the district database cannot be reached just now; retry, and ask a technician to check "
                        "PostgreSQL", status=503)
        return JSONResponse(err.body(), status_code=503)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [{"field": ".".join(str(p) for p in e["loc"] if p not in ("query", "path")) or "request",
                     "problem": e["msg"]} for e in exc.errors()]
        fields = ", ".join(p["field"] for p in problems)
        err = HallError("invalid_request", f"请求有误：{fields}",
                        "; ".join(f"{p['field']}: {p['problem']}" for p in problems), status=422, fields=problems)
        return JSONResponse(err.body(), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        err = HallError(code, f"{request.url.path}：{exc.detail}", f"{request.method} {request.url.path}: "
                        f"{exc.detail}; the board is at /district", status=exc.status_code)
        return JSONResponse(err.body(), status_code=exc.status_code)
