"""What a case's written notices say: 受理通知书, 一次性告知书 and 不予受理通知书 (行政许可法 §32), and the 领取回执 the
出件 window prints when it hands a result out (统一出件).

`notice_for(case, kind, …)` turns a case (the dict the case API answers) into a `NoticeContent`: plain data
that the 80/58 mm printout (`printed`) and the A4 page (templates/notice_a4.html) both show, so paper and
page never say different things. Which notice a case's state allows is `check_available`. Personal data on
a notice is the applicant's (and agent's) name and the masked ID number only.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

from ..errors import Conflict

if TYPE_CHECKING:
    from drivers.printer.notice import Notice

    from ..config import HallConfig

NoticeKind = Literal["acceptance", "supplement", "refusal", "collection"]
KINDS: tuple[str, ...] = ("acceptance", "supplement", "refusal")        # the notices of intake
HANDOUT_KINDS: tuple[str, ...] = ("collection",)                       # 领取回执: a result handed out at a window
ALL_KINDS: tuple[str, ...] = KINDS + HANDOUT_KINDS
TITLES = {"acceptance": "受理通知书", "supplement": "一次性告知书", "refusal": "不予受理通知书",
          "collection": "领取回执"}
NAMES_EN = {"acceptance": "acceptance notice", "supplement": "notice of missing materials",
            "refusal": "notice of refusal", "collection": "collection receipt"}
OUTCOMES = {"approved": "准予（批准）", "rejected": "不予批准"}
COLLECTED = "领取人已当面核对并领取上述办件结果。"
CASE_KINDS = {"即办": "即办件", "承诺": "承诺件", "上报": "上报件", "联办": "联办件"}
ACCEPTED_STATES = ("accepted", "in_review", "suspended", "decided", "ready", "delivered")

TIME_RULE = ("办理时限按工作日计算，自受理之日的次日起算；依法需要听证、招标、拍卖、检验、检测、检疫、鉴定和"
             "专家评审的，所需时间不计算在内。")
FIVE_DAY_RULE = ("根据《中华人民共和国行政许可法》第三十二条，申请材料不齐全或者不符合法定形式的，行政机关应当"
                 "当场或者在五日内一次告知申请人需要补正的全部内容；逾期不告知的，自收到申请材料之日起即为受理。")
SUPPLEMENT_CLOSE = "以上为需要补正的全部材料。请补齐后到窗口提交，材料补齐之日为受理之日。"
# "…不属于本机关职权范围，请向区市场监管局申请": the organ named after 向 (or 由, 到) in a refusal's reason
COMPETENT_ORGAN = re.compile(r"(?:向|由|到)\s*([\u4e00-\u9fff（）()A-Za-z0-9]{2,30}"
                             r"(?:分局|局|委员会|委|办公室|办事处|中心|厅|院|所|处|政府|站|队))")


@dataclass(frozen=True)
class Entry:
    """One part of a notice's body: a `field` (label：text), a `text` paragraph, a numbered `item`, or a
    `sign` line for the applicant's hand (`text`: what stands on it, e.g. "年 月 日"; empty: a blank line)."""
    kind: Literal["field", "text", "item", "sign"]
    text: str
    label: str = ""


@dataclass(frozen=True)
class NoticeContent:
    kind: str
    title: str
    organ: str                      # the issuing (accepting) organ: heading and 落款
    number: str                     # the case number
    entries: tuple[Entry, ...]
    date: str                       # the notice's date, "2026年12月3日"
    status_url: str = ""            # the QR code's link to the public status page; "" for none
    qr_caption: str = ""
    footer: tuple[str, ...] = ()

    @property
    def reference(self) -> str:
        return f"编号：{self.number}"


