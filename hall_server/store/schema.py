"""The database schema and its migrations, keyed by SQLite's `user_version`.

Each migration is a function of a sqlite-utils Database; they run in order inside one transaction at
start-up. A database written by a newer onewindow is refused rather than guessed at.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlite_utils


def _v1(db: sqlite_utils.Database) -> None:
    db["users"].create(
        {"username": str, "role": str, "password_hash": str, "created_at": str, "disabled": int},
        pk="username",
        not_null={"role", "password_hash"},
        defaults={"disabled": 0},
    )
    db["tokens"].create(
        {"token_hash": str, "username": str, "created_at": str, "expires_at": str},
        pk="token_hash",
        foreign_keys=[("username", "users", "username")],
    )
    db["windows"].create(
        {
            "number": int,
            "state": str,             # closed | open | paused | serving
            "reason": str,            # why it was paused or closed
            "since": str,
            "clerk": str,
            "current_ticket": int,
            "priority_streak": int,   # priority calls in a row, for the starvation guard
        },
        pk="number",
        defaults={"state": "closed", "priority_streak": 0},
    )
    db["tickets"].create(
        {
            "id": int,
            "service_day": str,
            "prefix": str,
            "seq": int,
            "number": str,
            "matter": str,
            "channel": str,
            "priority": str,
            "citizen_ref": str,       # masked form + keyed hash only, never a full ID number
            "status": str,
            "queue_key": int,         # place in line: microseconds of arrival, kept across transfers
            "issued_at": str,
            "called_at": str,
            "last_called_at": str,
            "started_at": str,
            "finished_at": str,
            "window": int,            # window that has (or last had) the ticket
            "target_window": int,     # set when transferred to a window: only it may call the ticket
            "transfers": int,
            "recalls": int,
            "kiosk": str,
        },
        pk="id",
        not_null={"service_day", "number", "matter", "status", "queue_key"},
        defaults={"transfers": 0, "recalls": 0, "priority": "normal", "channel": "kiosk"},
    )
    db["tickets"].create_index(["service_day", "number"], unique=True)
    db["tickets"].create_index(["service_day", "status"])
    db["tickets"].create_index(["service_day", "window", "status"])
    db["counters"].create({"service_day": str, "prefix": str, "last": int}, pk=("service_day", "prefix"))
    db.execute(
        "CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, type TEXT NOT NULL, at TEXT NOT NULL,"
        " actor TEXT, ticket_id INTEGER, window INTEGER, data TEXT NOT NULL)"
    )
    db["events"].create_index(["ticket_id"])
    db["matter_stats"].create({"matter": str, "ewma_s": float, "samples": int}, pk="matter")
    db["meta"].create({"key": str, "value": str}, pk="key")


def _v2(db: sqlite_utils.Database) -> None:
    # Events can only be appended: the log is the audit trail of every staff action.
    db.execute(
        "CREATE TRIGGER events_no_update BEFORE UPDATE ON events"
        " BEGIN SELECT RAISE(ABORT, 'events are append-only'); END"
    )
    db.execute(
        "CREATE TRIGGER events_no_delete BEFORE DELETE ON events"
        " BEGIN SELECT RAISE(ABORT, 'events are append-only'); END"
    )


def _v3(db: sqlite_utils.Database) -> None:
    # Covering index for the waiting line: call-next's snapshot and the wait estimate read only it.
    db["tickets"].create_index(
        ["service_day", "status", "matter", "priority", "target_window", "queue_key"], index_name="tickets_line")


def _v4(db: sqlite_utils.Database) -> None:
    # (service_day, status) is the head of tickets_line: one index fewer to write on every change.
    db.execute("DROP INDEX IF EXISTS idx_tickets_service_day_status")


def _v5(db: sqlite_utils.Database) -> None:
    # Tickets transferred to a window are few; a partial index finds them without scanning the line.
    db.execute("CREATE INDEX tickets_transferred ON tickets (service_day, status, target_window, queue_key)"
               " WHERE target_window IS NOT NULL")


def _v6(db: sqlite_utils.Database) -> None:
    # Swiped ID cards: only what the hall needs (hall_server/identity/citizen.py). citizen_ref holds the masked
    # number, citizen_hash the keyed HMAC that matches a person across swipes, quotas and appointments.
    db.execute("ALTER TABLE tickets ADD COLUMN citizen_hash TEXT")
    db.execute("ALTER TABLE tickets ADD COLUMN citizen_name TEXT")       # masked: 张*
    db.execute("ALTER TABLE tickets ADD COLUMN appointment_id INTEGER")
    db.execute("CREATE INDEX tickets_citizen ON tickets (service_day, citizen_hash, matter)"
               " WHERE citizen_hash IS NOT NULL")
    db["swipes"].create(
        {"id": str, "kiosk": str, "device": str, "at": str, "expires_at": str, "card_kind": str,
         "citizen_hash": str, "id_masked": str, "name_masked": str, "gender": str, "age": int,
         "card_expired": int, "card_valid_to": str, "priority": str},
        pk="id", not_null={"kiosk", "at", "expires_at", "citizen_hash", "id_masked"})
    db["appointments"].create(
        {"id": int, "service_day": str, "slot_start": str, "slot_end": str, "matter": str, "channel": str,
         "citizen_hash": str, "id_masked": str, "name_masked": str, "status": str, "created_at": str,
         "created_by": str, "ticket_id": int, "checked_in_at": str, "note": str},
        pk="id", not_null={"service_day", "slot_start", "slot_end", "matter", "citizen_hash", "status"},
        defaults={"status": "booked"})
    db["appointments"].create_index(["citizen_hash", "service_day"])
    db["appointments"].create_index(["service_day", "slot_start"])


def _v7(db: sqlite_utils.Database) -> None:
    # Seat monitoring (hall_server/seats/monitor.py): seconds on and off the seat per day, window and clerk; and the
    # evidence snapshots kept for 离岗 alerts (files under evidence/, deleted when they expire).
    db["seat_time"].create(
        {"service_day": str, "window": int, "clerk": str, "present_s": float, "away_s": float, "unknown_s": float},
        pk=("service_day", "window", "clerk"), not_null={"service_day", "window", "clerk"},
        defaults={"present_s": 0.0, "away_s": 0.0, "unknown_s": 0.0})
    db["evidence"].create(
        {"id": int, "at": str, "window": int, "clerk": str, "path": str, "expires_at": str, "deleted_at": str},
        pk="id", not_null={"at", "window", "path", "expires_at"})
    db["evidence"].create_index(["expires_at"])


def _v8(db: sqlite_utils.Database) -> None:
    # Cases (hall_server/cases/): the case row holds its current state; its history is the event log (case_id).
    db.execute("ALTER TABLE events ADD COLUMN case_id INTEGER")
    db.execute("CREATE INDEX events_case ON events (case_id, seq) WHERE case_id IS NOT NULL")
    db.execute("ALTER TABLE users ADD COLUMN departments TEXT")          # JSON list, for the department role
    db.execute("""CREATE TABLE cases (
        id INTEGER PRIMARY KEY, number TEXT NOT NULL UNIQUE, query_code TEXT NOT NULL UNIQUE,
        matter TEXT NOT NULL, kind TEXT NOT NULL, snapshot TEXT NOT NULL,   -- the matter as it was at intake
        channel TEXT NOT NULL, ticket_id INTEGER, window INTEGER, created_by TEXT,
        status TEXT NOT NULL, outcome TEXT, opinion TEXT, reason TEXT, supplement_note TEXT,
        applicant_name TEXT NOT NULL, applicant_phone TEXT, applicant_id_masked TEXT, applicant_hash TEXT,
        agent TEXT,                                                         -- JSON: name, phone, id_masked, hash
        received_at TEXT NOT NULL, accepted_at TEXT, accept_day TEXT, decided_at TEXT, ready_at TEXT,
        delivered_at TEXT, closed_at TEXT,
        due TEXT, legal_due TEXT, suspended_days INTEGER NOT NULL DEFAULT 0,
        extended_days INTEGER NOT NULL DEFAULT 0, suspended_on TEXT, deadline TEXT NOT NULL DEFAULT 'ok',
        report TEXT,                                                        -- 上报: JSON authority, opinion, at
        handout TEXT,                                                       -- JSON: via, address, collector …
        updated_at TEXT NOT NULL)""")
    db.execute("CREATE INDEX cases_status_due ON cases (status, due)")
    db.execute("CREATE INDEX cases_applicant ON cases (applicant_hash) WHERE applicant_hash IS NOT NULL")
    db.execute("CREATE INDEX cases_ticket ON cases (ticket_id) WHERE ticket_id IS NOT NULL")
    db.execute("""CREATE TABLE case_materials (
        case_id INTEGER NOT NULL REFERENCES cases(id), name TEXT NOT NULL, state TEXT NOT NULL,
        required INTEGER NOT NULL, PRIMARY KEY (case_id, name)) WITHOUT ROWID""")
    db.execute("""CREATE TABLE case_tasks (
        case_id INTEGER NOT NULL REFERENCES cases(id), department TEXT NOT NULL, state TEXT NOT NULL,
        claimed_by TEXT, claimed_at TEXT, outcome TEXT, opinion TEXT, decided_at TEXT, decided_by TEXT,
        PRIMARY KEY (case_id, department)) WITHOUT ROWID""")
    # a department's worklist: its open tasks (the case's status and due date come from cases by id)
    db.execute("CREATE INDEX case_tasks_worklist ON case_tasks (department, state, case_id)")
    # the running cases by colour (the overdue lists): a few thousand of a year's 200,000
    db.execute("CREATE INDEX cases_running ON cases (deadline, due)"
               " WHERE status IN ('accepted','in_review','suspended')")


def _v9(db: sqlite_utils.Database) -> None:
    # worklists by due date: the running cases in due order (status in the index: no table read to check it),
    # each probed for the department through case_tasks' key (cases/service.py)
    db.execute("CREATE INDEX cases_running_due ON cases (due, id, status)"
               " WHERE status IN ('accepted','in_review','suspended')")


def _v10(db: sqlite_utils.Database) -> None:
    # The SMS outbox (hall_server/notify/): one row per message a case event called for, kept after sending.
    db.execute("""CREATE TABLE outbox (
        id INTEGER PRIMARY KEY, created_at TEXT NOT NULL, case_id INTEGER, event_seq INTEGER NOT NULL,
        kind TEXT NOT NULL, phone TEXT NOT NULL, text TEXT NOT NULL,
        status TEXT NOT NULL,                 -- queued | sending | sent | failed | uncertain
        tries INTEGER NOT NULL DEFAULT 0, next_at TEXT NOT NULL, sent_at TEXT, refs TEXT, error TEXT,
        UNIQUE (event_seq, kind))""")
    db.execute("CREATE INDEX outbox_due ON outbox (status, next_at)")


def _v11(db: sqlite_utils.Database) -> None:
    # The courier register (hall_server/courier/): parcels of application materials signed in at the windows.
    # A waybill is unique per courier (a second sign-in of the same parcel is refused, naming the first).
    db.execute("""CREATE TABLE parcels (
        id INTEGER PRIMARY KEY, courier TEXT NOT NULL COLLATE NOCASE, waybill TEXT NOT NULL,
        sender_name TEXT NOT NULL, sender_phone TEXT NOT NULL, contents TEXT NOT NULL, matter TEXT,
        status TEXT NOT NULL,                   -- registered | attached | sorted
        case_id INTEGER REFERENCES cases(id), department TEXT, window INTEGER,
        registered_by TEXT NOT NULL, registered_at TEXT NOT NULL, attached_by TEXT, attached_at TEXT,
        sorted_by TEXT, sorted_at TEXT, updated_at TEXT NOT NULL,
        UNIQUE (courier, waybill))""")
    db.execute("CREATE INDEX parcels_unattached ON parcels (id) WHERE case_id IS NULL")
    db.execute("CREATE INDEX parcels_unsorted ON parcels (id) WHERE department IS NULL")
    db.execute("CREATE INDEX parcels_case ON parcels (case_id) WHERE case_id IS NOT NULL")


def _v12(db: sqlite_utils.Database) -> None:
    # 出件 tickets (hall_server/api/handout.py): a ticket taken to collect results, linked to the ready case(s) it is
    # for, so that the 出件 window's terminal opens them when it calls the ticket.
    db.execute("""CREATE TABLE ticket_cases (
        ticket_id INTEGER NOT NULL REFERENCES tickets(id), case_id INTEGER NOT NULL REFERENCES cases(id),
        PRIMARY KEY (ticket_id, case_id)) WITHOUT ROWID""")
    db.execute("CREATE INDEX ticket_cases_case ON ticket_cases (case_id, ticket_id)")


def _v13(db: sqlite_utils.Database) -> None:
    # Result lockers (hall_server/lockers/): each compartment (a board's lock) and what it holds, the doors opened
    # for pickups (the kiosk follows one by its token), each kiosk's wrong pickup codes, and the locker SMS whose
    # text still holds the code (masked once the outbox is done with it). A code is kept only as a keyed hash.
    db.execute("""CREATE TABLE compartments (
        id INTEGER PRIMARY KEY, board INTEGER NOT NULL, lock INTEGER NOT NULL, label TEXT NOT NULL,
        size TEXT NOT NULL,                     -- small | large
        state TEXT NOT NULL,                    -- free | reserving | loading | occupied | opening | collecting |
                                                -- taking_back | emptying | out_of_service | removed
        case_id INTEGER REFERENCES cases(id), code_hash TEXT, actor TEXT, loaded_by TEXT, loaded_at TEXT,
        since TEXT NOT NULL, note TEXT, alerted INTEGER NOT NULL DEFAULT 0,
        UNIQUE (board, lock))""")
    db.execute("CREATE UNIQUE INDEX compartments_code ON compartments (code_hash) WHERE code_hash IS NOT NULL")
    db.execute("CREATE INDEX compartments_case ON compartments (case_id) WHERE case_id IS NOT NULL")
    db.execute("""CREATE TABLE locker_pickups (
        id INTEGER PRIMARY KEY, token TEXT NOT NULL UNIQUE,
        compartment_id INTEGER NOT NULL REFERENCES compartments(id), case_id INTEGER NOT NULL REFERENCES cases(id),
        kiosk TEXT, actor TEXT, method TEXT NOT NULL,   -- code | swipe
        state TEXT NOT NULL,                    -- opening | open | delivered | failed
        started_at TEXT NOT NULL, opened_at TEXT, ended_at TEXT, error TEXT)""")
    db.execute("CREATE INDEX locker_pickups_compartment ON locker_pickups (compartment_id, state)")
    db.execute("""CREATE TABLE locker_tries (
        kiosk TEXT PRIMARY KEY, wrong INTEGER NOT NULL, last_at TEXT NOT NULL, paused_until TEXT) WITHOUT ROWID""")
    db.execute("""CREATE TABLE locker_sms (
        outbox_id INTEGER PRIMARY KEY REFERENCES outbox(id), clear_text TEXT NOT NULL)""")


def _v14(db: sqlite_utils.Database) -> None:
    # 好差评 and the 差评 loop (hall_server/feedback/). A finished handling awaits its rating in rating_prompts,
    # with the window and clerk the store had when it was finished (never what the clerk types); one evaluation
    # per prompt; every bad one opens a badratings record whose steps (核实 整改 反馈 复核 申诉) are its rows of
    # badrating_steps. An evaluator account (the rating tablet or key box) is bound to its window.
    db.execute("ALTER TABLE users ADD COLUMN window INTEGER")
    db.execute("""CREATE TABLE rating_prompts (
        id INTEGER PRIMARY KEY, ticket_id INTEGER REFERENCES tickets(id), case_id INTEGER REFERENCES cases(id),
        window INTEGER, clerk TEXT, matter TEXT NOT NULL, departments TEXT NOT NULL,   -- JSON list
        number TEXT NOT NULL,                   -- the ticket's or case's number, as the citizen knows it
        created_at TEXT NOT NULL, expires_at TEXT,   -- NULL: no on-site prompt (the status page only)
        state TEXT NOT NULL,                    -- pending | rated | not_rated
        ended_at TEXT, why TEXT,                -- not_rated: timeout | superseded | device
        evaluation_id INTEGER)""")
    db.execute("CREATE UNIQUE INDEX rating_prompts_ticket ON rating_prompts (ticket_id) WHERE ticket_id IS NOT NULL")
    db.execute("CREATE UNIQUE INDEX rating_prompts_case ON rating_prompts (case_id) WHERE case_id IS NOT NULL")
    db.execute("CREATE INDEX rating_prompts_pending ON rating_prompts (window, id) WHERE state = 'pending'")
    db.execute("CREATE INDEX rating_prompts_created ON rating_prompts (created_at)")
    db.execute("""CREATE TABLE evaluations (
        id INTEGER PRIMARY KEY, prompt_id INTEGER NOT NULL UNIQUE REFERENCES rating_prompts(id),
        ticket_id INTEGER, case_id INTEGER, window INTEGER, clerk TEXT, matter TEXT NOT NULL,
        departments TEXT NOT NULL, number TEXT NOT NULL,
        level INTEGER NOT NULL CHECK (level BETWEEN 1 AND 5), reasons TEXT NOT NULL,   -- JSON list
        channel TEXT NOT NULL,                  -- device | tablet | status_page
        by TEXT, at TEXT NOT NULL,              -- by: the evaluator account; NULL from the status page
        named INTEGER NOT NULL,                 -- the handling's applicant left a phone: 100 % called back
        contact_case INTEGER,                   -- the case whose applicant is called back
        appeal TEXT,                            -- NULL | pending | upheld | rejected
        excluded INTEGER NOT NULL DEFAULT 0)    -- 1: an upheld 申诉 took it out of the statistics""")
    db.execute("CREATE INDEX evaluations_at ON evaluations (at)")
    db.execute("""CREATE TABLE badratings (
        id INTEGER PRIMARY KEY, number TEXT NOT NULL UNIQUE,
        evaluation_id INTEGER NOT NULL UNIQUE REFERENCES evaluations(id),
        opened_at TEXT NOT NULL,
        state TEXT NOT NULL,                    -- verify | rectify | callback | recheck | closed
        due TEXT,                               -- the current step's due day (local YYYY-MM-DD)
        deadline TEXT NOT NULL DEFAULT 'ok',    -- ok | amber | red, of the current step or a pending 申诉
        window INTEGER, clerk TEXT, matter TEXT NOT NULL, departments TEXT NOT NULL, level INTEGER NOT NULL,
        named INTEGER NOT NULL, contact_case INTEGER,
        responsible_department TEXT, responsible_window INTEGER,    -- set at 核实
        appeal TEXT, appeal_due TEXT,           -- NULL | pending | upheld | rejected
        closed_at TEXT, closed_how TEXT,        -- rechecked | appeal_upheld
        updated_at TEXT NOT NULL)""")
    db.execute("CREATE INDEX badratings_open ON badratings (state, due) WHERE state != 'closed'")
    db.execute("""CREATE TABLE badrating_steps (
        id INTEGER PRIMARY KEY, badrating_id INTEGER NOT NULL REFERENCES badratings(id),
        step TEXT NOT NULL,                     -- verify | rectify | callback | recheck | appeal | appeal_decision
        due TEXT, at TEXT NOT NULL, by TEXT NOT NULL, note TEXT, data TEXT)""")
    db.execute("CREATE INDEX badrating_steps_record ON badrating_steps (badrating_id, id)")


def _v15(db: sqlite_utils.Database) -> None:
    # “办不成事” complaints (hall_server/complaints/): 受理 分类 转办 办结 反馈 核查 备案, each step one row of
    # complaint_steps (who, when, what they wrote). The contact's phone is kept for the SMS (like a case's
    # applicant_phone) and shown masked in every listing; due days are local YYYY-MM-DD in working days.
    db.execute("""CREATE TABLE complaints (
        id INTEGER PRIMARY KEY, number TEXT NOT NULL UNIQUE, text TEXT NOT NULL,
        case_id INTEGER REFERENCES cases(id), matter TEXT, window INTEGER, department TEXT,   -- as registered
        channel TEXT NOT NULL,                  -- window | kiosk | status_page
        registered_by TEXT NOT NULL, registered_at TEXT NOT NULL, registered_day TEXT NOT NULL,
        contact_name TEXT, contact_phone TEXT,
        class TEXT,                             -- NULL | simple | complex | special
        responsible_department TEXT,            -- set at 转办
        status TEXT NOT NULL,                   -- registered | classified | assigned | answered | fed_back |
                                                -- checked | filed | closed (out of scope)
        due TEXT, answer_due TEXT,              -- the current step's day; the class's promised answer day
        deadline TEXT NOT NULL DEFAULT 'ok',    -- ok | amber | red, of the current step
        answered_at TEXT, closed_at TEXT, closed_reason TEXT,     -- closed_reason: court | petition | other
        updated_at TEXT NOT NULL)""")
    db.execute("CREATE INDEX complaints_open ON complaints (status, due) WHERE status NOT IN ('filed', 'closed')")
    db.execute("CREATE INDEX complaints_case ON complaints (case_id, registered_day) WHERE case_id IS NOT NULL")
    db.execute("""CREATE TABLE complaint_steps (
        id INTEGER PRIMARY KEY, complaint_id INTEGER NOT NULL REFERENCES complaints(id),
        step TEXT NOT NULL,                     -- register | classify | assign | answer | feedback | check | file |
                                                -- close
        due TEXT, at TEXT NOT NULL, by TEXT NOT NULL, text TEXT, data TEXT)""")
    db.execute("CREATE INDEX complaint_steps_of ON complaint_steps (complaint_id, id)")


def _v16(db: sqlite_utils.Database) -> None:
    # Statistics (hall_server/stats/): projections of the event log, kept by the stats projector in the same
    # transaction as its cursor (meta 'stats_seq'). One fact row per ticket, case, evaluation and complaint (local day
    # and hour of its start, its window, clerk, matter, group, department, channel); per-day rollups of the ticket
    # facts per (dimension, key) with a sparse histogram of waits and handling, built when a day has rolled over;
    # the windows' open and paused time; away alerts. `onewindow stats rebuild` drops them all and replays the log.
    db.execute("""CREATE TABLE stats_ticket (
        ticket_id INTEGER PRIMARY KEY, day TEXT NOT NULL, hour INTEGER NOT NULL, wd INTEGER NOT NULL,
        window INTEGER, clerk TEXT, matter TEXT NOT NULL, grp TEXT, department TEXT, channel TEXT,
        status TEXT NOT NULL, transfers INTEGER NOT NULL DEFAULT 0, issued_at TEXT NOT NULL,
        first_call_at TEXT, last_call_at TEXT, serving_at TEXT, wait_s REAL, handle_s REAL, expected_s REAL)""")
    for col in ("day", "window", "clerk", "matter", "department"):
        db.execute(f"CREATE INDEX stats_ticket_{col} ON stats_ticket ({col}{', day' if col != 'day' else ''})")
    db.execute("""CREATE TABLE stats_tday (
        dim TEXT NOT NULL, day TEXT NOT NULL, key TEXT NOT NULL, issued INTEGER, served INTEGER, no_show INTEGER,
        transferred INTEGER, cancelled INTEGER, wait_n INTEGER, wait_sum REAL, wait_max REAL, handle_n INTEGER,
        handle_sum REAL, handle_max REAL, expected_n INTEGER, expected_sum REAL, wait_hist TEXT, handle_hist TEXT,
        PRIMARY KEY (dim, day, key)) WITHOUT ROWID""")
    db.execute("CREATE TABLE stats_days (day TEXT PRIMARY KEY, rolled INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID")
    db.execute("""CREATE TABLE stats_case (
        case_id INTEGER PRIMARY KEY, day TEXT NOT NULL, hour INTEGER NOT NULL, wd INTEGER NOT NULL, window INTEGER,
        clerk TEXT, matter TEXT NOT NULL, grp TEXT, department TEXT, channel TEXT, kind TEXT, status TEXT NOT NULL,
        accepted INTEGER NOT NULL DEFAULT 0, accept_day TEXT, refused INTEGER NOT NULL DEFAULT 0,
        supplemented INTEGER NOT NULL DEFAULT 0, decided INTEGER NOT NULL DEFAULT 0, decided_day TEXT,
        on_time INTEGER, red INTEGER NOT NULL DEFAULT 0, workdays INTEGER, via TEXT,
        delivered INTEGER NOT NULL DEFAULT 0)""")
    db.execute("""CREATE TABLE stats_rating (
        evaluation_id INTEGER PRIMARY KEY, day TEXT NOT NULL, hour INTEGER NOT NULL, wd INTEGER NOT NULL,
        window INTEGER, clerk TEXT, matter TEXT, grp TEXT, department TEXT, channel TEXT, level INTEGER NOT NULL,
        excluded INTEGER NOT NULL DEFAULT 0, badrating_id INTEGER, rectify_due TEXT, rectified_on_time INTEGER)""")
    db.execute("CREATE INDEX stats_rating_bad ON stats_rating (badrating_id) WHERE badrating_id IS NOT NULL")
    db.execute("""CREATE TABLE stats_complaint (
        complaint_id INTEGER PRIMARY KEY, day TEXT NOT NULL, hour INTEGER NOT NULL, wd INTEGER NOT NULL,
        window INTEGER, clerk TEXT, matter TEXT, grp TEXT, department TEXT, channel TEXT, class TEXT,
        answered INTEGER NOT NULL DEFAULT 0, on_time INTEGER)""")
    for t in ("case", "rating", "complaint"):
        db.execute(f"CREATE INDEX stats_{t}_day ON stats_{t} (day)")
    db.execute("""CREATE TABLE stats_wstate (
        window INTEGER PRIMARY KEY, state TEXT NOT NULL, since TEXT NOT NULL, clerk TEXT)""")
    db.execute("""CREATE TABLE stats_wtime (
        day TEXT NOT NULL, window INTEGER NOT NULL, clerk TEXT NOT NULL, open_s REAL NOT NULL DEFAULT 0,
        paused_s REAL NOT NULL DEFAULT 0, away_events INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (day, window, clerk)) WITHOUT ROWID""")


def _v17(db: sqlite_utils.Database) -> None:
    # The stats projector's rollover finds the tickets still open (to expire them) without reading a year of facts.
    db.execute("CREATE INDEX stats_ticket_open ON stats_ticket (day) WHERE status IN ('waiting','called','serving')")


def _v18(db: sqlite_utils.Database) -> None:
    # The stats' per-day sums of the case, rating and complaint facts per (dimension, key), kept by deltas
    # (hall_server/stats/sums.py): n0..n13 are the source's sums in the order sums.py names them.
    cols = ", ".join(f"n{i} REAL NOT NULL DEFAULT 0" for i in range(14))
    db.execute(f"CREATE TABLE stats_sday (src TEXT NOT NULL, dim TEXT NOT NULL, day TEXT NOT NULL, key TEXT NOT NULL,"
               f" {cols}, PRIMARY KEY (src, dim, day, key)) WITHOUT ROWID")
    # the sums start from the log's first event: the projector replays it (its cursor gone, the stats emptied)
    for t in ("stats_ticket", "stats_tday", "stats_days", "stats_case", "stats_rating", "stats_complaint",
              "stats_wstate", "stats_wtime"):
        db.execute(f"DELETE FROM {t}")
    db.execute("DELETE FROM meta WHERE key='stats_seq'")


def _v19(db: sqlite_utils.Database) -> None:
    # The statistics moved to a database of their own (hall_server/stats/schema.py, stats.db beside this file): their
    # projector no longer writes through this store's writer. It replays the log into the new file from seq 0.
    for t in ("stats_ticket", "stats_tday", "stats_days", "stats_case", "stats_rating", "stats_complaint",
              "stats_wstate", "stats_wtime", "stats_sday"):
        db.execute(f"DROP TABLE IF EXISTS {t}")
    db.execute("DELETE FROM meta WHERE key='stats_seq'")


def _v20(db: sqlite_utils.Database) -> None:
    # Commands from the district (issue 19, hall_server/rollup/commands.py): each command id, written in the same
    # transaction as the case change it made (or its rejection), so that no command is ever applied twice
    db.execute("CREATE TABLE applied_commands (id TEXT PRIMARY KEY, case_id INTEGER, action TEXT NOT NULL,"
               " state TEXT NOT NULL CHECK (state IN ('applied','rejected')), seq INTEGER, result TEXT,"
               " at TEXT NOT NULL)")


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [_v1, _v2, _v3, _v4, _v5, _v6, _v7, _v8, _v9, _v10,
                                                             _v11, _v12, _v13, _v14, _v15, _v16, _v17, _v18, _v19,
                                                             _v20]
SCHEMA_VERSION = len(MIGRATIONS)


class SchemaError(RuntimeError):
    pass


def migrate(conn: sqlite3.Connection) -> tuple[int, int]:
    """Bring the database to SCHEMA_VERSION; returns (from, to)."""
    current = conn.execute("PRAGMA user_version").fetchone()[0]
    if current > SCHEMA_VERSION:
        raise SchemaError(
            f"the database is at schema version {current}, newer than this onewindow knows "
            f"({SCHEMA_VERSION}); run the newer onewindow or restore a backup"
        )
    if current == SCHEMA_VERSION:
        return current, current
    import sqlite_utils  # only when there is something to migrate: it costs start-up time

    db = sqlite_utils.Database(conn)
    conn.execute("BEGIN IMMEDIATE")
    try:
        for version in range(current, SCHEMA_VERSION):
            MIGRATIONS[version](db)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return current, SCHEMA_VERSION
