"""Log in and out, who am I, and (admin) user accounts."""
from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor

from fastapi import APIRouter, Depends, Request

from ..accounts.auth import Principal, hash_password, verify_password
from ..errors import Unprocessable
from ..runtime import Hall
from .deps import bearer, current, get_hall, require
from .models import LoginRequest, UserRequest

router = APIRouter(prefix="/api/v1", tags=["auth"])
# scrypt (n=2**14, r=8) takes 16 MB per call. On the shared thread pool, a burst of logins (a shift
# starting) runs it on as many threads, and glibc keeps each thread's 16 MB arena: RSS grew to 150 MB
# after 8 simultaneous logins. One dedicated thread bounds that to a single 16 MB (and is all two cores
# can use without starving the hall).
_KDF = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kdf")


async def _kdf(fn, *args):
    return await asyncio.get_running_loop().run_in_executor(_KDF, fn, *args)


@router.post("/auth/login", summary="Exchange a username and password for a bearer token")
async def login(body: LoginRequest, hall: Hall = Depends(get_hall)) -> dict:
    stored = hall.auth.password_hash(hall.store.read, body.username)
    # scrypt is slow on purpose: run it off the event loop; compare against a dummy when unknown
    ok = await _kdf(verify_password, body.password, stored or "scrypt$16384$8$1$AAAA$AAAA")
    return await hall.write(hall.auth.login, body.username, body.password, hall.clock.now(), ok and bool(stored))


@router.post("/auth/logout", status_code=204, summary="Forget this token")
async def logout(request: Request, hall: Hall = Depends(get_hall), who: Principal = Depends(current)) -> None:
    await hall.write(hall.auth.logout, bearer(request))


@router.get("/auth/me", summary="The caller's user name, role and window")
async def me(hall: Hall = Depends(get_hall), who: Principal = Depends(current)) -> dict:
    row = hall.store.read.execute("SELECT number FROM windows WHERE clerk=?", (who.username,)).fetchone()
    window = who.window if who.role == "evaluator" else row[0] if row else None
    return {"username": who.username, "role": who.role, "expires_at": who.expires_at,
            "window": window, "departments": list(who.departments)}


@router.post("/users", status_code=201, summary="Create a user (admin)")
async def create_user(body: UserRequest, hall: Hall = Depends(get_hall),
                      who: Principal = Depends(require("admin"))) -> dict:
    known = {d for m in hall.cfg.matters for d in m.deciders}
    unknown = [d for d in body.departments if d not in known]
    if unknown:
        raise Unprocessable("unknown_department", f"本厅事项中没有部门：{'、'.join(unknown)}",
                            f"no matter of this hall is decided by {unknown}; use the names of the matters' "
                            "`department`/`departments` in config", departments=unknown)
    if body.window is not None and hall.cfg.window(body.window) is None:
        raise Unprocessable("unknown_window", f"本厅没有 {body.window} 号窗口", f"this hall has no window "
                            f"{body.window}; see /api/v1/hall for its windows", window=body.window)
    pw_hash = await _kdf(hash_password, body.password)
    return await hall.write(hall.auth.create_user, body.username, body.password, body.role, hall.clock.now(),
                            pw_hash, tuple(body.departments), body.window)


@router.get("/users", summary="List users (admin)")
async def list_users(hall: Hall = Depends(get_hall), who: Principal = Depends(require("admin"))) -> list[dict]:
    return [{**dict(r), "departments": json.loads(r["departments"]) if r["departments"] else []}
            for r in hall.store.read.execute(
                "SELECT username, role, created_at, disabled, departments, window FROM users ORDER BY username")]
