"""The case fields of the three shipped hall configs (issue 15, item 9): every matter's department(s), legal
limit, optional checklist items and 上报 authority, the same for a code in every hall that offers it; and
each hall's `[cases]` and `[calendar]` sections."""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from hall_server.cases.config import CalendarTable, case_prefix
from hall_server.config import HallConfig, load_config

CONFIG = Path(__file__).resolve().parent.parent / "config"
FILES = ["district-centre.toml", "street-centre.toml", "community-station.toml"]
CASE_FIELDS = ("department", "departments", "legal_days", "optional")


@pytest.fixture(scope="module")
def halls() -> dict[str, HallConfig]:
    return {name: load_config(CONFIG / name) for name in FILES}


def _matters(halls):
    return [(name, m) for name, cfg in halls.items() for m in cfg.matters]


@pytest.mark.parametrize("name", FILES)
def test_each_config_loads_with_its_cases_section(name):
    cfg = load_config(CONFIG / name)
    assert cfg.matters
    assert cfg.cases.prefix, f"{name}: set [cases] prefix, the case numbers' letters"
    assert cfg.cases.organ, f"{name}: set [cases] organ, the accepting organ named on notices"
    assert cfg.cases.complaint_phone, f"{name}: set [cases] complaint_phone for the 受理通知书"
    assert cfg.cases.amber_days == 2


def test_every_matter_names_a_real_deciding_department(halls):
    for name, m in _matters(halls):
        assert m.department.strip(), f"{name} {m.code} ({m.kind}) names no department"
        assert m.department not in ("窗口", "综合窗口"), f"{name} {m.code}: name the department, not the window"
        # the lead is named by itself; that it leads is what `department` of a 联办 matter means
        assert "牵头" not in m.department and "(" not in m.department, f"{name} {m.code}: {m.department!r}"
        assert m.deciders, f"{name} {m.code} has no decider"


def test_joint_matters_list_their_departments_with_the_lead_among_them(halls):
    joint = [(name, m) for name, m in _matters(halls) if m.kind == "联办"]
    assert joint, "the district has 联办 matters"
    for name, m in joint:
        assert len(m.departments) >= 2, f"{name} {m.code}"
        assert len(set(m.departments)) == len(m.departments), f"{name} {m.code} names a department twice"
        assert m.department in m.departments, f"{name} {m.code}: lead {m.department} not among {m.departments}"
        assert m.deciders == m.departments
        assert m.legal_days == 45, f"{name} {m.code}: 联合办理 is 45 working days (行政许可法 §42)"


def test_other_matters_have_one_department(halls):
    for name, m in _matters(halls):
        if m.kind != "联办":
            assert m.departments == (), f"{name} {m.code} is {m.kind}: `departments` is for 联办 only"
            assert m.deciders == (m.department,)


def test_promised_days_within_the_legal_limit(halls):
    for name, m in _matters(halls):
        assert 0 < m.legal_days <= 60, f"{name} {m.code}: legal_days {m.legal_days}"
        assert m.promised_days <= m.legal_days, f"{name} {m.code}: promises {m.promised_days} > {m.legal_days}"


def test_optional_items_are_checklist_items_and_something_stays_required(halls):
    marked = set()
    for name, m in _matters(halls):
        assert set(m.optional) <= set(m.materials), f"{name} {m.code}: {m.optional} not all in {m.materials}"
        assert len(set(m.optional)) == len(m.optional), f"{name} {m.code} marks an item twice"
        assert len(m.optional) < len(m.materials), f"{name} {m.code}: every item optional"
        marked |= {(m.code, o) for o in m.optional}
    # the conditional items the checklists spell out
    for code, item in [("RS-007", "社会保障卡(如有)"), ("FY-001", "已提交的申请材料或回执(如有)"),
                       ("LB-001", "结婚证"), ("GA-005", "结婚证"), ("GA-003", "原居民身份证(换领)")]:
        assert (code, item) in marked, f"{code}: {item} is conditional"


def test_a_code_has_the_same_case_fields_in_every_hall(halls):
    seen: dict[str, tuple[str, dict]] = {}
    shared = 0
    for name, m in _matters(halls):
        fields = {f: getattr(m, f) for f in CASE_FIELDS}
        if m.code in seen:
            first, theirs = seen[m.code]
            assert fields == theirs, f"{m.code}: {name} has {fields}, {first} has {theirs}"
            shared += 1
        else:
            seen[m.code] = (name, fields)
    assert shared >= 50            # street 29 + community 28 matters, all the district's


def test_every_reported_matter_names_its_authority(halls):
    reported = [(name, m) for name, m in _matters(halls) if m.kind == "上报"]
    assert reported
    for name, m in reported:
        assert m.authority.strip(), f"{name} {m.code} is 上报: set `authority`"
    for name, m in _matters(halls):
        if m.kind != "上报":
            assert not m.authority, f"{name} {m.code} is {m.kind}: `authority` is for 上报 only"


def test_case_prefixes_differ_between_the_halls(halls):
    prefixes = {name: case_prefix(cfg.cases, cfg.hall.code) for name, cfg in halls.items()}
    assert prefixes["district-centre.toml"] == "XL"
    assert len(set(prefixes.values())) == len(prefixes), prefixes
    organs = [cfg.cases.organ for cfg in halls.values()]
    assert len(set(organs)) == len(organs), organs


@pytest.mark.parametrize("name", FILES)
def test_the_calendar_example_in_the_comment_is_a_valid_table(name):
    """The commented form an administrator copies for a new year parses into a [calendar] table."""
    lines = (CONFIG / name).read_text(encoding="utf-8").splitlines()
    example = [line[4:] for line in lines if line.startswith("#   ") and
               line[4:].split(" = ")[0] in ("years", "holidays", "workdays")]
    assert len(example) == 3, example
    table = CalendarTable.model_validate(tomllib.loads("\n".join(example)))
    assert table.years and table.holidays and table.workdays
    assert all(d.weekday() >= 5 for d in table.workdays)      # makeup days are weekend days
    assert all(d.weekday() < 5 for d in table.holidays)       # days off that would have been worked
