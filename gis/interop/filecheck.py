"""What an import file really is: its extension and its content must name the same format.

GDAL picks a driver by content, whatever the extension says: a ".geojson" holding an OGR VRT makes
GDAL open any file or URL the VRT names, and validation errors then echo its rows. So nothing is
handed to GDAL until these checks agree with the extension, and GDAL is then told which driver to
use (readers.py). The checks read headers and archive directories, not whole files, and bound the
work a small file can ask for (a zip or a workbook that expands a thousandfold).
"""

from __future__ import annotations

import mmap
import re
import shutil
import stat
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from xml.etree.ElementTree import ParseError, iterparse

from gis.errors import InvalidInput

SQLITE_MAGIC = b"SQLite format 3\x00"
# PRAGMA application_id of a GeoPackage ("GPKG"; "GP10"/"GP11" before version 1.2).
GPKG_APPLICATION_IDS = {b"GPKG", b"GP10", b"GP11"}
SHP_FILE_CODE = b"\x00\x00\x27\x0a"  # 9994, big-endian: the first word of every .shp and .shx
SHAPEFILE_MEMBERS = {".shp", ".shx", ".dbf", ".prj", ".cpg"}
# Bounds on what an archive may expand to: a thousandfold is a zip bomb, not a Shapefile.
MAX_EXPANSION = 200
MAX_EXPANDED_BYTES = 2 * 1024**3
# A workbook is read cell by cell, every empty cell of its rectangle included (rows x columns up to
# the last used cell): at most this many cells per byte of file, plus a floor for small files.
XLSX_CELLS_PER_BYTE = 20
XLSX_MIN_CELLS = 200_000
XLSX_MAX_COLUMNS = 1_000  # a layer has tens of fields; column XFD is an attack, not a register
_FEATURE_TYPE = re.compile(rb'"type"[ \t\r\n]*:[ \t\r\n]*"Feature(?:Collection)?"')
_CELL_REF = re.compile(r"([A-Z]{1,3})([0-9]{1,7})")


def refuse(path: Path, what: str) -> InvalidInput:
    return InvalidInput.one("file", f"{path.name}: {what}")


def head(path: Path, size: int) -> bytes:
    with path.open("rb") as f:
        return f.read(size)


