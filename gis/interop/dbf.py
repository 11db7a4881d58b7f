"""The text encoding of a Shapefile's attribute table (.dbf) when no .cpg file names it.

Shapefiles from Chinese offices are mostly GBK with no .cpg, and GDAL then decodes them as
ISO-8859-1 (or as the dBASE language byte says, which ArcGIS sets to "ANSI" = the writer's code page):
the names arrive as mojibake. The raw bytes of the text fields decide instead: UTF-8 if they decode
as UTF-8, GB18030 (the superset of GBK) if they decode as that into Chinese characters.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

SNIFF_RECORDS = 5_000  # enough text to tell; a bounded read whatever the file's size
SNIFF_BYTES = 8 * 1024 * 1024
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\U00020000-\U0003ffff]")


def _text_values(dbf: Path) -> list[bytes]:
    """The non-ASCII values of the character (C) fields of the first records."""
    with dbf.open("rb") as f:
        head = f.read(32)
        if len(head) < 32:
            return []
        records, header_size, record_size = struct.unpack("<IHH", head[4:12])
        descriptors = f.read(max(header_size - 32, 0))
        body = f.read(min(records, SNIFF_RECORDS) * record_size if record_size else 0)[:SNIFF_BYTES]
    fields, offset = [], 1  # each record starts with its deletion flag
    for start in range(0, len(descriptors) - 31, 32):
        descriptor = descriptors[start:start + 32]
        if descriptor[:1] == b"\r":
            break
        length = descriptor[16]
        if descriptor[11:12] in (b"C", b"c"):
            fields.append((offset, length))
        offset += length
    values = []
    for record in range(0, len(body) - record_size + 1, record_size or 1):
        for start, length in fields:
            value = body[record + start:record + start + length].strip(b" \x00")
            if any(b > 0x7F for b in value):
                values.append(value)
    return values


def _decodes(values: list[bytes], encoding: str) -> tuple[int, str]:
    good, text = 0, []
    for value in values:
        try:
            text.append(value.decode(encoding))
            good += 1
        except UnicodeDecodeError:
            continue
    return good, "".join(text)


def sniff_encoding(dbf: Path) -> str | None:
    """UTF-8 or GB18030 for the .dbf's text, or None when its text is ASCII or neither fits (GDAL's
    own rule then applies)."""
    if not dbf.is_file():
        return None
    values = _text_values(dbf)
    if not values:
        return None
    if _decodes(values, "utf-8")[0] == len(values):
        return "UTF-8"
    good, text = _decodes(values, "gb18030")
    # A value cut inside a character by its field width may fail alone; the rest must decode to Chinese.
    non_ascii = sum(1 for ch in text if ord(ch) > 0x7F)
    if good >= 0.95 * len(values) and len(_CJK.findall(text)) >= 0.5 * non_ascii:
        return "GB18030"
    return None
