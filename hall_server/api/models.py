"""Request bodies. Unknown fields are refused, so a misspelt field is an error, not silently ignored."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Priority = Literal["normal", "elderly", "disabled", "veteran", "pregnant", "appointment"]
Channel = Literal["kiosk", "staff", "appointment", "remote"]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IssueRequest(Body):
    matter: str = Field(min_length=1, max_length=40, description="matter code, see GET /api/v1/hall")
    priority: Priority = "normal"
    channel: Channel = "kiosk"
    citizen_ref: str | None = Field(default=None, max_length=120,
                                    description="masked ID and keyed hash; never a full ID number")
    kiosk: str | None = Field(default=None, max_length=40)


class TransferRequest(Body):
    to_matter: str | None = Field(default=None, max_length=40)
    to_window: int | None = Field(default=None, ge=1)
    reason: str = Field(default="", max_length=200)


class ReasonRequest(Body):
    reason: str = Field(default="", max_length=200, description="e.g. 午休 / break, 会议 / meeting")


class LoginRequest(Body):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class UserRequest(Body):
    username: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    password: str = Field(min_length=8, max_length=256)
    role: Literal["kiosk", "clerk", "supervisor", "technician", "admin"]
