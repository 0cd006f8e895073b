"""`[complaints]` in a hall's config: the 办不成事 window, the number's prefix, and the working days of each step.

    [complaints]
    window = 7                     # the “办不成事”反映窗口: its signed-in clerk registers and feeds back
    prefix = "BC"                  # numbers BC20261124-001
    simple_working_days = 0        # 简单: answered on the spot (the day it is registered)
    complex_working_days = 5       # 复杂
    special_working_days = 10      # 特殊 (10 or 15 locally)
"""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

CLASSES = ("simple", "complex", "special")


class ComplaintPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    window: int = Field(default=7, ge=1, le=999, description="the “办不成事”反映窗口: the clerk signed in there "
                        "registers complaints and feeds the answers back")
    prefix: str = Field(default="BC", pattern=r"^[A-Z]{1,4}$", description="a complaint's number: prefix, the "
                        "local date and a sequence of the day (BC20261124-001)")
    classify_working_days: int = Field(default=1, ge=0, le=10, description="分类 by a supervisor, due in working days "
                                       "after the registration")
    simple_working_days: int = Field(default=0, ge=0, le=10, description="简单: answered on the spot (0) or within")
    complex_working_days: int = Field(default=5, ge=1, le=30, description="复杂: the answer due in working days "
                                      "after the registration")
    special_working_days: int = Field(default=10, ge=1, le=60, description="特殊: the answer due in working days "
                                      "after the registration (10 or 15 locally)")
    feedback_working_days: int = Field(default=1, ge=0, le=10, description="反馈 to the citizen, due in working "
                                       "days after the answer")
    check_working_days: int = Field(default=2, ge=0, le=30, description="核查 by a supervisor, after the 反馈")
    file_working_days: int = Field(default=2, ge=0, le=30, description="备案 by a supervisor, after the 核查")
    amber_days: int = Field(default=0, ge=0, le=10, description="a step this many working days or fewer before its "
                            "due day is amber (0: on the due day); past it, red")
    public_per_case_per_day: int = Field(default=3, ge=0, le=50, description="complaints a case's public status "
                                         "page may register per day (0: none from the status page)")

    def class_days(self, cls: str) -> int:
        return {"simple": self.simple_working_days, "complex": self.complex_working_days,
                "special": self.special_working_days}[cls]
