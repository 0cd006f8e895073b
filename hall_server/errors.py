"""Errors a caller can meet: an HTTP status, a stable code, and a message in Chinese and English."""
from __future__ import annotations


class HallError(Exception):
    status = 400

    def __init__(self, code: str, zh: str, en: str, *, status: int | None = None, **details):
        super().__init__(en)
        self.code = code
        self.zh = zh
        self.en = en
        self.details = details
        if status is not None:
            self.status = status

    def body(self) -> dict:
        return {"error": {"code": self.code, "message_zh": self.zh, "message_en": self.en, **self.details}}


class NotFound(HallError):
    status = 404


class Conflict(HallError):
    status = 409


class Forbidden(HallError):
    status = 403


class Unauthorized(HallError):
    status = 401


class Unprocessable(HallError):
    """Well-formed, but not something this can act on (a bad ID number, a simulation a device cannot do)."""
    status = 422


def matter_not_found(code: str) -> NotFound:
    return NotFound("matter_not_found", f"没有事项 {code}，请在 /api/v1/hall 中查看可办事项",
                    f"no matter {code!r}; see /api/v1/hall for the matters this hall offers", matter=code)


def window_not_found(number: int) -> NotFound:
    return NotFound("window_not_found", f"没有 {number} 号窗口", f"no window {number} in this hall",
                    window=number)


def ticket_not_found(ticket_id: int) -> NotFound:
    return NotFound("ticket_not_found", f"没有编号为 {ticket_id} 的票", f"no ticket with id {ticket_id}",
                    ticket=ticket_id)
