"""The hall configurations: the three shipped files, and the errors a wrong file gets."""
from __future__ import annotations

import tomllib
from collections import Counter
from pathlib import Path

import pytest

from hall_server.config import ConfigError, HallConfig, load_config, parse_config

CONFIG = Path(__file__).resolve().parent.parent / "config"
FILES = ["district-centre.toml", "street-centre.toml", "community-station.toml"]
FIVE_GROUPS = {"社会事务", "人社", "卫健", "医保", "企业事务"}


@pytest.fixture(scope="module")
def district() -> HallConfig:
    return load_config(CONFIG / "district-centre.toml")


@pytest.fixture(scope="module")
def street() -> HallConfig:
    return load_config(CONFIG / "street-centre.toml")


@pytest.fixture(scope="module")
def community() -> HallConfig:
    return load_config(CONFIG / "community-station.toml")


@pytest.mark.parametrize("name", FILES)
def test_shipped_configs_load(name):
    cfg = load_config(CONFIG / name)
    assert cfg.hall.timezone == "Asia/Shanghai" and cfg.hall.rollover_hour == 3
    assert cfg.windows and cfg.matters and cfg.groups
    assert len({w.number for w in cfg.windows}) == len(cfg.windows)
    for m in cfg.matters:           # every matter can be called somewhere
        assert cfg.windows_serving(m.code), m.code


# -- the district centre, window for window ---------------------------------------------------------
def test_district_has_22_windows_numbered_1_to_22(district):
    assert district.hall.level == "district"
    assert sorted(w.number for w in district.windows) == list(range(1, 23))


def _group_names(cfg, window):
    names = {g.code: g.name for g in cfg.groups}
    return [names[s] for s in window.serves if s in names]


def test_district_five_undifferentiated_windows(district):
    five = [w for w in district.windows if w.name.startswith("无差别综合受理")]
    assert [w.number for w in five] == [1, 2, 3, 4, 5]
    for w in five:
        assert w.zone == "无差别综合受理区" and w.staffing == "bought-in"
        assert set(_group_names(district, w)) == FIVE_GROUPS and len(w.serves) == 5
    # each of them prefers a different one of the five groups
    assert len({w.serves[0] for w in five}) == 5
    assert district.window(1).serves[0] == "social"


def _windows(cfg, *, name=None, zone=None):
    return [w for w in cfg.windows
            if (name is None or name in w.name) and (zone is None or w.zone == zone)]


@pytest.mark.parametrize("name_parts,groups,count", [
    (("跨域代收代办", "综合出件"), {"跨域代收代办", "综合出件"}, 1),
    (("办不成事",), {"“办不成事”反映"}, 1),
    (("一事联办", "跨省通办"), {"一事联办", "跨省通办"}, 1),
    (("帮办代办",), {"帮办代办"}, 3),
    (("项目管理",), {"项目管理"}, 1),
])
def test_district_special_bought_in_windows(district, name_parts, groups, count):
    found = [w for w in district.windows if all(p in w.name for p in name_parts)]
    assert len(found) == count
    for w in found:
        assert w.zone == "无差别综合受理区" and w.staffing == "bought-in"
        assert groups <= set(_group_names(district, w))
        assert _group_names(district, w)[0] in groups      # their own business comes first


def test_district_police_and_livelihood_zones(district):
    police = _windows(district, zone="公安专区")
    assert len(police) == 1 and police[0].staffing == "department"
    assert _group_names(district, police[0]) == ["公安"]
    livelihood = _windows(district, zone="民生服务专区")
    assert len(livelihood) == 2 and all(w.staffing == "department" for w in livelihood)
    served = {g for w in livelihood for g in _group_names(district, w)}
    assert served == {"水电气", "老年证等"}
    assert any("老年证" in w.name for w in livelihood) and any("水电气" in w.name for w in livelihood)


def test_district_seven_intermediary_windows(district):
    mid = _windows(district, zone="民生中介服务专区")
    assert len(mid) == 7
    assert all(w.staffing == "intermediary" and w.name.startswith("中介服务") for w in mid)
    assert [w.number for w in mid] == list(range(16, 23))


def test_district_staffing_split(district):
    assert Counter(w.staffing for w in district.windows) == {"bought-in": 12, "department": 3,
                                                             "intermediary": 7}


# -- matters ----------------------------------------------------------------------------------------
KNOWN_NAMES = ["城乡居民基本养老保险参保登记", "医保异地就医备案", "老年证办理", "个体工商户设立登记", "居住证办理"]


def test_district_has_at_least_40_matters_with_the_known_names(district):
    assert len(district.matters) >= 40
    names = {m.name for m in district.matters}
    for name in KNOWN_NAMES:
        assert name in names, name
    assert len(names) == len(district.matters), "two matters share a name"


