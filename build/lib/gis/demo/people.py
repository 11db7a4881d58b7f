"""The demo register's people (人口): household sizes, grid workers, persons with names, ID numbers,
phones and the tags of 四清四掌握.

Everything is drawn as whole numpy arrays from a seeded generator: a million persons take seconds,
and the same seed gives the same register.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from gis.demo.buildings import weighted_pick
from gis.demo.facilities import blank
from gis.demo.names import (
    CHENZHOU_COUNTIES,
    GIVEN_FEMALE,
    GIVEN_MALE,
    MOBILE_PREFIXES,
    OTHER_PROVINCE_COUNTIES,
    SURNAMES,
)

# Household sizes 1-5: the base shares (urban China, ~2.5 persons); tilted to other means.
BASE_SIZE_SHARE = np.array([0.25, 0.30, 0.22, 0.15, 0.08])

# Vocabularies of the person table; the arrays below hold codes into them (-1: none), which pandas
# keeps as categoricals: a million short strings built one by one would dominate the run time.
RELATIONS = ("head", "spouse", "child", "parent", "grandchild")
HEAD, SPOUSE, CHILD, PARENT, GRANDCHILD = range(5)
EMPLOYMENTS = ("employed", "unemployed", "retired", "student", "preschool", "other")
POVERTY = ("dibao", "tekun", "dibao_edge")
KEY_PERSON_SHARE = {
    "community_correction": 0.15, "released_prisoner": 0.25, "severe_mental_disorder": 0.30,
    "drug_rehabilitation": 0.10, "petitioner": 0.12, "at_risk_youth": 0.06, "cult_member": 0.02,
}
RATES = {
    "floating_households": 0.20,  # 流动人口 ~15-25 % of people
    "dibao": 0.02, "tekun": 0.003, "dibao_edge": 0.008,  # of households
    "elderly_alone": 0.03,  # of households: one person aged 70+
    "key_person": 0.005, "disabled": 0.02, "activist": 0.01, "volunteer": 0.05,  # of persons
}


@dataclass
class People:
    household: np.ndarray  # household index
    name: np.ndarray
    id_number: np.ndarray
    phone: np.ndarray  # None for young children
    male: np.ndarray
    birth: np.ndarray  # datetime64[D]
    relation: np.ndarray  # code into RELATIONS
    floating: np.ndarray
    employment: np.ndarray  # code into EMPLOYMENTS
    poverty: np.ndarray  # code into POVERTY (poverty_status codes), -1 for none
    key_person: np.ndarray  # code into KEY_PERSON_SHARE (key_person_category codes), -1 for none
    elderly_alone: np.ndarray
    disabled: np.ndarray
    activist: np.ndarray
    volunteer: np.ndarray


def phones(rng: np.random.Generator, n: int) -> np.ndarray:
    """11-digit mobile numbers (1[3-9]x + 8 digits)."""
    prefix = np.array(MOBILE_PREFIXES)[rng.integers(0, len(MOBILE_PREFIXES), n)]
    return np.strings.add(prefix, np.strings.zfill(rng.integers(0, 100_000_000, n).astype(str), 8))


def person_names(rng: np.random.Generator, male: np.ndarray, surname: np.ndarray | None = None) -> np.ndarray:
    """Names: a surname by frequency, then one or two given-name characters chosen by sex."""
    n = len(male)
    if surname is None:
        surname = random_surnames(rng, n)
    first = np.where(male, np.array(GIVEN_MALE)[rng.integers(0, len(GIVEN_MALE), n)],
                     np.array(GIVEN_FEMALE)[rng.integers(0, len(GIVEN_FEMALE), n)])
    second = np.where(male, np.array(GIVEN_MALE)[rng.integers(0, len(GIVEN_MALE), n)],
                      np.array(GIVEN_FEMALE)[rng.integers(0, len(GIVEN_FEMALE), n)])
    second = np.where(rng.random(n) < 0.72, second, "")
    return np.strings.add(np.strings.add(surname, first), second)


def random_surnames(rng: np.random.Generator, n: int) -> np.ndarray:
    weights = np.array(list(SURNAMES.values()))
    return np.array(list(SURNAMES))[rng.choice(len(SURNAMES), n, p=weights / weights.sum())]


def grid_workers(rng: np.random.Generator, grid_community: np.ndarray) -> tuple[np.ndarray, int]:
    """Worker index of every grid: one worker per grid, but about one in ten serves the next grid of
    the same community too. Returns (worker of each grid, number of workers)."""
    n = len(grid_community)
    shares = np.zeros(n, dtype=bool)
    shares[1:] = (grid_community[1:] == grid_community[:-1]) & (rng.random(n - 1) < 0.2)
    shares[1:] &= ~shares[:-1]  # a worker serves at most two grids
    worker = np.cumsum(~shares) - 1
    return worker, int(worker.max()) + 1


def household_sizes(rng: np.random.Generator, households: int, persons: int) -> np.ndarray:
    """Sizes 1-5 summing to ``persons``: the base shares tilted (exponentially) to the wanted mean."""
    if not households <= persons <= 5 * households:
        raise ValueError("persons must be between 1 and 5 times the households")
    mean, k = persons / households, np.arange(1, 6)
    low, high = -20.0, 20.0
    for _ in range(60):  # bisection on the tilt
        t = (low + high) / 2
        p = BASE_SIZE_SHARE * np.exp(t * (k - 2.5))
        low, high = (t, high) if (p / p.sum() * k).sum() < mean else (low, t)
    sizes = rng.choice(k, households, p=p / p.sum())
    for _ in range(100):  # nudge random households until the total is exact
        diff = persons - int(sizes.sum())
        if diff == 0:
            break
        can = np.flatnonzero(sizes < 5) if diff > 0 else np.flatnonzero(sizes > 1)
        pick = rng.choice(can, min(abs(diff), len(can)), replace=False)
        sizes[pick] += 1 if diff > 0 else -1
    return sizes


def build_people(rng: np.random.Generator, sizes: np.ndarray, reference: np.datetime64) -> People:
    """Members of every household with ages, relations, ID numbers and the tags of 四清四掌握."""
    nh, n = len(sizes), int(sizes.sum())
    hh = np.repeat(np.arange(nh), sizes)
    start = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    member = np.arange(n) - start[hh]  # 0 = head of household

    # Household kinds: floating (流动) households are young renters; some old people live alone.
    floating_h = rng.random(nh) < RATES["floating_households"]
    head_age = np.where(floating_h, 20 + rng.beta(2, 3, nh) * 35, 22 + rng.beta(2, 2.6, nh) * 68)
    singles = np.flatnonzero((sizes == 1) & ~floating_h)
    alone_h = np.zeros(nh, dtype=bool)
    alone_h[singles[weighted_pick(rng, np.ones(len(singles)), round(nh * RATES["elderly_alone"]))]] = True
    head_age[alone_h] = 70 + rng.beta(1.5, 3, int(alone_h.sum())) * 25

    ha = head_age[hh]
    u = rng.random(n)
    relation = np.full(n, CHILD, dtype=np.int8)
    relation[member == 0] = HEAD
    second = member == 1
    relation[second & (u < 0.85)] = SPOUSE
    relation[second & (u >= 0.85) & (ha < 40)] = PARENT
    later = member >= 2
    relation[later & (ha < 50) & (u < 0.1)] = PARENT
    relation[later & (ha >= 50) & (ha < 65) & (u < 0.1)] = PARENT
    relation[later & (ha >= 50) & (ha < 65) & (u >= 0.1) & (u < 0.2)] = GRANDCHILD
    relation[later & (ha >= 65) & (u < 0.6)] = GRANDCHILD
    age = np.select(
        [relation == HEAD, relation == SPOUSE, relation == PARENT, relation == GRANDCHILD],
        [ha, ha + rng.normal(-2, 3, n), ha + rng.uniform(22, 32, n), ha - rng.uniform(46, 62, n)],
        ha - rng.uniform(22, 36, n))
    # A head too young for the drawn gap gets a small child; nobody is older than 99. Drawn, not
    # clipped: a clip would give hundreds of people one birth day (and run out of ID sequences).
    too_young, too_old = age < 0, age > 99
    age[too_young] = rng.uniform(0, 1, int(too_young.sum())) * np.maximum(0.5, ha[too_young] - 18)
    age[too_old] = rng.uniform(88, 99, int(too_old.sum()))

    head_male = rng.random(nh) < 0.62
    male = rng.random(n) < 0.51
    male[member == 0] = head_male
    male[relation == SPOUSE] = ~head_male[hh[relation == SPOUSE]]
    # Children take the head's surname (or the spouse's: the father's, mostly), parents half the time.
    surname = random_surnames(rng, n)
    head_surname = surname[start]
    inherit = ((relation == CHILD) | (relation == GRANDCHILD)) & (rng.random(n) < 0.85)
    inherit |= (relation == PARENT) & male
    surname[inherit] = head_surname[hh[inherit]]
    name = person_names(rng, male, surname)

    days = np.floor(age * 365.2425).astype(np.int64)
    birth = reference - days.astype("timedelta64[D]")
    floating = floating_h[hh]
    id_number = id_numbers(rng, birth, male, floating, hh)
    phone = blank(phones(rng, n), (age < 14) | (rng.random(n) < 0.05))

    employment = _employment(rng, age, male, floating)
    poverty = np.full(n, -1, dtype=np.int8)
    registered_h = np.flatnonzero(~floating_h)
    taken = np.zeros(nh, dtype=bool)
    for code, pool in ((POVERTY.index("tekun"), singles), (POVERTY.index("dibao"), registered_h),
                       (POVERTY.index("dibao_edge"), registered_h)):
        free = pool[~taken[pool]]
        chosen = free[weighted_pick(rng, np.ones(len(free)), round(nh * RATES[POVERTY[code]]))]
        taken[chosen] = True
        in_h = np.isin(hh, chosen)
        poverty[in_h] = code

    key_person = np.full(n, -1, dtype=np.int8)
    total = round(n * RATES["key_person"])
    counts = rng.multinomial(total, np.array(list(KEY_PERSON_SHARE.values())))
    for code, (category, k) in enumerate(zip(KEY_PERSON_SHARE, counts, strict=True)):
        eligible = ((age >= 14) & (age < 26)) if category == "at_risk_youth" else (age >= 18)
        weights = (eligible & (key_person < 0)).astype(float)
        key_person[weighted_pick(rng, weights, int(k))] = code

    disabled = _flag(rng, 1 + age / 25, RATES["disabled"], n)
    activist_w = np.where(age >= 30, np.where((age >= 50) & (age < 76), 3.0, 1.0), 0.0)
    volunteer_w = np.where((age >= 16) & (age < 76), np.where((age < 23) | (age >= 55), 2.0, 1.0), 0.0)
    return People(
        household=hh, name=name, id_number=id_number, phone=phone, male=male, birth=birth,
        relation=relation, floating=floating, employment=employment, poverty=poverty,
        key_person=key_person, elderly_alone=alone_h[hh], disabled=disabled,
        activist=_flag(rng, activist_w, RATES["activist"], n),
        volunteer=_flag(rng, volunteer_w, RATES["volunteer"], n),
    )


def _flag(rng: np.random.Generator, weights: np.ndarray, rate: float, n: int) -> np.ndarray:
    flag = np.zeros(n, dtype=bool)
    flag[weighted_pick(rng, np.asarray(weights, dtype=float), round(n * rate))] = True
    return flag


def _employment(rng: np.random.Generator, age: np.ndarray, male: np.ndarray, floating: np.ndarray
                ) -> np.ndarray:
    """Employment (codes into EMPLOYMENTS) by age: preschool, student, working age (most employed),
    retired from 55 (women) or 60 (men)."""
    employed, unemployed, retired, student, preschool, other = range(len(EMPLOYMENTS))
    u = rng.random(len(age))
    retire_age = np.where(male, 60, 55)
    working = np.where(u < np.where(floating, 0.88, 0.76), employed,
                       np.where(u < np.where(floating, 0.95, 0.83), unemployed, other))
    young = np.select([u < 0.55, u < 0.9, u < 0.95], [student, employed, unemployed], other)
    old = np.select([u < 0.82, u < 0.9], [retired, employed], other)
    return np.select([age < 6, age < 18, age < 23, age < retire_age],
                     [preschool, student, young, working], old).astype(np.int8)


def id_numbers(rng: np.random.Generator, birth: np.ndarray, male: np.ndarray, floating: np.ndarray,
               household: np.ndarray) -> np.ndarray:
    """Valid, distinct 18-digit ID numbers (GB 11643): region, birth date, sequence with the sex in
    its parity, checksum. Registered residents mostly carry a Chenzhou code, the floating population
    another province's; members of a household mostly share the head's region."""
    n = len(birth)
    local = np.array(list(CHENZHOU_COUNTIES), dtype=np.int64)
    local_p = np.array(list(CHENZHOU_COUNTIES.values()))
    other = np.array(list(OTHER_PROVINCE_COUNTIES), dtype=np.int64)
    other_p = np.array(list(OTHER_PROVINCE_COUNTIES.values()))
    nh = int(household.max()) + 1 if n else 0
    h_local = local[rng.choice(len(local), nh, p=local_p / local_p.sum())]
    h_other = other[rng.choice(len(other), nh, p=other_p / other_p.sum())]
    own = np.where(floating, other[rng.choice(len(other), n, p=other_p / other_p.sum())],
                   local[rng.choice(len(local), n, p=local_p / local_p.sum())])
    region = np.where(rng.random(n) < 0.8, np.where(floating, h_other[household], h_local[household]), own)
    ymd = pd.DatetimeIndex(birth)
    date_part = (ymd.year * 10_000 + ymd.month * 100 + ymd.day).to_numpy().astype(np.int64)
    base = region * 10**11 + date_part * 1000
    seq = rng.integers(0, 500, n) * 2 + male
    for _ in range(50):  # re-draw the sequence of duplicates until every number is distinct
        first17 = base + seq
        dup = pd.Series(first17).duplicated().to_numpy()
        if not dup.any():
            break
        seq[dup] = rng.integers(0, 500, int(dup.sum())) * 2 + male[dup]
    else:
        raise RuntimeError("could not draw distinct ID numbers")
    # gis.codes.id_number_check_digit, vectorised (the tests check every number with gis.codes):
    # the weighted digit sum, one digit position at a time to keep memory flat.
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = np.zeros(n, dtype=np.int64)
    for position, weight in enumerate(weights):
        total += (first17 // 10 ** (16 - position)) % 10 * weight
    check = np.array(list("10X98765432"))[total % 11]
    return np.strings.add(first17.astype(str), check)