# -- which notice a case allows --------------------------------------------------------------------------------
def unavailable(case: dict, kind: str) -> tuple[str, str] | None:
    """Why `case` cannot have the notice `kind` now (Chinese, English), or None when it can."""
    status = case.get("status", "")
    if kind == "acceptance":
        if status in ACCEPTED_STATES or (case.get("accepted_at") and status == "withdrawn"):
            return None
        return (f"办件状态为 {status}，尚未受理，不能出具受理通知书",
                f"the case is {status}: it has not been accepted, so there is no acceptance notice")
    if kind == "supplement":
        if status == "supplement":
            return None
        return (f"办件状态为 {status}，没有待补正的材料，不能出具一次性告知书",
                f"the case is {status}: no 补正 (missing materials) request is open, so there is no "
                "notice of missing materials")
    if kind == "refusal":
        if status == "refused":
            return None
        return (f"办件状态为 {status}，未作不予受理决定，不能出具不予受理通知书",
                f"the case is {status}: it was not refused, so there is no notice of refusal")
    if kind == "collection":
        handout = case.get("handout") or {}
        if status == "delivered" and handout.get("via") == "window" and handout.get("collector"):
            return None
        if status == "delivered":
            return ("该办件结果未在窗口领取（邮寄送达或取件柜），没有领取回执",
                    "the result was not collected at a window (sent by mail or left in a locker): there is no "
                    "collection receipt")
        return (f"办件状态为 {status}，尚未在窗口出件，不能出具领取回执",
                f"the case is {status}: its result has not been handed out at a window, so there is no "
                "collection receipt")
    return (f"没有 {kind} 这种通知书（可选：{'、'.join(ALL_KINDS)}）",
            f"no notice kind {kind!r}; use one of {', '.join(ALL_KINDS)}")


def check_available(case: dict, kind: str) -> None:
    """Raises 409 `notice_not_available`, saying why, when the case's state does not allow the notice."""
    why = unavailable(case, kind)
    if why is not None:
        raise Conflict("notice_not_available", why[0], why[1], case=case.get("id"), notice=kind,
                       case_status=case.get("status"))


# -- dates and names -------------------------------------------------------------------------------------------
def local(at: str | None, tz: ZoneInfo) -> datetime | None:
    """A stored UTC ISO time in the hall's zone."""
    return datetime.fromisoformat(at).astimezone(tz) if at else None


def day_text(d: date | datetime | str | None) -> str:
    """2026年12月3日 (from a date, a datetime or YYYY-MM-DD)."""
    if not d:
        return ""
    if isinstance(d, str):
        d = date.fromisoformat(d[:10])
    return f"{d.year}年{d.month}月{d.day}日"


def time_text(at: datetime | None) -> str:
    return f"{day_text(at)} {at:%H:%M}" if at else ""


def competent_organ(case: dict) -> str:
    """The organ a refused applicant should turn to, when the case or its reason names one."""
    if case.get("competent_organ"):
        return str(case["competent_organ"])
    for step in reversed(case.get("history") or []):     # the refusal's event may carry it
        if step.get("competent_organ"):
            return str(step["competent_organ"])
    m = COMPETENT_ORGAN.search(case.get("reason") or "")
    return m.group(1) if m else ""


def _when(case: dict, status: str) -> str | None:
    """When the case last entered `status`, from its history."""
    for step in reversed(case.get("history") or []):
        if step.get("status") == status and step.get("at"):
            return step["at"]
    return None


def organ_of(case: dict, cfg: HallConfig) -> str:
    return case.get("organ") or cfg.cases.organ or cfg.hall.name


def complaint_phone(cfg: HallConfig) -> str:
    return cfg.cases.complaint_phone or cfg.hall.phone


def status_url(case: dict, base_url: str) -> str:
    return f"{base_url.rstrip('/')}/c/{case['query_code']}"


# -- the three notices -----------------------------------------------------------------------------------------
def _people(case: dict) -> list[Entry]:
    applicant = case.get("applicant") or {}
    out = [Entry("field", applicant.get("name", ""), "申请人")]
    if applicant.get("id_masked"):
        out.append(Entry("field", applicant["id_masked"], "证件号码"))
    agent = case.get("agent") or {}
    if agent.get("name"):
        out.append(Entry("field", agent["name"], "代办人"))
    out.append(Entry("field", case.get("matter_name") or case.get("matter", ""), "申请事项"))
    return out


