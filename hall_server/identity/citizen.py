"""What the hall keeps of a citizen's ID card, and what a swipe means for the queue.

A card read (a `CitizenCard`, from a reader the server owns or from a kiosk program) is turned at once
into a `CitizenRef`: the masked number (420***********123X), the masked name (张*), gender, age, and
a keyed HMAC of the number (the installation's secret) that matches the same person across swipes,
quotas and appointments. The card itself — full number, name, birth date, address, photo — is never
stored, logged or sent on. The rules here are plain functions: priority by age, suggestions, greeting.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from drivers.idcard import gb11643
from drivers.idcard.base import CitizenCard, mask_name

from ..config import HallConfig, IdentityPolicy
from ..errors import Unprocessable

log = logging.getLogger(__name__)
KEY_ENV = "ONEWINDOW_IDENTITY_KEY"
KEY_FILE = "identity.key"


class InvalidCard(Unprocessable):
    """A card (or a typed number) whose ID number is not valid; the message never repeats it."""


@dataclass(frozen=True)
class CitizenRef:
    hash: str              # HMAC-SHA256 of the normalised number, hex
    id_masked: str
    name_masked: str
    gender: str            # 男 / 女
    age: int
    card_kind: str
    card_expired: bool
    valid_to: str | None   # ISO date, "长期", or None when the card does not say

    def __repr__(self) -> str:        # never the hash either: it is a stable personal identifier
        return f"CitizenRef({self.id_masked}, age={self.age}, expired={self.card_expired})"


def load_key(data_dir: Path) -> bytes:
    """The installation's secret for citizen hashes: $ONEWINDOW_IDENTITY_KEY (hex), else a file made once.

    Losing it means earlier hashes (appointments, today's quotas) no longer match: back it up with the
    database.
    """
    env = os.environ.get(KEY_ENV, "").strip()
    if env:
        try:
            key = bytes.fromhex(env)
        except ValueError:
            raise ValueError(f"{KEY_ENV} must be hex (64 characters from `openssl rand -hex 32`)") from None
        if len(key) < 16:
            raise ValueError(f"{KEY_ENV} is too short: use 32 random bytes (`openssl rand -hex 32`)")
        return key
    path = Path(data_dir) / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32) + "\n")
        log.info("created the identity key %s (back it up with the database)", path)
    return bytes.fromhex(path.read_text().strip())


def citizen_hash(key: bytes, id_number: str) -> str:
    return hmac.new(key, b"onewindow-citizen:" + gb11643.normalise(id_number).encode(), hashlib.sha256).hexdigest()


def citizen_ref(card: CitizenCard, key: bytes, today: date) -> CitizenRef:
    """Everything the hall keeps of `card`; InvalidCard (never repeating the number) if it is not valid."""
    try:
        number = gb11643.validate(card.id_number)
        born = gb11643.birth_date(number)
    except gb11643.InvalidIdNumber as exc:
        raise InvalidCard("invalid_id_number", "身份证号码无效，请重新刷卡；如仍不行，请到服务台人工取号",
                          f"{exc}; swipe the card again, or ask at the service desk") from None
    valid_to = "长期" if card.long_term else (card.valid_to.isoformat() if card.valid_to else None)
    return CitizenRef(hash=citizen_hash(key, number), id_masked=gb11643.mask(number),
                      name_masked=mask_name(card.name), gender=gb11643.gender(number),
                      age=gb11643.age_on(born, today), card_kind=card.kind, card_expired=card.expired_on(today),
                      valid_to=valid_to)


def priority_for(ref: CitizenRef, policy: IdentityPolicy) -> str:
    if policy.elderly_age is not None and ref.age >= policy.elderly_age:
        return "elderly"
    return "normal"


def greeting(ref: CitizenRef) -> tuple[str, str]:
    """张女士，您好 — the surname and a form of address only, as a clerk would say it."""
    surname = ref.name_masked[:1]
    zh_title, en_title = ("先生", "Mr") if ref.gender == "男" else ("女士", "Ms")
    if not surname:
        return "您好！", "Hello!"
    return f"{surname}{zh_title}，您好！", f"Hello, {en_title} {surname}!"


def suggestions(ref: CitizenRef, cfg: HallConfig) -> list[dict]:
    """Matters worth offering this citizen: by age, and a card renewal when the card has expired."""
    out: list[dict] = []
    seen: set[str] = set()

    def add(code: str, why: str, why_en: str) -> None:
        m = cfg.matter(code)
        if m is not None and code not in seen:
            seen.add(code)
            out.append({"matter": code, "name": m.name, "name_en": m.name_en, "why": why, "why_en": why_en})

    if ref.card_expired:
        for code in cfg.identity.expired_card_matters:
            add(code, "您的证件已过有效期，可办理换领", "Your card has expired: you can renew it here")
    for s in cfg.identity.suggest:
        if s.min_age <= ref.age <= s.max_age:
            for code in s.matters:
                add(code, s.why, s.why_en)
    return out


def notices(ref: CitizenRef) -> list[dict]:
    """What the citizen should know before taking a ticket."""
    if ref.card_expired:
        return [{"code": "card_expired",
                 "zh": f"您的证件有效期至 {ref.valid_to}，已过期。多数事项需要有效证件，请携带有效证件或先办理换领。",
                 "en": f"Your card expired on {ref.valid_to}. Most matters need a valid card: bring one, or "
                       "renew it first."}]
    return []
