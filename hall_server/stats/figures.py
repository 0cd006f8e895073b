"""The figures: each one's Chinese name, English name and definition, in ONE place (pages and exports read them
from here through the API), the percentile definition, and the monthly appraisal (考核) score.

Percentiles. Waits and handling times are kept as histograms of BUCKET_S-second buckets (per day and key in the
rollups; the per-ticket facts are bucketed the same way at query time), so a percentile is defined on them: for n
times, the q-percentile is the upper edge of the bucket that holds the ⌈q·n⌉-th shortest time, but never more than
the longest time (which is kept exactly). `percentile()` below is that definition; the property test recomputes
with it from the raw rows.
"""
from __future__ import annotations

import math

BUCKET_S = 60

# key → (中文名, English name, definition 中文 / English)
FIGURES: dict[str, tuple[str, str, str]] = {
    "issued": ("取号数", "Tickets issued",
        "当日取号的票数（按取号时间计日、计时；窗口、工作人员取其最后一次叫号，即办结或过号的那一次；从未叫号的票"
        "计入“未指定”） / tickets issued (a ticket belongs to the hall-local day and hour it was issued, and to the "
        "window and clerk of its last call, the one that finished it or made it a no-show; never called: \"-\")"),
    "served": ("办结数", "Served",
        "办结（ticket.finished）的票数 / tickets finished at a window"),
    "no_show": ("过号数", "No-shows",
        "被过号（ticket.no_show）且此后未再办结的票数 / tickets left a no-show"),
    "transferred": ("转移数", "Transferred",
        "至少被转移过一次的票数，计入其最终窗口 / tickets transferred at least once, counted at their final window"),
    "cancelled": ("取消数", "Cancelled",
        "被取消的票数 / tickets cancelled"),
    "wait_p50_s": ("等候中位数(秒)", "Wait p50 (s)",
        "等候时间：从取号到首次叫号（ticket.called）；从未叫号的票不计；按60秒分桶取中位数所在桶的上沿（不超过最长值"
        "） / wait: from issue to the FIRST call; tickets never called have none; the upper edge of the 60-s bucket "
        "holding the median (at most the longest)"),
    "wait_p90_s": ("等候P90(秒)", "Wait p90 (s)",
        "等候时间的第90百分位，定义同上 / the 90th percentile of waits, defined as above"),
    "wait_max_s": ("最长等候(秒)", "Longest wait (s)",
        "最长的等候时间（精确值） / the longest wait (exact)"),
    "handle_mean_s": ("平均办理时长(秒)", "Mean handling (s)",
        "办理时长：从开始办理（ticket.serving）——无此事件时从最后一次叫号——到办结（ticket.finished）的平均值 / "
        "handling: from ticket.serving (or the last call when the citizen was not marked arrived) to "
        "ticket.finished, mean over served tickets"),
    "handle_p90_s": ("办理时长P90(秒)", "Handling p90 (s)",
        "办理时长的第90百分位（60秒分桶上沿） / the 90th percentile of handling times (upper edge of its 60-s bucket)"),
    "expected_handle_s": ("应办时长(秒)", "Expected handling (s)",
        "所办事项预计办理分钟×60的平均值（按办结的票） / mean of the matters' expected minutes ×60 over served "
        "tickets"),
    "open_s": ("开窗时长(秒)", "Open (s)",
        "窗口处于开放状态的时长，计入开放开始之日 / time the window was open, counted on the day the span began"),
    "paused_s": ("暂停时长(秒)", "Paused (s)",
        "窗口暂停（含签退后）的时长 / time the window was paused (also after a logout)"),
    "serving_s": ("办理总时长(秒)", "Serving (s)",
        "所办结票的办理时长之和 / the sum of the handling times of the tickets served"),
    "cases_accepted": ("受理件数", "Cases accepted",
        "收件后予以受理的办件数（按收件日） / cases received in the range and accepted"),
    "cases_refused": ("不予受理件数", "Cases refused",
        "不予受理的办件数 / cases refused"),
    "cases_supplement_rate": ("补正率", "Supplement rate",
        "收件中曾一次性告知补正的比例 / share of the cases received that were asked for missing materials"),
    "cases_immediate_share": ("当场办结率", "Decided on the spot",
        "受理当日即办结的比例（即办） / share of accepted cases decided on the day they were accepted (即办)"),
    "cases_decided": ("办结件数", "Cases decided",
        "已作出决定的办件数 / cases decided"),
    "cases_decided_on_time": ("按期办结件数", "Decided on time",
        "在承诺期限（含当日）内办结的件数 / cases decided on or before their due day"),
    "cases_overdue": ("超期件数", "Overdue",
        "超期办结或仍在办且已超期（红）的件数 / cases decided late, or running and past due (red)"),
    "on_time_rate": ("按期办结率", "On-time rate",
        "按期办结件数 / 办结件数 / decided on time over decided"),
    "decide_mean_workdays": ("平均办结工作日", "Mean working days to decide",
        "从受理日到办结日的工作日数（本厅日历）的平均值 / mean working days (the hall's calendar) from acceptance to "
        "decision"),
    "handed_window": ("窗口出件", "Handed out at a window",
        "在窗口出件的件数 / results handed out at a window"),
    "handed_mail": ("邮寄出件", "Sent by mail",
        "邮寄出件的件数 / results sent by mail"),
    "handed_locker": ("智能柜出件", "Collected from a locker",
        "从智能柜取走的件数 / results collected from a locker"),
    "uncollected": ("待取件", "Uncollected",
        "已转待取件但尚未出件的件数 / results ready but not yet handed out"),
    "rated": ("评价数", "Ratings",
        "评价数（申诉成立而剔除的不计，按评价日） / ratings given, less those taken out by an upheld appeal"),
    "good_rate": ("好评率", "Good rate",
        "好评（4、5级：满意、非常满意）/ 评价数 / levels 4–5 (satisfied, very satisfied) over ratings"),
    "bad_count": ("差评数", "Bad ratings",
        "差评（1、2级）数，申诉成立的不计 / levels 1–2, less upheld appeals"),
    "rectified_on_time": ("按期整改数", "Rectified on time",
        "差评整改在整改期限内完成的件数 / bad ratings rectified by their due day"),
    "complaints": ("办不成事反映数", "Complaints",
        "登记的“办不成事”反映数（按登记日） / 办不成事 complaints registered"),
    "complaints_on_time": ("按期答复数", "Answered on time",
        "在分类约定的答复期限内答复的件数 / complaints answered by the day their class promises"),
    "complaints_by_class": ("按分类", "By class",
        "简单/复杂/特殊件数 / simple, complex and special complaints"),
    "on_seat_share": ("在岗率", "On seat",
        "座席监控在岗时长 / (在岗+离岗) / time seen on the seat over time seen on or off it"),
    "away_events": ("离岗次数", "Away alerts",
        "离岗告警次数 / away-from-seat alerts raised"),
}

