"""Tables as offices keep them (台账): the sheet, the header row(s) and the delimiter of CSV and XLSX.

A ledger exported from an office system rarely starts with its header: row 1 is a merged title
("XX社区住户台账"), rows 2-3 a two-row header whose upper cells group the lower ones (户主信息 over
姓名/身份证号). The header is the first row whose cells name the layer's fields (or ``--header-row``
says where it is); a two-row header gives columns "group/name", matched by their lower cell too.
Every frame read here says in ``attrs["read_as"]`` which sheet, header row and delimiter were used,
so that an error about missing columns can show them.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import pandas as pd

from gis.errors import InvalidInput
from gis.interop import filecheck
from gis.interop.shown import shown

HEADER_SCAN_ROWS = 20  # a header below this is not a header
DELIMITERS = ",;\t|"
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\U00020000-\U0003ffff]")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class HeaderRows:
    """Where the header is: ``first`` 0-based among the rows read, ``count`` 1 or 2 rows."""

    first: int
    count: int

    def shown(self) -> str:
        first = self.first + 1
        return f"header row {first}" if self.count == 1 else f"header rows {first}-{first + 1}"


def parse_header_row(value: str | int | None) -> HeaderRows | None:
    """``--header-row``: "2" (one row, 1-based), "2-3" or "2:3" (a two-row header); None: detect."""
    if value is None or str(value).strip() == "":
        return None
    match = re.fullmatch(r"\s*(\d+)\s*(?:[-:]\s*(\d+)\s*)?", str(value))
    first = int(match.group(1)) if match else 0
    last = int(match.group(2)) if match and match.group(2) else first
    if match is None or first < 1 or last not in (first, first + 1):
        raise InvalidInput.one("header_row", f"{shown(str(value))} must be a row number N (1 = the first "
                                             "row) or N-M for a two-row header, e.g. 2-3")
    return HeaderRows(first - 1, last - first + 1)


def header_text(cell: object) -> str:
    """A header cell as a column name: trimmed; Chinese labels without the spaces and line breaks that
    ledgers put in for alignment ("姓  名", "身份证\\n号码")."""
    text = "" if cell is None or (isinstance(cell, float) and pd.isna(cell)) else str(cell).strip()
    return _SPACE.sub("", text) if _CJK.search(text) else _SPACE.sub(" ", text)


def _key(text: str) -> str:
    return text.strip().lower()


def _matches(row: list[str], known: frozenset[str]) -> int:
    """How many cells of ``row`` name a known column (whole, or the part after a group's "/")."""
    keys = [_key(header_text(c)) for c in row]
    return sum(1 for k in keys if k and (k in known or k.rsplit("/", 1)[-1] in known))


def _filled(row: list[str]) -> list[bool]:
    return [bool(header_text(c)) for c in row]


def _is_lower_header(upper: list[str], lower: list[str], known: frozenset[str]) -> bool:
    """``lower`` completes ``upper``: it names columns under cells left empty by a merged group."""
    fills_gap = any(not u and l_ for u, l_ in zip(_filled(upper), _filled(lower), strict=False))
    return fills_gap and _matches(lower, known) > 0


def _is_group_row(upper: list[str], lower: list[str], known: frozenset[str]) -> bool:
    """``upper`` only groups the named columns of ``lower`` (no field names of its own; a title row
    has a single cell and is no group row)."""
    up, low = _filled(upper), _filled(lower)
    over_names = all(low[i] for i, u in enumerate(up) if u and i < len(low))
    return 2 <= sum(up) < sum(low) and over_names and _matches(upper, known) == 0


def detect_header(rows: list[list[str]], known: frozenset[str]) -> HeaderRows:
    """The first row naming at least two known columns (else one, else the first non-empty row),
    widened to two rows when a group row sits above it or a name row below it."""
    scan = rows[:HEADER_SCAN_ROWS]
    scores = [_matches(row, known) for row in scan]
    first = next((i for i, s in enumerate(scores) if s >= 2), None)
    if first is None:
        first = next((i for i, s in enumerate(scores) if s >= 1), None)
    if first is None:
        first = next((i for i, row in enumerate(scan) if any(_filled(row))), 0)
    if first + 1 < len(rows) and _is_lower_header(rows[first], rows[first + 1], known):
        return HeaderRows(first, 2)
    if first > 0 and _is_group_row(rows[first - 1], rows[first], known):
        return HeaderRows(first - 1, 2)
    return HeaderRows(first, 1)


def column_names(rows: list[list[str]], header: HeaderRows, width: int) -> list[str]:
    """Column names from the header row(s): "group/name" under a group cell, unique, none empty."""
    def cell(r: int, c: int) -> str:
        row = rows[r] if r < len(rows) else []
        return header_text(row[c]) if c < len(row) else ""

    names: list[str] = []
    group = ""
    for c in range(width):
        upper = cell(header.first, c)
        if header.count == 1:
            names.append(upper)
            continue
        lower = cell(header.first + 1, c)
        if upper:
            group = upper if lower else ""  # a label with names below opens a group; alone it was merged down
        if lower and group and lower != group:
            names.append(f"{group}/{lower}")
        else:
            names.append(lower or upper)
    seen: dict[str, int] = {}
    unique = []
    for c, name in enumerate(names):
        name = name or f"column {c + 1}"
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name}.{seen[name] - 1}")
    return unique