def check_geojson(path: Path) -> None:
    """A JSON object holding a FeatureCollection or Features. GDAL's GeoJSON driver, and no other,
    then parses it (readers.py): this only keeps anything that is not JSON away from GDAL."""
    start = head(path, 4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    if not start.startswith(b"{") or path.stat().st_size == 0:
        raise refuse(path, "not GeoJSON (a JSON object of type FeatureCollection or Feature)")
    with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        if _FEATURE_TYPE.search(data) is None:  # type: ignore[call-overload]
            raise refuse(path, "not GeoJSON (a JSON object of type FeatureCollection or Feature)")


def check_gpkg(path: Path) -> None:
    """An SQLite database whose application id says GeoPackage."""
    header = head(path, 100)
    if len(header) < 100 or not header.startswith(SQLITE_MAGIC) or header[68:72] not in GPKG_APPLICATION_IDS:
        raise refuse(path, "not a GeoPackage (an SQLite file with the GeoPackage application id)")


def check_shp(path: Path) -> None:
    if head(path, 4) != SHP_FILE_CODE:
        raise refuse(path, "not a Shapefile (.shp without the Shapefile file code)")


def _zip(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise refuse(path, "not a readable ZIP archive") from None


def _bounded(path: Path, members: list[zipfile.ZipInfo]) -> None:
    expanded = sum(m.file_size for m in members)
    if expanded > MAX_EXPANDED_BYTES or expanded > MAX_EXPANSION * max(path.stat().st_size, 1):
        raise refuse(path, "the archive expands to far more than its size (a zip bomb?)")


def extract_shapefile(path: Path, into: Path) -> Path:
    """The one Shapefile of a ZIP archive, extracted into ``into``; the path of its .shp.

    Only plain files named *.shp, *.shx, *.dbf, *.prj, *.cpg of one base name, at the top of the
    archive: no folders, no ../, no absolute names, no links, nothing else.
    """
    with _zip(path) as archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        stems: set[str] = set()
        for m in members:
            name = PurePosixPath(m.filename)
            kind = stat.S_IFMT(m.external_attr >> 16)
            if (len(name.parts) != 1 or "\\" in m.filename or m.filename.startswith("/")
                    or name.suffix.lower() not in SHAPEFILE_MEMBERS or kind not in (0, stat.S_IFREG)):
                raise refuse(path, f"the archive may hold only the .shp, .shx, .dbf, .prj and .cpg files "
                                   f"of one Shapefile, in no folder ({shown_name(m.filename)} is not one)")
            stems.add(name.stem)
        suffixes = [PurePosixPath(m.filename).suffix.lower() for m in members]
        if suffixes.count(".shp") != 1:
            raise refuse(path, "the ZIP archive must hold exactly one .shp file")
        if len(stems) != 1 or len(set(suffixes)) != len(suffixes):
            raise refuse(path, "the archive's files must be the parts of one Shapefile (one base name)")
        _bounded(path, members)
        into.mkdir(parents=True, exist_ok=True)
        stem = "layer"
        for m, suffix in zip(members, suffixes, strict=True):
            with archive.open(m) as src, (into / f"{stem}{suffix}").open("wb") as out:
                shutil.copyfileobj(src, out)
    shp = into / f"{stem}.shp"
    if head(shp, 4) != SHP_FILE_CODE:
        raise refuse(path, "the .shp in the archive is not a Shapefile")
    if (into / f"{stem}.shx").exists() and head(into / f"{stem}.shx", 4) != SHP_FILE_CODE:
        raise refuse(path, "the .shx in the archive is not a Shapefile index")
    return shp


def shown_name(name: str, limit: int = 40) -> str:
    return repr(name if len(name) <= limit else name[:limit] + "…")


def check_xlsx(path: Path) -> None:
    """An Office Open XML workbook whose first sheet is small enough to read for its size.

    Reading a sheet costs per cell of the rectangle up to its last cell (openpyxl and pandas fill
    the gaps), so one cell in column XFD per row turns 12 KB into millions of cells. The sheet XML
    is scanned for its cell references, streaming, and refused as soon as the rectangle passes the
    budget for the file's size.
    """
    with _zip(path) as archive:
        names = set(archive.namelist())
        if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
            raise refuse(path, "not an XLSX workbook")
        _bounded(path, archive.infolist())
        sheets = sorted(n for n in names if re.fullmatch(r"xl/worksheets/[^/]+\.xml", n))
        if not sheets:
            raise refuse(path, "the workbook has no worksheet")
        budget = max(XLSX_MIN_CELLS, XLSX_CELLS_PER_BYTE * path.stat().st_size)
        spent = 0
        for sheet in sheets:
            spent += _sheet_cells(archive, sheet, path, budget - spent)


def _sheet_cells(archive: zipfile.ZipFile, sheet: str, path: Path, budget: int) -> int:
    """The rectangle of a sheet (rows x columns up to its last cell, row or dimension), scanned
    streaming; refused as soon as it passes ``budget``."""
    max_row = max_col = 0
    try:
        with archive.open(sheet) as xml:
            for _, element in iterparse(xml, events=("start",)):
                tag = element.tag.rsplit("}", 1)[-1]
                if tag == "c":
                    match = _CELL_REF.fullmatch(element.get("r", ""))
                    if match is None:  # a cell without a reference follows the previous one
                        max_col += 1
                    else:
                        max_col = max(max_col, _column_number(match.group(1)))
                        max_row = max(max_row, int(match.group(2)))
                elif tag == "row" and element.get("r", "").isdigit():
                    max_row = max(max_row, int(element.get("r", "0")))
                elif tag == "dimension":
                    for ref in element.get("ref", "").split(":"):
                        if (match := _CELL_REF.fullmatch(ref)) is not None:
                            max_col = max(max_col, _column_number(match.group(1)))
                            max_row = max(max_row, int(match.group(2)))
                element.clear()
                if max_col > XLSX_MAX_COLUMNS or max_row * max(max_col, 1) > budget:
                    raise refuse(path, f"the sheet spans more cells than a file of this size may "
                                       f"(over {XLSX_MAX_COLUMNS} columns, or over {budget:,} cells "
                                       "counting the empty ones)")
    except (ParseError, zipfile.BadZipFile, KeyError, OSError, EOFError, zlib.error):
        raise refuse(path, "not a readable XLSX workbook (broken sheet XML)") from None
    return max_row * max(max_col, 1)


def _column_number(letters: str) -> int:
    number = 0
    for ch in letters:
        number = number * 26 + ord(ch) - ord("A") + 1
    return number