def _limit(due: str | None, days: int | None, extra: str = "") -> str:
    if not due:
        return ""
    return f"{day_text(due)}（{days} 个工作日{extra}）" if days is not None else day_text(due)


def _acceptance(case: dict, cfg: HallConfig, tz: ZoneInfo) -> tuple[list[Entry], str]:
    accepted = local(case.get("accepted_at"), tz)
    name = (case.get("applicant") or {}).get("name", "")
    matter = case.get("matter_name") or case.get("matter", "")
    entries = [Entry("text", f"{name}：" if name else ""),
               Entry("text", f"您于 {time_text(accepted)} 提交的“{matter}”申请，经审查，申请材料齐全、符合法定"
                             "形式，决定予以受理。"),
               *_people(case),
               Entry("field", CASE_KINDS.get(case.get("kind", ""), case.get("kind", "")), "办件类型"),
               Entry("field", time_text(accepted), "受理时间")]
    if case.get("kind") == "即办" or not case.get("due"):
        entries.append(Entry("field", "即办件，当场办结", "承诺办结"))
    else:
        notes = []
        if case.get("extended_days"):
            notes.append(f"，含延期 {case['extended_days']} 个工作日")
        if case.get("suspended_days"):
            notes.append(f"，另有 {case['suspended_days']} 个工作日特别程序不计入")
        entries.append(Entry("field", _limit(case["due"], case.get("promised_days"), "".join(notes)),
                             "承诺办结日期"))
    if case.get("legal_due"):
        entries.append(Entry("field", _limit(case["legal_due"], case.get("legal_days")), "法定办结日期"))
    entries += [Entry("field", organ_of(case, cfg), "受理机关"),
                Entry("field", complaint_phone(cfg) or "—", "监督投诉电话"),
                Entry("field", case.get("query_code", ""), "查询码"),
                Entry("text", TIME_RULE)]
    return entries, day_text(accepted)


def _supplement(case: dict, cfg: HallConfig, tz: ZoneInfo) -> tuple[list[Entry], str]:
    received = local(case.get("received_at"), tz)
    asked = local(_when(case, "supplement"), tz) or received
    missing = [str(m) for m in case.get("missing") or []]
    entries = [*_people(case), Entry("field", time_text(received), "收件时间"),
               Entry("text", f"经审查，您提交的申请材料不齐全或者不符合法定形式，请补正以下全部材料"
                             f"（共 {len(missing)} 项）：")]
    entries += [Entry("item", item, str(n)) for n, item in enumerate(missing, 1)]
    if case.get("supplement_note"):
        entries.append(Entry("field", str(case["supplement_note"]), "补正说明"))
    entries += [Entry("text", SUPPLEMENT_CLOSE), Entry("text", FIVE_DAY_RULE),
                Entry("field", complaint_phone(cfg) or "—", "咨询电话"),
                Entry("field", case.get("query_code", ""), "查询码"),
                Entry("sign", "", "申请人签名"), Entry("sign", "      年    月    日", "日期")]
    return entries, day_text(asked)


def _refusal(case: dict, cfg: HallConfig, tz: ZoneInfo) -> tuple[list[Entry], str]:
    received = local(case.get("received_at"), tz)
    refused = local(_when(case, "refused"), tz) or local(case.get("decided_at"), tz)
    name = (case.get("applicant") or {}).get("name", "")
    matter = case.get("matter_name") or case.get("matter", "")
    entries = [Entry("text", f"{name}：" if name else ""),
               Entry("text", f"您于 {time_text(received)} 提交的“{matter}”申请，经审查，决定不予受理。"),
               *_people(case), Entry("field", time_text(received), "申请时间"),
               Entry("field", case.get("reason") or "", "不予受理理由")]
    organ = competent_organ(case)
    if organ:
        entries += [Entry("field", organ, "有权机关"),
                    Entry("text", f"该申请事项依法不属于本机关职权范围，请您向{organ}提出申请。")]
    entries += [Entry("text", cfg.cases.review_rights),
                Entry("field", complaint_phone(cfg) or "—", "监督投诉电话")]
    return entries, day_text(refused)


