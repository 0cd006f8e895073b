"""`[sms]` in a hall's config: which device sends, when to retry, and the messages' texts (Chinese)."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

# {placeholders} a template may use; every one is filled from the case (no ID number, no applicant name)
FIELDS = ("hall", "number", "matter", "due", "query_code", "status_url", "missing", "where", "pickup_code",
          "phone", "outcome", "answer")
DEFAULT_TEMPLATES = {
    "accepted": "【{hall}】您申请的{matter}已受理，办件编号{number}，承诺{due}前办结。查询码{query_code}，"
                "进度可查：{status_url}",
    "supplement": "【{hall}】您申请的{matter}（{number}）材料尚缺：{missing}。请补齐后到综合窗口补交，"
                  "咨询电话{phone}。",
    "decided": "【{hall}】您申请的{matter}（{number}）已办结（{outcome}），我们将通知您领取结果。",
    "ready": "【{hall}】您申请的{matter}（{number}）结果已可领取：{where}。",
    "ready_locker": "【{hall}】您申请的{matter}（{number}）结果已放入自助取件柜，取件码{pickup_code}，"
                    "可在大厅自助机随时取件。",
    "overdue": "【{hall}】非常抱歉，您申请的{matter}（{number}）已超过承诺办结日期{due}，我们正在督办，"
               "如有疑问请致电{phone}。",
    # “办不成事” complaints (hall_server/complaints/): at registration and at the department's answer
    "complaint_registered": "【{hall}】您反映的“办不成事”问题已登记，编号{number}，我们将按时限办理并答复您，"
                            "咨询电话{phone}。",
    "complaint_answered": "【{hall}】您反映的问题（{number}）已有答复：{answer} 工作人员将与您联系，咨询电话{phone}。",
}


class SmsPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    device: str = Field(default="", description="the [[devices]] name of the SMS modem (kind sms); empty: "
                        "messages are kept in the outbox, none is sent")
    retry_s: tuple[float, ...] = Field(default=(15, 60, 300, 900, 1800), description="waits between tries")
    max_tries: int = Field(default=8, ge=1, le=100, description="tries before a message is marked failed")
    templates: dict[str, str] = Field(default_factory=dict, description="kind → text, overriding the defaults")

    @field_validator("templates")
    @classmethod
    def _known(cls, v: dict[str, str]) -> dict[str, str]:
        for kind, text in v.items():
            if kind not in DEFAULT_TEMPLATES:
                raise ValueError(f"sms.templates: unknown message {kind!r}; use {list(DEFAULT_TEMPLATES)}")
            try:
                text.format(**{f: "" for f in FIELDS})
            except (KeyError, IndexError, ValueError) as exc:
                raise ValueError(f"sms.templates.{kind}: {exc}; placeholders are {list(FIELDS)}") from None
        return v

    def template(self, kind: str) -> str:
        return self.templates.get(kind) or DEFAULT_TEMPLATES[kind]