def _top_rows(grid: pd.DataFrame) -> list[list[str]]:
    """The rows a header is looked for in (and the one below it)."""
    return grid.iloc[:HEADER_SCAN_ROWS + 1].to_numpy(dtype=object).tolist()


def _frame(grid: pd.DataFrame, header: HeaderRows, read_as: str) -> pd.DataFrame:
    """The rows below the header of a grid of text cells, named; trailing empty rows left out."""
    if header.first + header.count > len(grid):
        raise InvalidInput.one("header_row", f"{header.shown()} is past the end: {read_as} has "
                                             f"{len(grid)} rows")
    rows = grid.iloc[:header.first + header.count].to_numpy(dtype=object).tolist()
    data = grid.iloc[header.first + header.count:]
    filled = data.apply(lambda column: column.astype(str).str.strip().ne("")).any(axis=1).to_numpy()
    last = int(filled.nonzero()[0][-1]) + 1 if filled.any() else 0
    frame = data.iloc[:last].reset_index(drop=True)
    frame.columns = column_names(rows, header, grid.shape[1])
    frame.attrs["read_as"] = read_as + f", {header.shown()}"
    return frame


# --- CSV ------------------------------------------------------------------------------------------

def _consistency(lines: list[str], delimiter: str) -> tuple[int, int]:
    """(rows sharing the most common field count, that count) for a delimiter; (0, 1) if it splits nothing."""
    counts = Counter(len(row) for row in csv.reader(lines, delimiter=delimiter) if row)
    fields, rows = max(counts.items(), key=lambda item: (item[1], item[0]), default=(1, 0))
    return (rows, fields) if fields > 1 else (0, 1)


