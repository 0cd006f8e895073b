"""Request bodies. Unknown fields are refused, so a misspelt field is an error, not silently ignored."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# what a ticket may ask for; `handout` (an 出件 ticket) comes only from POST /api/v1/handout-tickets
RequestPriority = Literal["normal", "elderly", "disabled", "veteran", "pregnant", "appointment"]
Priority = Literal["normal", "elderly", "disabled", "veteran", "pregnant", "appointment", "handout"]
Channel = Literal["kiosk", "staff", "appointment", "remote"]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IssueRequest(Body):
    matter: str = Field(min_length=1, max_length=40, description="matter code, see GET /api/v1/hall")
    priority: RequestPriority = "normal"
    channel: Channel = "kiosk"
    swipe: str | None = Field(default=None, max_length=40, description="the id of an ID-card swipe at this kiosk "
                              "(POST /api/v1/swipes or the kiosk's reader): priority, quota and appointment check-in "
                              "follow from it")
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


class SimulatedFaults(Body):
    """What to change in a simulated device; each kind takes its own fields (others are refused)."""

    paper: Literal["ok", "near-end", "out"] | None = Field(default=None, description="printer")
    cover: Literal["open", "closed"] | None = Field(default=None, description="printer")
    offline: bool | None = Field(default=None, description="printer")
    slow_s: float | None = Field(default=None, ge=0, le=60, description="printer")
    card: str | None = Field(default=None, max_length=40, description="idcard: place this simulated card on "
                             "the reader (sim://idcard: elder, adult, young, expired; sim://sscard: elder, adult)")
    remove_card: bool | None = Field(default=None, description="idcard: take the card off the reader")
    fault: str | None = Field(default=None, max_length=40, description="idcard: a reader fault, e.g. checksum, "
                              "removed, garbled, selftest, timeout, no-card (sim://idcard); mute, wrong-app "
                              "(sim://sscard); locker: mute, unplugged, bad-bcc (a board, or every board without "
                              "`board`), stuck (a door: `board` and `lock`); none clears it")
    press: str | None = Field(default=None, max_length=20, description="caller: press this key (call, recall, "
                              "pause, transfer, skip, evaluate) on the keypad at `address`")
    address: int | None = Field(default=None, ge=0, le=255, description="caller: the pressing keypad's bus address")
    board: int | None = Field(default=None, ge=1, le=32, description="locker: the lock-control board (DIP address)")
    lock: int | None = Field(default=None, ge=1, le=24, description="locker: the lock (door) on `board`")
    shut: bool | None = Field(default=None, description="locker: a citizen shuts the door at `board`/`lock` by hand")
    cms_error: int | None = Field(default=None, ge=0, le=999, description="sms: the modem answers the next send(s) "
                                  "with +CMS ERROR: <n> (e.g. 500; 310: SIM not inserted); `fault` for sim://sms: "
                                  "no-sim, no-signal, not-registered, no-answer, silent-send, chatty, none")
    times: int | None = Field(default=None, ge=1, le=100, description="sms: how many sends cms_error refuses (1)")
    signal: int | None = Field(default=None, ge=0, le=99, description="sms: the signal AT+CSQ reports, 0-31 (under "
                               "10 is weak) or 99 unknown")
    unsolicited: str | None = Field(default=None, max_length=80, pattern=r"^[ -~]+$", description="sms: a line the "
                                    'modem sends inside its next answer, e.g. RING or +CMTI: "SM",3')


class UserRequest(Body):
    username: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    password: str = Field(min_length=8, max_length=256)
    role: Literal["kiosk", "clerk", "department", "supervisor", "technician", "admin", "evaluator"]
    departments: list[str] = Field(default_factory=list, max_length=50,
                                   description="department role only: the departments (as the matters' config "
                                   "names them) whose cases this account acts on")
    window: int | None = Field(default=None, ge=1, le=999, description="evaluator role only: the window whose "
                               "handlings this rating tablet or key box rates")


# -- responses (documented in the OpenAPI document; the stable contract's fields are marked) ------
TicketStatus = Literal["waiting", "called", "serving", "done", "no_show", "cancelled", "expired"]


class CaseRef(BaseModel):
    id: int
    number: str


class TicketOut(BaseModel):
    id: int = Field(description="contract")
    number: str = Field(description="contract: prefix + daily sequence, e.g. S001")
    matter: str = Field(description="contract: matter code")
    status: TicketStatus = Field(description="contract")
    waiting_ahead: int = Field(description="contract: tickets that will be called before this one")
    estimated_wait_s: int = Field(description="contract: estimated seconds until it is called")
    matter_name: str
    group: str | None
    priority: Priority
    channel: Channel
    service_day: str
    issued_at: str
    called_at: str | None
    started_at: str | None
    finished_at: str | None
    window: int | None = Field(description="the window that has, or last had, the ticket")
    target_window: int | None = Field(description="set when transferred to a window: only it calls the ticket")
    transfers: int
    recalls: int
    case: CaseRef | None = Field(default=None, description="an 出件 ticket: the (first) ready case it was taken "
                                 "to collect; the 出件 window's terminal opens it when it calls the ticket")
    cases: list[CaseRef] = Field(default_factory=list, description="an 出件 ticket: every case it collects")


class PrintOutcome(BaseModel):
    ok: bool
    device: str
    status_url: str | None = None
    error: str | None = None
    message_zh: str | None = None
    message_en: str | None = None


class IssuedTicketOut(TicketOut):
    status_key: str | None = Field(
        default=None, description="what the receipt's QR link carries beside the id (`/t/{id}?k=…`): with it the "
                                  "ticket's holder may rate the handling once from the status page (好差评)")
    print: PrintOutcome | None = Field(
        default=None, description="set when the ticket was issued for a kiosk with a printer: whether it printed")


class CurrentTicket(BaseModel):
    id: int
    number: str
    matter: str
    status: TicketStatus
    called_at: str | None
    recalls: int


class WindowOut(BaseModel):
    number: int
    name: str
    zone: str
    serves: list[str]
    state: Literal["closed", "open", "paused", "serving"]
    reason: str | None
    since: str | None
    clerk: str | None
    current: CurrentTicket | None
    served_today: int | None = None


class EventOut(BaseModel):
    seq: int
    type: str
    at: str
    data: dict


class HistoryEntry(EventOut):
    by: str | None
    window: int | None


class EventPage(BaseModel):
    latest_seq: int
    events: list[EventOut]
