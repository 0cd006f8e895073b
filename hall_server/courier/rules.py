"""What a parcel's registration must say, as plain functions over plain data: the courier (one of the configured
names, or free text), the waybill number, the sender and their phone, the contents. Every problem is named with
its field, in Chinese and English, so the window's form can point at it."""
from __future__ import annotations

import re
from dataclasses import dataclass

WAYBILL = re.compile(r"[A-Z0-9-]{6,30}", re.ASCII)
PHONE = re.compile(r"\+?[0-9()\-]{5,24}", re.ASCII)


@dataclass(frozen=True)
class Problem:
    field: str
    zh: str
    en: str

    def as_dict(self) -> dict:
        return {"field": self.field, "problem_zh": self.zh, "problem_en": self.en}


def squeeze(text: str | None) -> str:
    """Inner runs of whitespace as one space, none at the ends."""
    return " ".join((text or "").split())


def courier_name(text: str, known: tuple[str, ...]) -> str:
    """A configured courier when `text` names it (any case, or part of its name: 顺丰 → 顺丰速运, ems → 中国邮政EMS);
    else `text` as typed (a courier the list does not have)."""
    t = squeeze(text)
    folded = t.casefold()
    for k in known:
        if k.casefold() == folded:
            return k
    if len(t) >= 2:
        near = [k for k in known if folded in k.casefold() or k.casefold() in folded]
        if len(near) == 1:
            return near[0]
    return t


def waybill_number(text: str) -> str:
    """The waybill as stored and compared: spaces dropped (labels print it in groups), letters upper case."""
    return re.sub(r"\s+", "", text or "").upper()


def phone_number(text: str) -> str:
    return re.sub(r"\s+", "", text or "")


def problems(*, courier: str, waybill: str, sender_name: str, sender_phone: str, contents: str) -> list[Problem]:
    """Every problem of a registration at once (the fields already normalised)."""
    out: list[Problem] = []
    if not courier:
        out.append(Problem("courier", "请选择或填写快递公司", "choose or type the courier"))
    elif len(courier) > 40:
        out.append(Problem("courier", "快递公司名称不超过 40 个字", "the courier's name has at most 40 characters"))
    if not waybill:
        out.append(Problem("waybill", "请填写运单号（见快递面单）", "type the waybill number (on the parcel's label)"))
    elif not WAYBILL.fullmatch(waybill):
        out.append(Problem("waybill", "运单号须为 6–30 位字母、数字或短横线，请对照面单核对",
                           "a waybill number has 6 to 30 letters, digits or dashes: check it against the label"))
    if not sender_name:
        out.append(Problem("sender_name", "请填写寄件人姓名或单位",
                           "type the sender's name (a person or an organisation)"))
    elif len(sender_name) > 40:
        out.append(Problem("sender_name", "寄件人姓名不超过 40 个字", "the sender's name has at most 40 characters"))
    digits = sum(c.isdigit() for c in sender_phone)
    if not sender_phone:
        out.append(Problem("sender_phone", "请填写寄件人电话（见快递面单）", "type the sender's phone (on the label)"))
    elif not PHONE.fullmatch(sender_phone) or not 5 <= digits <= 20:
        out.append(Problem("sender_phone", "寄件人电话格式有误：只能有数字、+、-，5–20 位数字",
                           "the sender's phone has 5 to 20 digits, with + and - only"))
    if not contents:
        out.append(Problem("contents", "请填写内件（寄来的是什么材料）",
                           "say what the parcel contains (which materials)"))
    elif len(contents) > 200:
        out.append(Problem("contents", "内件说明不超过 200 个字",
                           "the contents are described in at most 200 characters"))
    return out
