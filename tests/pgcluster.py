"""Throw-away PostgreSQL clusters for the tests (issue 19): `from pgcluster import pg_cluster  # noqa: F401`
in a test module gives it the fixture `pg` (imported under another name, so that ruff sees no redefinition).

`pg` is session-scoped (one cluster per pytest/xdist worker process), started from the cached initdb template
(var/cache/pg-template-<major>) in a short temporary directory, fsync off, stopped with `-m immediate` at the
end. Give each test module its own database: `url = pg.create_database("rollup_order")`.
It also listens on 127.0.0.1:<pg.tcp_port> with password authentication (`pg.create_role`, `pg.tcp_url`).
Only modules that import the fixture start PostgreSQL; conftest.py does not.
"""
from __future__ import annotations

import shutil
import tempfile

import pytest

from hall_server.rollup.localpg import PgCluster, pg_bindir

__all__ = ["PgCluster", "pg", "pg_cluster"]


@pytest.fixture(scope="session", name="pg")
def pg_cluster():
    try:
        pg_bindir()
    except FileNotFoundError as e:
        pytest.fail(str(e))
    base = tempfile.mkdtemp(prefix="owpg-", dir="/tmp")
    cluster = PgCluster(base, tcp_port=0, fast=True)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop(mode="immediate")
        shutil.rmtree(base, ignore_errors=True)


pg = pg_cluster          # the same fixture, for `from pgcluster import pg`