def test_every_district_matter_is_complete(district):
    for m in district.matters:
        assert m.prefix and m.prefix.isupper(), m.code
        assert m.kind in ("即办", "承诺", "上报", "联办"), m.code
        assert m.materials and all(s.strip() for s in m.materials), m.code
        assert 0 < m.minutes <= 120, m.code
        assert m.promised_days >= 0
        if m.kind == "即办":
            assert m.promised_days == 0, f"{m.code} is 即办 but promises {m.promised_days} days"
        else:
            assert m.promised_days > 0, f"{m.code} is {m.kind} and must promise a number of days"
        assert "district" in m.levels


def test_kinds_all_used(district):
    assert {m.kind for m in district.matters} == {"即办", "承诺", "上报", "联办"}


def test_known_matters_sit_in_the_right_groups(district):
    by_name = {m.name: m for m in district.matters}
    assert by_name["城乡居民基本养老保险参保登记"].group == "hrss"
    assert by_name["医保异地就医备案"].group == "medins"
    assert by_name["老年证办理"].group == "elderly"
    assert by_name["个体工商户设立登记"].group == "enterprise"
    assert by_name["居住证办理"].group == "police"


def test_one_ticket_letter_per_group(district):
    letters: dict[str, set[str]] = {}
    for m in district.matters:
        letters.setdefault(m.group, set()).add(m.prefix)
    assert all(len(v) == 1 for v in letters.values()), letters
    used = [next(iter(v)) for v in letters.values()]
    assert len(used) == len(set(used)), "two groups share a ticket letter"
    assert not {"I", "O"} & set(used)            # they read as 1 and 0 on a screen


def test_every_group_has_matters_and_a_window(district):
    for g in district.groups:
        assert any(m.group == g.code for m in district.matters), g.code
        assert any(g.code in w.serves for w in district.windows), g.code


# -- street and community ---------------------------------------------------------------------------
def test_street_and_community_sizes(street, community):
    assert street.hall.level == "street" and len(street.windows) == 2
    assert community.hall.level == "community" and len(community.windows) == 1


@pytest.mark.parametrize("level", ["street", "community"])
def test_pushed_down_matters_are_the_districts(district, street, community, level):
    cfg = {"street": street, "community": community}[level]
    own = {m.code: m for m in district.matters}
    for m in cfg.matters:
        assert m.code in own, f"{m.code} is not a district matter"
        assert m == own[m.code], f"{m.code} differs from the district's definition"
        assert level in m.levels
    expected = {m.code for m in district.matters if level in m.levels}
    assert {m.code for m in cfg.matters} == expected
    groups = {g.code: g for g in district.groups}
    for g in cfg.groups:
        assert g == groups[g.code]


def test_queue_policy_is_the_same_everywhere(district, street, community):
    assert district.queue == street.queue == community.queue


# -- errors -----------------------------------------------------------------------------------------
MINIMAL = """\
[hall]
code = "test-hall"
name = "测试大厅"
level = "community"
timezone = "Asia/Shanghai"

[[groups]]
code = "social"
name = "社会事务"

[[groups]]
code = "hrss"
name = "人社"

[[matters]]
code = "SH-001"
name = "最低生活保障申请"
group = "social"
prefix = "S"
kind = "上报"
promised_days = 30
minutes = 20
materials = ["身份证"]

[[matters]]
code = "RS-001"
name = "城乡居民基本养老保险参保登记"
group = "hrss"
prefix = "R"
kind = "即办"
promised_days = 0
minutes = 8
materials = ["身份证", "户口簿"]

[[windows]]
number = 1
name = "综合窗口 1"
zone = "大厅"
serves = ["social", "hrss"]

[[windows]]
number = 2
name = "综合窗口 2"
zone = "大厅"
serves = ["hrss"]
"""


