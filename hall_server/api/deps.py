"""FastAPI dependencies: the running hall and the caller's identity.

Every dependency and endpoint is `async def`: they run on the event loop thread, which is the only
thread that uses the store's read connection (a plain `def` would run in a worker thread).
"""
from __future__ import annotations

from fastapi import Depends, Request

from ..accounts.auth import Principal
from ..errors import Forbidden
from ..runtime import Hall

STAFF = ("clerk", "supervisor", "admin")
WATCHERS = ("clerk", "supervisor", "technician", "admin")


# The dependencies are `async def` although they never wait: FastAPI runs a plain `def` dependency in
# its thread pool, a thread hop (and GIL hand-over) per dependency per request.
async def get_hall(request: Request) -> Hall:
    return request.app.state.hall


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


async def current(request: Request, hall: Hall = Depends(get_hall)) -> Principal:
    return hall.auth.principal(bearer(request), hall.clock.now())


def require(*roles: str):
    """A dependency that lets through only the given roles (admin always).

    It reads the token itself rather than through `current`: one dependency per request instead of a chain
    of three (FastAPI's dependency solving is a large part of a small request's cost)."""
    async def check(request: Request) -> Principal:
        hall: Hall = request.app.state.hall
        p = hall.auth.principal(bearer(request), hall.clock.now())
        if p.role != "admin" and p.role not in roles:
            raise Forbidden("role_forbidden", f"角色 {p.role} 无权执行此操作",
                            f"a {p.role} may not do this; it needs one of: {', '.join(roles)} or admin",
                            role=p.role)
        return p
    return check