def _collection(case: dict, cfg: HallConfig, tz: ZoneInfo) -> tuple[list[Entry], str]:
    """领取回执: who collected which result, when, from whom; the collector's masked ID number only."""
    handout = case.get("handout") or {}
    collector = handout.get("collector") or {}
    delivered = local(case.get("delivered_at"), tz) or local(_when(case, "delivered"), tz)
    outcome = OUTCOMES.get(case.get("outcome") or "", case.get("outcome") or "")
    entries = [*_people(case), Entry("field", outcome, "办理结果")]
    if case.get("opinion"):
        entries.append(Entry("field", str(case["opinion"]), "审批意见"))
    entries.append(Entry("field", collector.get("name", ""), "领取人"))
    if collector.get("id_masked"):
        entries.append(Entry("field", collector["id_masked"], "领取人证件号码"))
    entries.append(Entry("field", "代领（凭授权委托书）" if collector.get("proxy") else "本人领取", "领取方式"))
    if case.get("_window"):
        entries.append(Entry("field", f"{case['_window']} 号窗口", "出件窗口"))
    entries += [Entry("field", handout.get("delivered_by") or "", "经办人"),
                Entry("field", time_text(delivered), "领取时间"),
                Entry("text", COLLECTED),
                Entry("sign", "", "领取人签名"), Entry("sign", "      年    月    日", "日期")]
    return entries, day_text(delivered)


BUILDERS = {"acceptance": _acceptance, "supplement": _supplement, "refusal": _refusal, "collection": _collection}
FOOTERS = {"acceptance": (), "collection": ("本回执一式两份，领取人、出件窗口各执一份",)}


def notice_for(case: dict, kind: str, cfg: HallConfig, base_url: str, today: date | None = None,
               window: int | None = None) -> NoticeContent:
    """The notice `kind` of `case`; raises 409 `notice_not_available` when its state does not allow it.

    `base_url`: where citizens' phones reach the hall (cfg.hall.public_url, else the request's base URL);
    `today`: the notice's date when the case does not say when it happened; `window`: where it is printed
    (the 领取回执 names the 出件 window)."""
    check_available(case, kind)
    tz = ZoneInfo(cfg.hall.timezone)
    entries, dated = BUILDERS[kind]({**case, "_window": window} if kind == "collection" else case, cfg, tz)
    with_qr = kind in ("acceptance", "supplement") and case.get("query_code")
    return NoticeContent(
        kind=kind, title=TITLES[kind], organ=organ_of(case, cfg), number=case.get("number", ""),
        entries=tuple(entries), date=dated or day_text(today),
        status_url=status_url(case, base_url) if with_qr else "",
        qr_caption="扫码查询办理进度" if with_qr else "",
        footer=FOOTERS.get(kind, ("本通知书一式两份，申请人、受理机关各执一份",)))


# -- on paper --------------------------------------------------------------------------------------------------
def printed(content: NoticeContent, width: int = 80) -> Notice:
    """The notice as a receipt printer's document (drivers.printer.notice), laid out for `width` mm."""
    from drivers.printer.notice import Field, Notice, SignLine  # here: it imports python-escpos (slow start)

    lines: list[Any] = []
    for e in content.entries:
        if e.kind == "field":
            lines.append(Field(e.label, e.text))
        elif e.kind == "item":
            lines.append(Field(f"{e.label}.", e.text, sep=" "))
        elif e.kind == "sign":
            lines.append(SignLine(e.label, e.text))
        else:
            lines.append(e.text)
    return Notice(title=content.title, heading=[content.organ], reference=content.reference, lines=lines,
                  qr_url=content.status_url, qr_caption=content.qr_caption,
                  closing=[content.organ, content.date], footer=list(content.footer), width=width)


def qr_svg(url: str, label: str = "") -> str:
    """`url` as an inline SVG QR code (made here, so the A4 page needs nothing from the network)."""
    import qrcode
    import qrcode.image.svg

    img = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=4)
    svg = img.to_string(encoding="unicode")
    label = html.escape(label or url, quote=True)
    return svg.replace("<svg ", f'<svg class="qr" role="img" aria-label="{label}" data-test-id="notice-qr" ', 1)