def write(tmp_path, text, name="hall.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path) -> str:
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    msg = str(exc.value)
    assert str(path) in msg, f"the message does not name the file: {msg}"
    return msg


def test_minimal_config_loads(tmp_path):
    cfg = load_config(write(tmp_path, MINIMAL))
    assert [w.number for w in cfg.windows] == [1, 2]
    assert cfg.queue.max_priority_in_row == 3          # defaults apply


def test_unknown_key_in_a_shipped_file_names_file_path_and_near_key(tmp_path):
    text = (CONFIG / "district-centre.toml").read_text(encoding="utf-8")
    assert 'prefix = "S"' in text
    path = write(tmp_path, text.replace('prefix = "S"', 'prefx = "S"', 1), "district-centre.toml")
    msg = error_of(path)
    assert "matters[0].prefx" in msg
    assert "did you mean 'prefix'" in msg


@pytest.mark.parametrize("old,new,where,near", [
    ('level = "community"', 'level = "community"\ntimezon = "Asia/Shanghai"', "hall.timezon", "timezone"),
    ('kind = "上报"', 'knid = "上报"', "matters[0].knid", "kind"),
    ('materials = ["身份证"]', 'material = ["身份证"]', "matters[0].material", "materials"),
    ('serves = ["hrss"]', 'serves = ["hrss"]\nstafing = "department"', "windows[1].stafing", "staffing"),
    ("[[windows]]\nnumber = 1", "[[window]]\nnumber = 1", "window", "windows"),
    ('timezone = "Asia/Shanghai"', 'timezone = "Asia/Shanghai"\n\n[queue]\nmax_priority_in_a_row = 2',
     "queue.max_priority_in_a_row", "max_priority_in_row"),
])
def test_unknown_keys_are_named_with_a_suggestion(tmp_path, old, new, where, near):
    assert old in MINIMAL
    msg = error_of(write(tmp_path, MINIMAL.replace(old, new, 1)))
    assert f"unknown key '{where}'" in msg
    assert f"did you mean '{near}'" in msg


def test_unknown_key_without_a_near_one(tmp_path):
    msg = error_of(write(tmp_path, MINIMAL.replace('zone = "大厅"', 'zone = "大厅"\ncolour = "red"', 1)))
    assert "unknown key 'windows[0].colour'" in msg and "did you mean" not in msg


@pytest.mark.parametrize("old,new,expected", [
    ('serves = ["hrss"]', 'serves = ["hrs"]', ["window 2 serves 'hrs'", "did you mean 'hrss'"]),
    ('serves = ["hrss"]', 'serves = ["hrss", "police"]', ["window 2 serves 'police'",
                                                           "neither a group nor a matter"]),
    ('group = "social"', 'group = "welfare"', ["matter SH-001 names group 'welfare'", "not defined"]),
    ('group = "social"', 'group = "socail"', ["group 'socail'", "did you mean 'social'"]),
    ('serves = ["social", "hrss"]', 'serves = ["hrss"]', ["matter SH-001", "is served by no window"]),
    ("number = 2", "number = 1", ["windows: 1 is defined twice"]),
    ('code = "RS-001"', 'code = "SH-001"', ["matters: 'SH-001' is defined twice"]),
    ('timezone = "Asia/Shanghai"', 'timezone = "Asia/Shangai"', ["hall.timezone", "unknown time zone 'Asia/Shangai'"]),
    ('timezone = "Asia/Shanghai"', 'timezone = "UTC+8"', ["unknown time zone 'UTC+8'"]),
    ('kind = "上报"', 'kind = "立即办"', ["matters[0].kind"]),
    ('prefix = "S"', 'prefix = "s1"', ["matters[0].prefix"]),
    ("number = 2", "number = 0", ["windows[1].number"]),
    ('serves = ["hrss"]', "serves = []", ["windows[1].serves"]),
    ('level = "community"', 'level = "province"', ["hall.level"]),
    ('level = "community"', 'level = "community"\nrollover_hour = 24', ["hall.rollover_hour"]),
    ('code = "SH-001"\n', "", ["missing key 'matters[0].code'"]),
])
def test_bad_references_and_values_are_clear(tmp_path, old, new, expected):
    assert old in MINIMAL
    msg = error_of(write(tmp_path, MINIMAL.replace(old, new, 1)))
    for part in expected:
        assert part in msg, f"{part!r} not in {msg!r}"


def test_opening_hours_are_checked(tmp_path):
    base = MINIMAL.replace('timezone = "Asia/Shanghai"', 'timezone = "Asia/Shanghai"\n\n[hall.opening]\n{}', 1)
    assert "opening" in load_config(write(tmp_path, base.format('mon = "08:30-17:30"'))).hall.model_dump()
    assert "'mun' is not a weekday" in error_of(write(tmp_path, base.format('mun = "08:30-17:30"')))
    assert "is not 'HH:MM-HH:MM'" in error_of(write(tmp_path, base.format('mon = "8-5"')))
    assert "before it opens" in error_of(write(tmp_path, base.format('mon = "17:30-08:30"')))


def test_not_toml_and_missing_file(tmp_path):
    msg = error_of(write(tmp_path, MINIMAL + "\n[[windows]\n"))
    assert "not valid TOML" in msg
    missing = tmp_path / "nope.toml"
    msg = error_of(missing)
    assert "no such file" in msg


def test_parse_config_names_the_source():
    data = tomllib.loads(MINIMAL.replace('kind = "上报"', 'knd = "上报"', 1))
    with pytest.raises(ConfigError) as exc:
        parse_config(data, "somewhere/hall.toml")
    assert str(exc.value).startswith("somewhere/hall.toml: ")


def test_every_problem_is_reported_at_once(tmp_path):
    text = MINIMAL.replace('kind = "上报"', 'knid = "上报"', 1).replace('zone = "大厅"', 'zon = "大厅"', 1)
    msg = error_of(write(tmp_path, text))
    assert "matters[0].knid" in msg and "windows[0].zon" in msg
