"""Codes and numbers with a structure: administrative and grid codes, ID numbers (身份证号), phones."""

from __future__ import annotations

import re
from datetime import date

import numpy as np
import pandas as pd

_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_CHECK = "10X98765432"
_ID_RE = re.compile(r"^[1-9]\d{16}[\dX]$")
# The CHECK constraints on person.phone (migration 001) and responsible_unit.phone (migration 003).
_PHONE = re.compile(r"^[0-9+\-]{5,20}$")
_PHONE_WITH_SPACES = re.compile(r"^[0-9+\- ]{5,20}$")


def phone_problem(value: str, *, spaces: bool = False) -> str | None:
    """Why a phone number is refused, or None: 5-20 digits, + and -; with ``spaces`` also spaces."""
    if spaces:
        return None if _PHONE_WITH_SPACES.match(value) else "must be 5-20 digits (+, - and spaces allowed)"
    return None if _PHONE.match(value) else "must be 5-20 digits (+ and - allowed)"


def normalise_id_number(value: str) -> str:
    """An ID number as stored: no surrounding blanks, the check character X in upper case."""
    return value.strip().upper()


def id_number_problem(value: str) -> str | None:
    """Why an 18-digit resident ID number (GB 11643-1999) is invalid, or None if it is valid."""
    value = normalise_id_number(value)
    if not _ID_RE.match(value):
        return "must be 17 digits followed by a digit or X"
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return f"birth date {value[6:14]} does not exist"
    expected = id_number_check_digit(value[:17])
    if value[17] != expected:
        return f"checksum digit is {value[17]}, expected {expected}"
    return None


def id_number_check_digit(first17: str) -> str:
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def birth_date_and_sex(id_number: str) -> tuple[date, str]:
    """The birth date and sex (odd 17th digit = male) an ID number encodes."""
    born = date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    return born, "M" if int(id_number[16]) % 2 else "F"


def community_code_problem(code: str) -> str | None:
    if not re.fullmatch(r"[1-9]\d{11}", code):
        return "must be 12 digits: 6 county (GB/T 2260) + 3 street + 3 community"
    if code[6:9] == "000" or code[9:12] == "000":
        return "street and community parts must not be 000"
    return None


def grid_code_problem(code: str, community_code: str | None = None) -> str | None:
    if not re.fullmatch(r"[1-9]\d{14}", code):
        return "must be 15 digits: 12-digit community code + 3-digit grid sequence"
    if (problem := community_code_problem(code[:12])) is not None:
        return f"community part {code[:12]} {problem}"
    if code[12:] == "000":
        return "grid sequence must not be 000"
    if community_code is not None and not code.startswith(community_code):
        return f"must start with its community's code {community_code}"
    return None


def mask_id_number(value: str | None) -> str | None:
    """430503********1234: region and last four kept, birth date hidden."""
    if not value:
        return value
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str | None) -> str | None:
    if not value:
        return value
    return value[:3] + "*" * max(len(value) - 7, 0) + value[-4:] if len(value) > 7 else "*" * len(value)


def id_number_problems(values: pd.Series) -> pd.Series:
    """``id_number_problem`` over a whole column at numpy speed (a million persons in about a second).

    Returns the reason for each invalid value and None for each valid one (index kept).
    """
    text = values.astype(str).str.strip().str.upper()
    reasons = pd.Series(None, index=values.index, dtype=object)
    shaped = text.str.fullmatch(r"[1-9]\d{16}[\dX]").fillna(False).astype(bool)
    reasons[~shaped] = "must be 17 digits followed by a digit or X"
    ok = text[shaped]
    if ok.empty:
        return reasons.astype(object).where(reasons.notna(), None)
    born = pd.to_datetime(ok.str[6:14], format="%Y%m%d", errors="coerce")
    bad_date = born.isna().to_numpy()
    reasons[ok.index[bad_date]] = "birth date " + ok[bad_date].str[6:14] + " does not exist"
    digits = np.frombuffer("".join(ok.str[:17]).encode("ascii"), dtype=np.uint8).reshape(-1, 17) - 48
    expected = np.array(list(_CHECK))[(digits.astype(np.int64) @ np.array(_WEIGHTS)) % 11]
    given = ok.str[17].to_numpy(dtype=str)
    bad_sum = (given != expected) & ~bad_date
    reasons[ok.index[bad_sum]] = [f"checksum digit is {g}, expected {e}"
                                  for g, e in zip(given[bad_sum], expected[bad_sum], strict=True)]
    return reasons.astype(object).where(reasons.notna(), None)


def birth_dates_and_sexes(valid_ids: pd.Series) -> tuple[pd.Series, pd.Series]:
    """``birth_date_and_sex`` over a column of valid ID numbers."""
    born = pd.to_datetime(valid_ids.str[6:14], format="%Y%m%d").dt.date
    odd = valid_ids.str[16].astype(int) % 2 == 1
    return born, odd.map({True: "M", False: "F"})
