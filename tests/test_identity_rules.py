"""Identity rules (issue 4, item 4): GB 11643 check digits, age and gender, masking, priority by age,
suggestions, and the installation key behind the citizen hash."""
from __future__ import annotations

import os
import stat
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from identity_helpers import id_number

from drivers.idcard import gb11643
from drivers.idcard.base import CitizenCard, mask_name
from hall_server.config import IdentityPolicy
from hall_server.identity import citizen as identity

KEY = bytes(range(32))
TODAY = date(2026, 11, 24)


@pytest.mark.parametrize(("number", "ok"), [
    ("11010519491231002X", True),      # hardware.md's example
    ("11010519491231002x", True),      # a lower-case x is read as X
    ("110105194912310021", False),     # wrong check digit
    ("11010519491231002", False),      # 17 characters
    ("1101051949123100211", False),    # 19
    ("11010519491331002X", False),     # month 13 (check digit aside)
    ("A1010519491231002X", False),
])
def test_gb11643_validation(number, ok):
    if ok:
        assert gb11643.validate(number) == number.upper()
    else:
        with pytest.raises(gb11643.InvalidIdNumber) as err:
            gb11643.validate(number)
        assert number not in str(err.value)


@pytest.mark.parametrize(("first17", "check"), [
    ("11010519491231002", "X"), ("42010219560308012", None), ("44052418800101001", None),
])
def test_check_digit_is_mod_11_2(first17, check):
    digit = gb11643.check_digit(first17)
    if check:
        assert digit == check
    total = sum(int(d) * w for d, w in zip(first17, gb11643.WEIGHTS, strict=True))
    value = 10 if digit == "X" else int(digit)
    assert (total + value) % 11 == 1      # ISO 7064 MOD 11-2: the whole number sums to 1 mod 11


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2026, 11, 24)), st.integers(0, 999))
def test_a_generated_number_validates_and_gives_back_its_birth_date_and_gender(born, seq):
    n = id_number(born, seq)
    assert gb11643.validate(n) == n
    assert gb11643.birth_date(n) == born
    assert gb11643.gender(n) == ("男" if seq % 2 else "女")


@given(st.text(max_size=30))
def test_validation_raises_only_its_own_error(text):
    try:
        gb11643.validate(text)
    except gb11643.InvalidIdNumber:
        pass


@pytest.mark.parametrize(("born", "on", "age"), [
    (date(1956, 3, 8), date(2026, 3, 7), 69), (date(1956, 3, 8), date(2026, 3, 8), 70),
    (date(2008, 2, 29), date(2026, 2, 28), 17), (date(2008, 2, 29), date(2026, 3, 1), 18),
])
def test_age_counts_whole_years(born, on, age):
    assert gb11643.age_on(born, on) == age


@pytest.mark.parametrize(("name", "masked"), [("张三", "张*"), ("欧阳娜娜", "欧***"), ("李", "李*"), ("", "")])
def test_names_are_masked(name, masked):
    assert mask_name(name) == masked


def test_numbers_are_masked_keeping_three_and_four():
    assert gb11643.mask("42010219560308012X") == "420***********012X"


def _card(born, seq=123, **kw) -> CitizenCard:
    return CitizenCard(kind="resident-id", name="王秀英", id_number=id_number(born, seq), **kw)


def test_a_citizen_ref_keeps_only_masked_forms_age_and_a_keyed_hash():
    card = _card(date(1956, 3, 8), seq=124, long_term=True)
    ref = identity.citizen_ref(card, KEY, TODAY)
    assert (ref.id_masked, ref.name_masked, ref.gender, ref.age) == (
        gb11643.mask(card.id_number), "王**", "女", 70)
    assert card.id_number not in repr(ref) and ref.hash not in repr(ref)
    assert ref.hash == identity.citizen_hash(KEY, card.id_number.lower())      # the same person, however typed
    assert ref.hash != identity.citizen_hash(b"another installation key!", card.id_number)
    assert card.id_number not in repr(card) and "王秀英" not in repr(card)


def test_an_invalid_number_is_refused_without_repeating_it():
    bad = id_number(date(1990, 1, 1))[:-1] + "0"
    bad = bad if gb11643.check_digit(bad[:17]) != "0" else bad[:-1] + "1"
    with pytest.raises(identity.InvalidCard) as err:
        identity.citizen_ref(CitizenCard(kind="resident-id", name="某", id_number=bad), KEY, TODAY)
    assert bad not in err.value.en and bad not in err.value.zh and "check digit" in err.value.en


@pytest.mark.parametrize(("valid_to", "long_term", "expired"), [
    (date(2026, 11, 23), False, True), (date(2026, 11, 24), False, False), (None, True, False),
])
def test_expired_cards(valid_to, long_term, expired):
    ref = identity.citizen_ref(_card(date(1980, 1, 1), valid_to=valid_to, long_term=long_term), KEY, TODAY)
    assert ref.card_expired is expired
    assert bool(identity.notices(ref)) is expired


@pytest.mark.parametrize(("age_born", "elderly_age", "priority"), [
    (date(1956, 3, 8), 65, "elderly"), (date(1961, 11, 24), 65, "elderly"), (date(1961, 11, 25), 65, "normal"),
    (date(1956, 3, 8), None, "normal"), (date(1956, 3, 8), 75, "normal"),
])
def test_priority_class_from_age_is_configurable(age_born, elderly_age, priority):
    ref = identity.citizen_ref(_card(age_born, long_term=True), KEY, TODAY)
    assert identity.priority_for(ref, IdentityPolicy(elderly_age=elderly_age)) == priority


def test_suggestions_follow_the_halls_age_rules(district_cfg):
    def codes(born, **kw):
        ref = identity.citizen_ref(_card(born, **kw), KEY, TODAY)
        return [s["matter"] for s in identity.suggestions(ref, district_cfg)]
    assert codes(date(1990, 1, 1), long_term=True) == []
    assert codes(date(1964, 1, 1), long_term=True) == ["LN-001", "RS-002"]          # 62
    assert codes(date(1944, 1, 1), long_term=True) == ["LN-001", "LN-002"]          # 82
    assert codes(date(1990, 1, 1), valid_to=date(2020, 1, 1)) == ["GA-003"]        # expired: renew


def test_greeting_uses_surname_and_form_of_address_only():
    man = identity.citizen_ref(_card(date(1980, 1, 1), seq=123, long_term=True), KEY, TODAY)
    assert identity.greeting(man) == ("王先生，您好！", "Hello, Mr 王!")


def test_the_installation_key_is_made_once_private_and_kept(tmp_path, monkeypatch):
    monkeypatch.delenv(identity.KEY_ENV, raising=False)
    key = identity.load_key(tmp_path)
    assert len(key) == 32 and identity.load_key(tmp_path) == key
    assert stat.S_IMODE(os.stat(tmp_path / identity.KEY_FILE).st_mode) == 0o600
    monkeypatch.setenv(identity.KEY_ENV, "00" * 32)
    assert identity.load_key(tmp_path) == bytes(32)
    monkeypatch.setenv(identity.KEY_ENV, "not hex")
    with pytest.raises(ValueError, match="openssl rand -hex 32"):
        identity.load_key(tmp_path)