def sniff_delimiter(text: str) -> str:
    """The delimiter of a CSV text among , ; tab and |, from its first lines (comma when unsure).

    csv.Sniffer's answer is taken when it splits the lines as consistently as the best candidate:
    alone it is misled by a title row and by commas inside the values of a semicolon file
    ("人民路1号, 东门")."""
    lines = text[:64 * 1024].splitlines()[:HEADER_SCAN_ROWS]
    scores = {d: _consistency(lines, d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: scores[d])  # ties: the earlier of , ; tab |
    try:
        sniffed = csv.Sniffer().sniff("\n".join(lines), delimiters=DELIMITERS).delimiter
    except csv.Error:
        sniffed = best
    if scores[best][0] == 0:
        return ","
    return sniffed if scores[sniffed] == scores[best] else best


def read_csv_text(path: Path, text: str, encoding: str, header_row: HeaderRows | None,
                  known: frozenset[str]) -> pd.DataFrame:
    """A CSV text as a frame: its delimiter sniffed, its header found (or given)."""
    delimiter = sniff_delimiter(text)
    try:
        first = list(islice(csv.reader(io.StringIO(text), delimiter=delimiter, skipinitialspace=True),
                            HEADER_SCAN_ROWS + 2))
        first = [r for r in first if r]  # blank lines are no rows (pandas skips them too)
        width = max([len(r) for r in first] + [1])
        # The title row above a header has fewer cells: every row is read as ``width`` cells.
        grid = pd.read_csv(io.StringIO(text), sep=delimiter, header=None, names=range(width), dtype=str,
                           keep_default_na=False, skipinitialspace=True, index_col=False)
    except (csv.Error, pd.errors.ParserError) as exc:
        raise filecheck.refuse(path, f"not a readable CSV table ({shown(str(exc).strip(), 120)})") from None
    except pd.errors.EmptyDataError:
        grid = pd.DataFrame()
    if not len(grid):
        raise filecheck.refuse(path, "not a readable CSV table (the file is empty)")
    header = header_row or detect_header(_top_rows(grid), known)
    return _frame(grid, header, f"{_DELIMITER_NAMES[delimiter]}-separated {encoding} text")


# --- XLSX -----------------------------------------------------------------------------------------

def _sheet_grid(book: pd.ExcelFile, sheet: str, nrows: int | None = None) -> pd.DataFrame:
    grid = pd.read_excel(book, sheet_name=sheet, header=None, dtype=str, keep_default_na=False, nrows=nrows)
    return grid.fillna("").set_axis(range(grid.shape[1]), axis=1)


def _chosen_sheet(names: list[str], sheet: str | None) -> str | None:
    """``--sheet``: a sheet's name, else its 1-based number; None: choose by content."""
    if sheet is None or not str(sheet).strip():
        return None
    wanted = str(sheet).strip()
    if wanted in names:
        return wanted
    if wanted.isdigit() and 1 <= int(wanted) <= len(names):
        return names[int(wanted) - 1]
    listed = ", ".join(repr(n) for n in names)
    raise InvalidInput.one("sheet", f"no sheet {shown(wanted)}: the workbook has {listed} "
                                    f"(a name, or a number 1-{len(names)})")


def read_xlsx(path: Path, sheet: str | None, header_row: HeaderRows | None,
              known: frozenset[str]) -> pd.DataFrame:
    """The sheet named (else the first whose first rows name known columns, else the first), its
    header found or given."""
    filecheck.check_xlsx(path)  # bounded: the work a workbook asks for stays in proportion to its size
    try:
        with pd.ExcelFile(path, engine="openpyxl") as book:
            names = [str(n) for n in book.sheet_names]
            chosen = _chosen_sheet(names, sheet)
            if chosen is None:
                chosen = next((n for n in names if any(
                    _matches(r, known) for r in _top_rows(_sheet_grid(book, n, HEADER_SCAN_ROWS)))), names[0])
            grid = _sheet_grid(book, chosen)
    except InvalidInput:
        raise
    except Exception as exc:  # noqa: BLE001 - openpyxl raises zip, XML, key and value errors alike
        raise filecheck.refuse(path, f"not a readable XLSX workbook ({type(exc).__name__})") from None
    if grid.empty:
        raise InvalidInput.one("file", f"{path.name}: sheet {chosen!r} is empty")
    header = header_row or detect_header(_top_rows(grid), known)
    return _frame(grid, header, f"sheet {chosen!r} ({names.index(chosen) + 1} of {len(names)})")


def known_keys(names: Iterable[str]) -> frozenset[str]:
    return frozenset(_key(header_text(n)) for n in names if n)
