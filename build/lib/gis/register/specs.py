"""Importable layers of the register (一册): households and their persons, with the Chinese words
(性别, 与户主关系, 户籍类型, 就业状况) taken for each vocabulary's codes."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from gis.areas import by_grid_code
from gis.codes import birth_dates_and_sexes, id_number_problems, normalise_id_number, phone_problem
from gis.errors import Problem
from gis.interop.layerspec import Field, LayerSpec


def _vocabulary(mapping: dict[str, str]) -> Callable[[str], str]:
    """A normaliser that maps synonyms (Chinese, upper case) to the stored code."""
    lowered = {k.lower(): v for k, v in mapping.items()}

    def normalise(value: str) -> str:
        return lowered.get(value.strip().lower(), value.strip())

    return normalise


def _id_number_rules(typed: pd.DataFrame) -> list[Problem]:
    """Birth date and sex are written in the ID number: derive them when absent, refuse a mismatch."""
    problems: list[Problem] = []
    ids = typed["id_number"]
    known = ids.notna()
    known[known] = id_number_problems(ids[known]).isna()
    if not known.any():
        return problems
    born, sex = birth_dates_and_sexes(ids[known].astype(str))
    for name, derived in (("birth_date", born), ("sex", sex)):
        given = typed.loc[known, name]
        clash = given.notna() & (given != derived)
        for row in given.index[clash.to_numpy()]:
            problems.append(Problem(name, f"{given.at[row]} disagrees with the ID number, which says "
                                          f"{derived.at[row]}", int(row)))
        column = typed[name].astype(object)
        column[known & column.isna()] = derived
        typed[name] = column
    return problems


HOUSEHOLDS = LayerSpec(
    name="households", table="household", geometry="point",
    description="Households (住户): address, building, unit, room and location; placed in a grid",
    fields=(
        Field("address", required=True, aliases=("地址", "住址")),
        Field("building", aliases=("楼栋", "楼号")),
        Field("unit", aliases=("单元",)),
        Field("room", aliases=("房号", "门牌号", "室")),
    ),
    reports_placement=True,
    # Placement is set-based inside the same statement and gives the answers of grid_for_point()
    # (tests/importing/test_register.py compares them), but joins the other way round: each grid
    # scans the staging GiST index for its points, instead of one grid-index lookup per household.
    # At 1M households x 2,000 grids this is the difference between b/a = 3.5 and ~2 (see
    # tests/bench_import.py). The report is read from staging, not from RETURNING: materialising a
    # million returned rows cost more than reading the staged ones again (measured, as was
    # dropping an ORDER BY geometry that did not make the index inserts cheaper).
    insert_sql="""
        WITH placed AS (
            SELECT s.row_no, min(g.code) AS grid_code,
                   CASE WHEN count(*) > 1 OR bool_or(NOT ST_Contains(g.geom, s.geom))
                        THEN 'border'::grid_placement ELSE 'inside'::grid_placement END AS placement
            FROM grid g JOIN staging s ON ST_Intersects(g.geom, s.geom)
            GROUP BY s.row_no),
        ins AS (
            INSERT INTO household (ref, address, building, unit, room, grid_code, placement, geom)
            SELECT s.ref, s.address, s.building, s.unit, s.room, p.grid_code,
                   coalesce(p.placement, 'outside'), s.geom
            FROM staging s LEFT JOIN placed p ON p.row_no = s.row_no)
        SELECT r.placement::text, count(*),
               array_agg(coalesce(r.ref, 'row ' || r.row_no) ORDER BY r.ref, r.row_no)
                   FILTER (WHERE r.placement <> 'inside')
        FROM (SELECT s.ref, s.row_no, coalesce(p.placement, 'outside') AS placement
              FROM staging s LEFT JOIN placed p ON p.row_no = s.row_no) r
        GROUP BY r.placement ORDER BY r.placement""",
    export_sql="SELECT ref, address, building, unit, room, grid_code, placement::text AS placement, geom "
               "FROM household WHERE " + by_grid_code("grid_code") + " ORDER BY ref, id",
)

_SEX = {"男": "M", "女": "F", "male": "M", "female": "F", "m": "M", "f": "F"}
_RELATION = {"户主": "head", "本人": "head", "配偶": "spouse", "妻": "spouse", "夫": "spouse",
             "子女": "child", "子": "child", "女": "child", "儿子": "child", "女儿": "child",
             "父母": "parent", "父亲": "parent", "母亲": "parent", "孙子女": "grandchild",
             "孙子": "grandchild", "孙女": "grandchild", "兄弟姐妹": "sibling", "其他": "other"}
_RESIDENCE = {"户籍": "registered", "户籍人口": "registered", "常住": "registered",
              "流动": "floating", "流动人口": "floating"}
_EMPLOYMENT = {"在业": "employed", "就业": "employed", "在职": "employed", "失业": "unemployed",
               "无业": "unemployed", "退休": "retired", "离退休": "retired", "学生": "student",
               "在校": "student", "学龄前": "preschool", "其他": "other"}

PERSONS = LayerSpec(
    name="persons", table="person", geometry=None,
    description="Persons (人口) of a household, with the tags of 四清四掌握",
    fields=(
        Field("household_ref", required=True, aliases=("household", "户编号", "住户编号")),
        Field("name", required=True, aliases=("姓名",)),
        Field("id_number", unique=True, normalise=normalise_id_number, check_column=id_number_problems,
              aliases=("身份证号", "身份证号码", "公民身份号码")),
        Field("phone", check=phone_problem, aliases=("电话", "手机", "联系电话")),
        Field("sex", choices=("M", "F"), normalise=_vocabulary(_SEX), aliases=("性别",)),
        Field("birth_date", kind="date", aliases=("出生日期", "生日")),
        Field("relation", choices=("head", "spouse", "child", "parent", "grandchild", "sibling", "other"),
              normalise=_vocabulary(_RELATION), aliases=("与户主关系", "关系")),
        Field("residence", choices=("registered", "floating"), normalise=_vocabulary(_RESIDENCE),
              aliases=("户籍类型", "人口类型")),
        Field("employment", choices=("employed", "unemployed", "retired", "student", "preschool", "other"),
              normalise=_vocabulary(_EMPLOYMENT), aliases=("就业状况", "就业")),
        Field("poverty", aliases=("困难类型", "贫困类型", "低保")),
        Field("key_person", aliases=("重点人员类别", "重点人员")),
        Field("elderly_alone", kind="bool", aliases=("独居老人", "空巢独居")),
        Field("disabled", kind="bool", aliases=("残疾", "残疾人")),
        Field("activist", kind="bool", aliases=("积极分子",)),
        Field("volunteer", kind="bool", aliases=("志愿者",)),
    ),
    prepare=_id_number_rules,
    # Vocabularies are data: a code or its Chinese name is accepted.
    check_sql="""
        SELECT s.row_no, 'household_ref', 'household ' || s.household_ref || ' is not stored'
        FROM staging s WHERE NOT EXISTS (SELECT 1 FROM household h WHERE h.ref = s.household_ref)
        UNION ALL
        SELECT s.row_no, 'poverty', s.poverty || ' is not a poverty status (' ||
               (SELECT string_agg(code || '/' || name_zh, ', ' ORDER BY code) FROM poverty_status) || ')'
        FROM staging s WHERE s.poverty IS NOT NULL AND NOT EXISTS
              (SELECT 1 FROM poverty_status v WHERE s.poverty IN (v.code, v.name_zh, v.name_en))
        UNION ALL
        SELECT s.row_no, 'key_person', s.key_person || ' is not a key-person category (' ||
               (SELECT string_agg(code || '/' || name_zh, ', ' ORDER BY code) FROM key_person_category) || ')'
        FROM staging s WHERE s.key_person IS NOT NULL AND NOT EXISTS
              (SELECT 1 FROM key_person_category v WHERE s.key_person IN (v.code, v.name_zh, v.name_en))
        ORDER BY 1""",
    insert_sql="""
        WITH s AS (SELECT s.*, nextval(pg_get_serial_sequence('person', 'id')) AS id FROM staging s),
        p AS (INSERT INTO person (id, ref, household_id, name, id_number, phone, sex, birth_date,
                                  relation, residence, employment, poverty,
                                  elderly_alone, disabled, activist, volunteer)
              OVERRIDING SYSTEM VALUE
              SELECT s.id, s.ref, h.id, s.name, s.id_number, s.phone, s.sex, s.birth_date,
                     coalesce(s.relation, 'other'), coalesce(s.residence, 'registered'), s.employment,
                     (SELECT v.code FROM poverty_status v WHERE s.poverty IN (v.code, v.name_zh, v.name_en)),
                     coalesce(s.elderly_alone, false), coalesce(s.disabled, false),
                     coalesce(s.activist, false), coalesce(s.volunteer, false)
              FROM s JOIN household h ON h.ref = s.household_ref ORDER BY s.row_no)
        INSERT INTO key_person (person_id, category)
        SELECT s.id, v.code
        FROM s JOIN key_person_category v ON s.key_person IN (v.code, v.name_zh, v.name_en)
        """,
    # The birth date is written only for persons without an ID number: digits 7-14 of an ID number are
    # the date, which a masked export hides (the importer derives the date from a full ID number again).
    export_sql="""
        SELECT p.ref, h.ref AS household_ref, p.name, p.id_number, p.phone, p.sex,
               CASE WHEN p.id_number IS NULL THEN p.birth_date END AS birth_date,
               extract(year FROM p.birth_date)::int AS birth_year, p.relation, p.residence, p.employment,
               p.poverty, k.category AS key_person,
               p.elderly_alone, p.disabled, p.activist, p.volunteer
        FROM person p JOIN household h ON h.id = p.household_id
        LEFT JOIN key_person k ON k.person_id = p.id
        WHERE """ + by_grid_code("h.grid_code") + " ORDER BY p.ref, p.id",
)

REGISTER_LAYERS: dict[str, LayerSpec] = {s.name: s for s in (HOUSEHOLDS, PERSONS)}
