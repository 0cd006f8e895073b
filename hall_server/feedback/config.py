"""`[feedback]` in a hall's config: how long a window's rating device waits, how long a receipt's status page
may rate, the working days of each step of the 差评 loop, and the reasons a bad rating may give.

    [feedback]
    prompt_timeout_s = 60          # a handling not rated at the window by then is "not rated" (never a level)
    rate_from_status_days = 7      # the receipt's / notice's status page rates once within this many days
    rectify_working_days = 15      # 整改 (the local rule: 15 in several provinces, 5 in others)
"""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

DEFAULT_REASONS = ("态度", "效率", "材料要求不清", "多次跑", "其他")


class FeedbackPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    prompt_timeout_s: float = Field(default=60, ge=5, le=600, description="seconds a window's evaluator waits "
                                    "for the citizen; past it the handling is recorded as not rated")
    rate_from_status_days: int = Field(default=7, ge=0, le=90, description="days after the handling in which the "
                                       "receipt's (or the case notice's) status page may rate it, once; 0: never")
    verify_working_days: int = Field(default=1, ge=1, le=30, description="核实 by a supervisor, due in working days "
                                     "after the bad rating")
    rectify_working_days: int = Field(default=15, ge=1, le=60, description="整改 by the responsible department or "
                                      "window, due in working days after 核实")
    callback_working_days: int = Field(default=3, ge=1, le=30, description="反馈 (the citizen called back), due "
                                       "in working days after 整改")
    recheck_working_days: int = Field(default=2, ge=1, le=30, description="复核 by a supervisor, due in working "
                                      "days after 反馈")
    appeal_working_days: int = Field(default=5, ge=1, le=30, description="a 申诉's decision, due in working days "
                                     "after it is filed")
    amber_days: int = Field(default=0, ge=0, le=10, description="a step this many working days or fewer before its "
                            "due date is amber (0: on the due day); past it, red")
    reasons: tuple[str, ...] = Field(default=DEFAULT_REASONS, min_length=1, max_length=12,
                                     description="the reasons a rating may give (shown in this order)")

    @field_validator("reasons")
    @classmethod
    def _distinct(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(v)) != len(v) or any(not r.strip() or len(r) > 20 for r in v):
            raise ValueError(f"feedback.reasons: {list(v)} must be distinct, non-empty, at most 20 characters each")
        return v
