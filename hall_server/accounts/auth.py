"""Users, roles, passwords (scrypt) and bearer tokens.

Tokens are random; only their SHA-256 is stored, so a copy of the database does not let anyone in.
Valid tokens are cached in memory (the writer thread changes them; the event loop reads them).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from ..errors import Conflict, HallError, Unauthorized
from ..store.database import Change

# evaluator: a window's rating tablet or key box (好差评), bound to that window; it only rates
Role = Literal["kiosk", "clerk", "department", "supervisor", "technician", "admin", "evaluator"]
ROLES: tuple[str, ...] = ("kiosk", "clerk", "department", "supervisor", "technician", "admin", "evaluator")
TOKEN_DAYS = {"kiosk": 365, "clerk": 1, "department": 1, "supervisor": 7, "technician": 7, "admin": 1,
              "evaluator": 365}
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


@dataclass(frozen=True)
class Principal:
    username: str
    role: str
    expires_at: str
    departments: tuple[str, ...] = ()      # the department role: the departments whose cases it acts on
    window: int | None = None              # the evaluator role: the window whose handlings it rates


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    b64 = base64.b64encode
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    got = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                         dklen=32)
    return hmac.compare_digest(got, base64.b64decode(digest))


def _departments(stored: str | None) -> tuple[str, ...]:
    return tuple(json.loads(stored)) if stored else ()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Auth:
    def __init__(self, read: sqlite3.Connection):
        self._tokens: dict[str, Principal] = {}
        for row in read.execute("SELECT t.token_hash, u.username, u.role, t.expires_at, u.departments, u.window"
                                " FROM tokens t JOIN users u USING (username) WHERE u.disabled=0"):
            self._tokens[row[0]] = Principal(row[1], row[2], row[3], _departments(row[4]), row[5])

    def principal(self, token: str | None, now: datetime) -> Principal:
        if not token:
            raise Unauthorized("not_authenticated", "请先登录", "log in first: POST /api/v1/auth/login, then send "
                               "'Authorization: Bearer <token>'")
        p = self._tokens.get(_token_hash(token))
        if p is None or datetime.fromisoformat(p.expires_at) <= now:
            raise Unauthorized("invalid_token", "登录已失效，请重新登录",
                               "the token is unknown or expired; log in again")
        return p

    # -- changes (run by the store's writer) -----------------------------------------------------
    def create_user(self, conn: sqlite3.Connection, username: str, password: str, role: str, now: datetime,
                    pw_hash: str | None = None, departments: tuple[str, ...] = (),
                    window: int | None = None) -> Change:
        if role not in ROLES:
            raise HallError("unknown_role", f"未知角色 {role}", f"unknown role {role!r}; use one of {ROLES}",
                            status=422)
        if (role == "department") != bool(departments):
            raise HallError("departments_required" if departments == () else "departments_not_allowed",
                            "部门账号须指定所属部门（departments），其他角色不可指定",
                            "a department account needs `departments` (as the matters' config names them); "
                            "other roles take none", status=422)
        if (role == "evaluator") != (window is not None):
            raise HallError("window_required" if role == "evaluator" else "window_not_allowed",
                            "评价器账号须绑定窗口（window），其他角色不可绑定窗口",
                            "an evaluator account is bound to its window: give `window`; other roles take none",
                            status=422)
        if conn.execute("SELECT 1 FROM users WHERE username=?", (username,)).fetchone():
            raise Conflict("user_exists", f"用户 {username} 已存在", f"user {username!r} already exists")
        conn.execute("INSERT INTO users (username, role, password_hash, created_at, departments, window)"
                     " VALUES (?,?,?,?,?,?)",
                     (username, role, pw_hash or hash_password(password), now.isoformat(),
                      json.dumps(list(departments), ensure_ascii=False) if departments else None, window))
        out: dict = {"username": username, "role": role}
        if departments:
            out["departments"] = list(departments)
        if window is not None:
            out["window"] = window
        return Change(out)

    def login(self, conn: sqlite3.Connection, username: str, password: str, now: datetime,
              checked: bool) -> Change:
        """`checked` is the password verification done before entering the writer (scrypt is slow)."""
        row = conn.execute("SELECT role, disabled, departments, window FROM users WHERE username=?",
                           (username,)).fetchone()
        if row is None or not checked or row["disabled"]:
            raise Unauthorized("bad_credentials", "用户名或密码错误", "wrong username or password")
        token = secrets.token_urlsafe(32)
        # one fixed format (UTC, seconds) so that the stored text also compares in order
        expires = (now + timedelta(days=TOKEN_DAYS[row["role"]])).astimezone(UTC).isoformat(timespec="seconds")
        th = _token_hash(token)
        conn.execute("DELETE FROM tokens WHERE username=? AND expires_at < ?",
                     (username, now.astimezone(UTC).isoformat(timespec="seconds")))
        conn.execute("INSERT INTO tokens VALUES (?,?,?,?)", (th, username, now.isoformat(), expires))
        p = Principal(username, row["role"], expires, _departments(row["departments"]), row["window"])
        self._tokens[th] = p
        out = {"token": token, "username": username, "role": row["role"], "expires_at": expires}
        if p.departments:
            out["departments"] = list(p.departments)
        if p.window is not None:
            out["window"] = p.window
        return Change(out)

    def logout(self, conn: sqlite3.Connection, token: str) -> Change:
        th = _token_hash(token)
        conn.execute("DELETE FROM tokens WHERE token_hash=?", (th,))
        self._tokens.pop(th, None)
        return Change(None)

    def password_hash(self, conn: sqlite3.Connection, username: str) -> str | None:
        row = conn.execute("SELECT password_hash FROM users WHERE username=?", (username,)).fetchone()
        return row[0] if row else None