ROW_KEYS = tuple(FIGURES)
RATES = frozenset({"cases_supplement_rate", "cases_immediate_share", "on_time_rate", "good_rate", "on_seat_share"})

# by → (中文, English) of the key column
BY = {"window": ("窗口", "Window"), "clerk": ("工作人员", "Clerk"), "matter": ("事项", "Matter"),
      "group": ("事项分组", "Group"), "department": ("部门", "Department"), "channel": ("取号渠道", "Channel"),
      "day": ("日期", "Day"), "week": ("周", "Week"), "month": ("月份", "Month"), "hour": ("时段", "Hour")}
CHANNELS = {"kiosk": "自助取号", "appointment": "预约", "staff": "窗口代取", "window": "窗口", "status_page": "网页",
            "handout": "出件取号", "device": "评价器", "tablet": "评价平板"}
WEEKDAYS_ZH = ("", "周一", "周二", "周三", "周四", "周五", "周六", "周日")


def definitions() -> dict[str, str]:
    return {k: v[2] for k, v in FIGURES.items()}


def as_list() -> list[dict]:
    return [{"key": k, "zh": zh, "en": en, "definition": d} for k, (zh, en, d) in FIGURES.items()]


def bucket(seconds: float) -> int:
    return int(seconds // BUCKET_S)


def percentile(hist: dict[int, int], q: float, longest: float | None) -> float | None:
    """The q-percentile of the times in `hist` (bucket → count), as defined in the module's docstring."""
    n = sum(hist.values())
    if n == 0:
        return None
    rank = max(1, math.ceil(q * n))
    seen = 0
    for b in sorted(hist):
        seen += hist[b]
        if seen >= rank:
            edge = float((b + 1) * BUCKET_S)
            return min(edge, longest) if longest is not None else edge
    return longest


# -- the monthly appraisal (考核) ---------------------------------------------------------------------------------
# score = Σ weight × part, each part in 0..100, and the weights sum to 100 %: a window's or clerk's month.
WEIGHTS = {"good_rate": 0.30, "on_time_rate": 0.25, "wait": 0.15, "handling": 0.10, "on_seat_share": 0.10,
           "complaints": 0.10}
SCORE_TEXT = (
    "考核得分（0–100）= 30%×好评率 + 25%×按期办结率 + 15%×等候得分 + 10%×办理得分 + 10%×在岗率 + 10%×反映得分。"
    "等候得分 = 100×max(0, 1 − 等候P90/1800秒)；办理得分 = 100×min(1, 应办时长/平均办理时长)；"
    "反映得分 = 100 − 20×反映数（不低于0）。某项无数据时不计该项，其余权重按比例放大。 / "
    "Score (0–100) = 30% good rate + 25% on-time rate + 15% wait part + 10% handling part + 10% on-seat share + "
    "10% complaints part; wait part = 100×max(0, 1 − wait p90 / 1800 s); handling part = 100×min(1, expected / "
    "mean handling); complaints part = 100 − 20 per complaint (not below 0). A part without data is left out and "
    "the other weights scaled up to 100 %.")


def score_parts(row: dict) -> dict[str, float | None]:
    def pct(v):
        return None if v is None else 100.0 * v
    wait = row.get("wait_p90_s")
    mean, expected = row.get("handle_mean_s"), row.get("expected_handle_s")
    handling = None
    if mean and expected:
        handling = 100.0 * min(1.0, expected / mean)
    return {"good_rate": pct(row.get("good_rate")), "on_time_rate": pct(row.get("on_time_rate")),
            "wait": None if wait is None else 100.0 * max(0.0, 1.0 - wait / 1800.0), "handling": handling,
            "on_seat_share": pct(row.get("on_seat_share")),
            "complaints": max(0.0, 100.0 - 20.0 * (row.get("complaints") or 0))}


def score(row: dict) -> float | None:
    parts = score_parts(row)
    known = {k: v for k, v in parts.items() if v is not None}
    if set(known) <= {"complaints"}:        # nothing was done: no score rather than a made-up one
        return None
    weight = sum(WEIGHTS[k] for k in known)
    return round(sum(WEIGHTS[k] * v for k, v in known.items()) / weight, 1)
