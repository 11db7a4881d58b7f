"""Cells a spreadsheet will not run: the one place every CSV and XLSX the service writes goes through.

Excel, WPS and LibreOffice run a CSV cell that starts with = + - @ (or a tab or carriage return,
which they skip before looking) as a formula: ``=HYPERLINK(...)`` in a household's address would
run on the desk of whoever opens the register. A CSV cell cannot say "this is text", so such a text
is written with a leading apostrophe, which the spreadsheets show as text and hide. In XLSX a cell
has a type: openpyxl stores a text starting with "=" as a formula unless told otherwise, so every
text cell is typed as a string here. The importer takes the apostrophe off again (``unquoted``), so
an exported file imports back to the same values.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"


def neutralised(value: Any) -> Any:
    """A CSV cell value that no spreadsheet runs: a text starting like a formula gets an apostrophe.
    Numbers, dates and booleans are values, not text, and are left alone."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return QUOTE + value
    return value


def unquoted(value: str) -> str:
    """The inverse of ``neutralised`` for a text read back from a CSV or XLSX file."""
    if value.startswith(QUOTE) and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


def csv_text(header: Sequence[Any] | None, rows: Iterable[Sequence[Any]],
             lineterminator: str = "\r\n") -> str:
    """CSV text (RFC 4180 quoting) with every cell neutralised, the header included."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=lineterminator)
    if header is not None:
        writer.writerow([neutralised(v) for v in header])
    for row in rows:
        writer.writerow([neutralised(v) for v in row])
    return out.getvalue()


def frame_csv_text(frame: pd.DataFrame) -> str:
    """A data frame as CSV text, every text cell (and header) neutralised."""
    values = frame.astype(object).where(frame.notna(), None)
    rows = ([None if _missing(v) else v for v in row] for row in values.itertuples(index=False, name=None))
    return csv_text([str(c) for c in frame.columns], rows)


def _missing(value: Any) -> bool:
    try:
        return value is None or bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def append_row(sheet: Worksheet, values: Sequence[Any]) -> None:
    """Append a row to an openpyxl sheet with every text stored as text, never as a formula."""
    values = list(values)
    sheet.append(values)
    # openpyxl types a text starting with "=" as a formula ("f"); every other text is already "s".
    # The row just appended is _current_row (max_row would scan every cell of the sheet, per row).
    row = sheet._current_row
    for column, value in enumerate(values, start=1):
        if isinstance(value, str) and value.startswith("="):
            sheet.cell(row=row, column=column).data_type = "s"


def frame_xlsx_bytes(frame: pd.DataFrame, sheet_name: str) -> bytes:
    """A data frame as a one-sheet workbook: a header row, then the rows, text kept as text."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = sheet_name[:31]
    append_row(sheet, [str(c) for c in frame.columns])
    values = frame.astype(object).where(frame.notna(), None)
    for row in values.itertuples(index=False, name=None):
        append_row(sheet, [None if _missing(v) else v for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
