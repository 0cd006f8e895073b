"""One rating per handling: from the window's evaluator (its tablet or key box, bound to the window that
finished the handling), or once from the receipt's / notice's public status page within
`feedback.rate_from_status_days`. Each rating is one transaction with its `evaluation.recorded` event; a bad
level (1–2) opens its 差评 record in the same transaction."""
from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta

from ..errors import Conflict, Unprocessable
from ..store.events import append_event
from . import badratings
from .base import BAD, LEVELS, FeedbackContext, handling_not_found, prompt_row, ts


def check_body(ctx: FeedbackContext, level: int, reasons: list[str] | None) -> list[str]:
    if level not in LEVELS:
        raise Unprocessable("bad_level", "评价等级须为 1–5（5 非常满意 … 1 非常不满意）",
                            "level must be 1..5 (5 very satisfied … 1 very dissatisfied)", level=level)
    reasons = list(dict.fromkeys(r.strip() for r in reasons or [] if r and r.strip()))
    unknown = [r for r in reasons if r not in ctx.policy.reasons]
    if unknown:
        raise Unprocessable("unknown_reason",
                            f"未知的评价原因：{'、'.join(unknown)}（可选：{'、'.join(ctx.policy.reasons)}）",
                            f"unknown reasons {unknown}; choose from {list(ctx.policy.reasons)}", reasons=unknown,
                            allowed=list(ctx.policy.reasons))
    return reasons


def _contact(conn: sqlite3.Connection, p: sqlite3.Row) -> int | None:
    """The case whose applicant left a phone, for the call-back of a bad rating (a named rating), or None."""
    if p["case_id"] is not None:
        ids = [p["case_id"]]
    else:
        ids = [r[0] for r in conn.execute(
            "SELECT id FROM cases WHERE ticket_id=? UNION SELECT case_id FROM ticket_cases WHERE ticket_id=?",
            (p["ticket_id"], p["ticket_id"]))]
    for case_id in ids:
        row = conn.execute("SELECT applicant_phone FROM cases WHERE id=?", (case_id,)).fetchone()
        if row is not None and (row[0] or "").strip():
            return case_id
    return None


def record(conn: sqlite3.Connection, ctx: FeedbackContext, p: sqlite3.Row, level: int, reasons: list[str],
           channel: str, by: str | None, events: list[dict]) -> int:
    """Rate the handling of prompt `p` (checked by the caller): the evaluation, the prompt rated, a 差评 if bad."""
    now = ctx.now()
    contact = _contact(conn, p)
    eid = conn.execute(
        "INSERT INTO evaluations (prompt_id, ticket_id, case_id, window, clerk, matter, departments, number, level,"
        " reasons, channel, by, at, named, contact_case) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id",
        (p["id"], p["ticket_id"], p["case_id"], p["window"], p["clerk"], p["matter"], p["departments"], p["number"],
         level, json.dumps(reasons, ensure_ascii=False), channel, by, ts(now), int(contact is not None),
         contact)).fetchone()[0]
    conn.execute("UPDATE rating_prompts SET state='rated', ended_at=?, why=NULL, evaluation_id=? WHERE id=?",
                 (ts(now), eid, p["id"]))
    events.append(append_event(conn, "evaluation.recorded", now, {
        "evaluation": eid, "prompt": p["id"], "ticket": p["ticket_id"], "case": p["case_id"], "number": p["number"],
        "window": p["window"], "clerk": p["clerk"], "matter": p["matter"], "level": level, "reasons": reasons,
        "channel": channel, "bad": level in BAD}, actor=by, ticket_id=p["ticket_id"], case_id=p["case_id"],
        window=p["window"]))
    if level in BAD:
        row = conn.execute("SELECT * FROM evaluations WHERE id=?", (eid,)).fetchone()
        badratings.open_record(conn, ctx, row, events)
    return eid


def _rated(p: sqlite3.Row) -> Conflict:
    return Conflict("already_rated", f"{p['number']} 已评价过，每次办理只能评价一次",
                    f"{p['number']} has been rated already: one rating per handling", evaluation=p["evaluation_id"])


def _handling(conn: sqlite3.Connection, ticket: int | None, case: int | None) -> sqlite3.Row | None:
    """The prompt of a ticket or case (404 when there is no such ticket or case)."""
    table, ident = ("tickets", ticket) if ticket is not None else ("cases", case)
    if not (abs(ident) < 2**63 and conn.execute(f"SELECT 1 FROM {table} WHERE id=?", (ident,)).fetchone()):
        raise handling_not_found("ticket" if ticket is not None else "case", ident)
    return prompt_row(conn, ticket=ticket, case=case)


def at_window(conn: sqlite3.Connection, ctx: FeedbackContext, window: int, by: str, channel: str, *,
              ticket: int | None, case: int | None, level: int, reasons: list[str], events: list[dict]) -> int:
    """The evaluator bound to `window` rates a handling finished there, while its prompt is open."""
    p = _handling(conn, ticket, case)
    what = f"{'票' if ticket is not None else '办件'} {ticket if ticket is not None else case}"
    if p is None or p["expires_at"] is None or p["window"] != window:
        where = f"（在 {p['window']} 号窗口办理）" if p is not None and p["expires_at"] is not None else ""
        raise Conflict("not_finished_here", f"{what} 未在 {window} 号窗口办结{where}，本窗口评价器不能评价",
                       f"{'ticket' if ticket is not None else 'case'} {ticket if ticket is not None else case} was "
                       f"not finished at window {window}; its evaluator cannot rate it", window=window,
                       finished_at_window=p["window"] if p is not None and p["expires_at"] is not None else None)
    if p["state"] == "rated":
        raise _rated(p)
    if p["state"] != "pending" or p["expires_at"] <= ts(ctx.now()):
        raise Conflict("rating_closed", f"{p['number']} 的现场评价已结束（未评价），可在"
                       f" {ctx.policy.rate_from_status_days} 天内通过小票或通知书上的二维码评价",
                       f"the on-site rating of {p['number']} is over (not rated); the receipt's status page may still "
                       f"rate it within {ctx.policy.rate_from_status_days} days", why=p["why"] or "timeout")
    return record(conn, ctx, p, level, reasons, channel, by, events)


def check_public(ctx: FeedbackContext, conn: sqlite3.Connection, *, ticket: int | None = None,
                 case: int | None = None) -> sqlite3.Row:
    """The prompt a status page may rate now, or 409 saying why not (not finished, already rated, too late)."""
    p = _handling(conn, ticket, case)
    if p is None:
        raise Conflict("not_finished", "办理尚未结束，结束后才能评价" if ticket is not None else
                       "办件尚未出件，领取结果后才能评价",
                       "the handling is not finished yet; it can be rated once it is" if ticket is not None else
                       "the case has not been handed out yet; it can be rated once it is")
    if p["state"] == "rated":
        raise _rated(p)
    days = ctx.policy.rate_from_status_days
    if ctx.now() > datetime.fromisoformat(p["created_at"]) + timedelta(days=days):
        raise Conflict("rating_period_over", f"{p['number']} 办结已超过 {days} 天，不能再评价",
                       f"{p['number']} was finished more than {days} days ago; it can no longer be rated",
                       days=days)
    return p


def from_status_page(conn: sqlite3.Connection, ctx: FeedbackContext, *, ticket: int | None, case: int | None,
                     level: int, reasons: list[str], events: list[dict]) -> int:
    p = check_public(ctx, conn, ticket=ticket, case=case)     # a prompt still open at the window ends rated too
    return record(conn, ctx, p, level, reasons, "status_page", None, events)
