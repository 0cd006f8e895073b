"""`[rollup]`: where and how the hall ships its event log to the district's PostgreSQL (issue 19).

A hall without the table ships nothing and never imports psycopg.
"""
from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator


class RollupPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(repr=False, description='the district database, e.g. "postgresql://hall:…@10.0.0.5/district" or '
                                 '"postgresql:///district?host=/run/postgresql"')
    batch_size: int = Field(default=1000, ge=1, le=100_000, description="events per PostgreSQL transaction")
    interval_s: float = Field(default=5.0, gt=0, le=3600, description="look for unshipped events at least this "
                              "often (new events wake the shipper at once)")
    retry_min_s: float = Field(default=1.0, gt=0, le=3600, description="first wait after a failed connection "
                               "or batch; doubles on each failure")
    retry_max_s: float = Field(default=60.0, gt=0, le=3600, description="longest wait between retries")
    connect_timeout_s: float = Field(default=10.0, gt=0, le=300, description="giving up on one connection attempt")

    @field_validator("url")
    @classmethod
    def _postgres(cls, v: str) -> str:
        if not re.match(r"^postgres(ql)?://", v):
            raise ValueError(f"{redact_url(v)!r} is not a PostgreSQL URL; use postgresql://user:password@host/db")
        return v


def redact_url(url: str) -> str:
    """The URL without its password (user:password@ and password=… in the query)."""
    url = re.sub(r"(://[^/:@?]*):[^@/?]*@", r"\1:***@", url)
    return re.sub(r"(?i)(password=)[^&\s]*", r"\1***", url)
