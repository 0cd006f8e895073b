"""The accounts a hall starts with: `admin` on first start, and in development mode the demo accounts."""
from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from ..clock import Clock
from ..store.database import Store
from .auth import Auth

DEV_USERS = [("supervisor", "supervisor"), ("technician", "technician"), ("kiosk1", "kiosk"), ("kiosk2", "kiosk"),
             *[(f"clerk{n}", "clerk") for n in range(1, 8)]]     # 6: 综合出件, 7: 办不成事 of the district config


# the demonstration's department officers: the departments that decide the most cases of the halls' matters
DEV_DEPARTMENTS = ("区民政局", "区人社局", "下陆公安分局", "区医保局", "区卫健局", "区市场监管局")


def dev_officers(deciders: list[str]) -> list[tuple[str, str]]:
    """(username, department) of the demo officers: officer1… for the known departments this hall's matters
    name, else for the hall's own most frequent deciding departments."""
    known = [d for d in DEV_DEPARTMENTS if d in deciders]
    if not known:
        known = sorted(set(deciders), key=lambda d: (-deciders.count(d), d))[:4]
    return [(f"officer{i}", d) for i, d in enumerate(known, 1)]


def ensure_admin(store: Store, auth: Auth, clock: Clock) -> str | None:
    """On first start, create `admin`; returns the password if it was generated here."""
    if auth.password_hash(store.read, "admin"):
        return None
    password = os.environ.get("ONEWINDOW_ADMIN_PASSWORD")
    generated = None
    if not password:
        password = generated = secrets.token_urlsafe(12)
    store.write_sync(lambda c: auth.create_user(c, "admin", password, "admin", clock.now()))
    return generated


def ensure_dev_users(store: Store, auth: Auth, clock: Clock, data_dir: Path,
                     admin_password: str | None = None, deciders: list[str] | None = None,
                     windows: list[int] | None = None) -> dict[str, dict]:
    """Development mode: demo accounts, their passwords kept in <data_dir>/dev-credentials.json; an evaluator
    account (eval1…, the rating tablet or key box) bound to each of `windows`."""
    path = data_dir / "dev-credentials.json"
    creds = json.loads(path.read_text()) if path.exists() else {}
    if admin_password:
        creds["admin"] = {"role": "admin", "password": admin_password}
    for username, role in DEV_USERS:
        if auth.password_hash(store.read, username):
            continue
        password = secrets.token_urlsafe(9)
        store.write_sync(lambda c, u=username, p=password, r=role: auth.create_user(c, u, p, r, clock.now()))
        creds[username] = {"role": role, "password": password}
    for username, department in dev_officers(deciders or []):
        if auth.password_hash(store.read, username):
            continue
        password = secrets.token_urlsafe(9)
        store.write_sync(lambda c, u=username, p=password, d=department: auth.create_user(
            c, u, p, "department", clock.now(), departments=(d,)))
        creds[username] = {"role": "department", "password": password, "departments": [department]}
    for number in windows or []:
        username = f"eval{number}"
        if auth.password_hash(store.read, username):
            continue
        password = secrets.token_urlsafe(9)
        store.write_sync(lambda c, u=username, p=password, w=number: auth.create_user(
            c, u, p, "evaluator", clock.now(), window=w))
        creds[username] = {"role": "evaluator", "password": password, "window": number}
    path.write_text(json.dumps(creds, ensure_ascii=False, indent=1))
    path.chmod(0o600)
    return creds
