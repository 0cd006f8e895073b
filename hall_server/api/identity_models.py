"""Request and response models of the ID-card swipe and appointment endpoints.

A full ID number arrives only as a `SecretStr` in a request body: its repr is masked, it is hashed and
masked on arrival (hall_server/identity/citizen.py) and never stored, logged or echoed — a validation error about
it names the field, not the value.
"""
from __future__ import annotations

import re
from datetime import date

from pydantic import BaseModel, Field, SecretStr, field_validator

from .models import Body, Channel, Priority

TIME = r"^([01]\d|2[0-3]):[0-5]\d$"


class CardIn(Body):
    """The fields of a card as the kiosk program's reader decoded them (photo and address are not sent)."""

    kind: str = Field(default="resident-id", pattern=r"^(resident-id|social-security)$")
    id_number: SecretStr = Field(description="the full 18-character number: hashed and masked on arrival, never kept")
    name: str = Field(min_length=1, max_length=40)
    valid_to: date | None = Field(default=None, description="the card's last valid day; omit for 长期 (long_term)")
    long_term: bool = False

    @field_validator("id_number")
    @classmethod
    def _shape(cls, v: SecretStr) -> SecretStr:
        if not re.fullmatch(r"\s*\d{17}[\dXx]\s*", v.get_secret_value()):
            raise ValueError("an ID number has 18 characters: 17 digits and a digit or X")
        return v


class SwipeRequest(Body):
    kiosk: str = Field(min_length=1, max_length=40, description="the kiosk where the card was read")
    card: CardIn


class CitizenIn(Body):
    id_number: SecretStr = Field(description="hashed and masked on arrival, never kept")
    name: str = Field(min_length=1, max_length=40)

    _shape = field_validator("id_number")(CardIn._shape.__func__)


class AppointmentRequest(Body):
    matter: str = Field(min_length=1, max_length=40)
    day: date
    slot_start: str = Field(pattern=TIME, description="local time, HH:MM")
    slot_end: str = Field(pattern=TIME, description="local time, HH:MM, after slot_start")
    channel: Channel = "remote"
    citizen: CitizenIn
    note: str = Field(default="", max_length=200)

    @field_validator("slot_end")
    @classmethod
    def _after_start(cls, v: str, info) -> str:
        start = info.data.get("slot_start")
        if start and v <= start:
            raise ValueError("slot_end must be after slot_start")
        return v


class Suggestion(BaseModel):
    matter: str
    name: str
    name_en: str
    why: str
    why_en: str


class Notice(BaseModel):
    code: str
    zh: str
    en: str


class AppointmentOut(BaseModel):
    id: int
    service_day: str
    slot_start: str
    slot_end: str
    matter: str
    channel: str
    id_masked: str
    name_masked: str
    status: str = Field(description="booked, checked_in or cancelled")
    created_at: str
    created_by: str | None
    ticket_id: int | None
    checked_in_at: str | None
    note: str | None


class TicketTaken(BaseModel):
    id: int
    number: str
    matter: str
    status: str


class SwipeOut(BaseModel):
    id: str = Field(description="pass as `swipe` when issuing the ticket")
    kiosk: str
    at: str
    expires_at: str
    expired: bool
    card_kind: str
    id_masked: str = Field(description="e.g. 420***********123X")
    name_masked: str = Field(description="e.g. 张*")
    gender: str
    age: int
    priority: Priority = Field(description="the priority class a ticket from this swipe gets")
    card_expired: bool
    card_valid_to: str | None = Field(description="the card's last valid day, 长期, or null when unknown")
    greeting_zh: str
    greeting_en: str
    notices: list[Notice]
    suggestions: list[Suggestion]
    appointments: list[AppointmentOut] = Field(description="today's booked appointments of this citizen")
    tickets_today: list[TicketTaken]
