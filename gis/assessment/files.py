"""Evidence files that are not photos (PDF, Office documents, spreadsheets, CSV), kept once by their
content's SHA-256 in the same tree as the media store's photos (data folder's media/ab/cdef...): one
address per file whatever it is, so a bundle reads every evidence file the same way.

The type is judged by the bytes, never by the name or the content type a client claims. Photos are
not handled here: the API hands them to the media store (gis/media), which keeps their EXIF.
"""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from pathlib import Path

import psycopg

from gis.errors import InvalidInput, NotFound

MAX_BYTES = 50 * 1024 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
OFFICE_PARTS = {"xl/workbook.xml": XLSX, "word/document.xml": DOCX, "ppt/presentation.xml": PPTX}
SUFFIX = {"application/pdf": ".pdf", XLSX: ".xlsx", DOCX: ".docx", PPTX: ".pptx", "text/csv": ".csv",
          "text/plain": ".txt", "image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp",
          "image/heic": ".heic"}


def path_of(data_dir: Path | str, sha256: str) -> Path:
    """Where the file lies: the media store's layout (gis/media/store.py path_of, the original copy)."""
    return Path(data_dir) / "media" / sha256[:2] / sha256[2:]


def document_type(content: bytes, file_name: str | None = None) -> str | None:
    """The MIME type of a document judged by its bytes; None when it is no document (a photo, or
    something this service does not keep)."""
    if content.startswith(b"%PDF-"):
        return "application/pdf"
    if content.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as z:
                names = set(z.namelist())
        except zipfile.BadZipFile:
            return None
        return next((mime for part, mime in OFFICE_PARTS.items() if part in names), None)
    if b"\x00" in content[:8192]:
        return None
    try:
        content[:65536].decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    return "text/csv" if (file_name or "").lower().endswith(".csv") else "text/plain"


def _write(path: Path, content: bytes) -> None:
    """Written whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(content)
    os.replace(tmp, path)


def store(conn: psycopg.Connection, data_dir: Path | str, content: bytes, stored_by: str,
          file_name: str | None = None, field: str = "file") -> tuple[str, str]:
    """Keep a document: its file once, its row once. (sha256, mime), or a 422 naming ``field``."""
    if not content:
        raise InvalidInput.one(field, "empty file")
    if len(content) > MAX_BYTES:
        raise InvalidInput.one(field, f"larger than {MAX_BYTES // (1024 * 1024)} MB")
    mime = document_type(content, file_name)
    if mime is None:
        raise InvalidInput.one(field, "not a document this service keeps (PDF, XLSX, DOCX, PPTX, CSV, text)")
    sha256 = hashlib.sha256(content).hexdigest()
    target = path_of(data_dir, sha256)
    if not target.exists():
        _write(target, content)
    conn.execute("INSERT INTO evidence_file (sha256, mime, bytes, stored_by) VALUES (%s, %s, %s, %s)"
                 " ON CONFLICT (sha256) DO NOTHING", [sha256, mime, len(content), stored_by])
    return sha256, mime


def read(data_dir: Path | str, sha256: str) -> bytes:
    try:
        return path_of(data_dir, sha256).read_bytes()
    except FileNotFoundError:
        raise NotFound("evidence file", sha256) from None
