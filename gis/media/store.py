"""Photos kept once by their content (SHA-256) under the data folder's media/ab/cdef..., with a row in
the ``media`` table (migration 016) holding their type, size and EXIF evidence.

The type is judged by the bytes (Pillow decodes them), never by the name or the content type a client
claims. Beside the original (kept as sent, EXIF and all: evidence) go two copies for pages, upright
and without any EXIF: a thumbnail and a published copy no larger than a screen. Nothing here decides
who may read a photo: the routes read one through the record it belongs to, under its rules.
"""

from __future__ import annotations

import hashlib
import io
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import psycopg
from PIL import Image, ImageOps, UnidentifiedImageError
from psycopg.types.json import Jsonb

from gis.errors import InvalidInput, NotFound
from gis.media.exif import Evidence, read_evidence

MAX_BYTES = 20 * 1024 * 1024  # a phone's photo is 2-8 MB
MAX_PIXELS = 60_000_000  # a 200-megapixel "photo" is a decompression bomb, not evidence
THUMBNAIL_PX, PUBLISHED_PX = 320, 1600
MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "HEIF": "image/heic"}
Copy = Literal["original", "thumbnail", "published"]
SUFFIX = {"original": "", "thumbnail": ".thumb.jpg", "published": ".jpg"}

try:  # HEIC (iPhones) only where the optional pillow-heif plugin is installed
    from pillow_heif import register_heif_opener  # type: ignore[import-not-found]

    register_heif_opener()
except ImportError:  # pragma: no cover - depends on the machine
    pass


@dataclass(frozen=True)
class Photo:
    sha256: str
    mime: str
    bytes: int
    width: int
    height: int
    evidence: Evidence

    def as_row(self) -> dict[str, Any]:
        e = self.evidence
        return {"sha256": self.sha256, "mime": self.mime, "bytes": self.bytes, "width": self.width,
                "height": self.height, "taken_at": e.taken_at, "taken_offset": e.taken_offset,
                "lon": e.lon, "lat": e.lat, "exif": e.more}


def formats() -> list[str]:
    """The formats accepted: those Pillow here can open (HEIF only with its plugin)."""
    Image.init()
    return [f for f in MIME if f in Image.OPEN]


def path_of(data_dir: Path | str, sha256: str, copy: Copy = "original") -> Path:
    return Path(data_dir) / "media" / sha256[:2] / (sha256[2:] + SUFFIX[copy])


def _open(content: bytes, field: str) -> Image.Image:
    """The decoded image, or a 422 naming ``field``: not a photo, too large, or damaged."""
    accepted = formats()
    if not content:
        raise InvalidInput.one(field, "empty file")
    if len(content) > MAX_BYTES:
        raise InvalidInput.one(field, f"larger than {MAX_BYTES // (1024 * 1024)} MB")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(content), formats=accepted)
            if image.width * image.height > MAX_PIXELS:
                raise InvalidInput.one(field, f"more than {MAX_PIXELS // 1_000_000} megapixels")
            image.load()  # a truncated or corrupt file fails here, not on a page
    except InvalidInput:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as exc:
        kinds = ", ".join(MIME[f] for f in accepted)
        raise InvalidInput.one(field, f"not a photo this service reads ({kinds})") from exc
    return image


def _page_copy(image: Image.Image, longest: int) -> bytes:
    """An upright RGB JPEG no larger than ``longest`` px a side, with no EXIF, ICC or comments:
    nothing of where or with what it was taken leaves with it."""
    upright = ImageOps.exif_transpose(image)
    if upright.mode in ("RGBA", "LA", "P", "PA"):
        rgba = upright.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        upright = flat
    elif upright.mode != "RGB":
        upright = upright.convert("RGB")
    upright.thumbnail((longest, longest))
    out = io.BytesIO()
    upright.save(out, "JPEG", quality=85, optimize=True)  # no exif= given: none written
    return out.getvalue()


def _write(path: Path, content: bytes) -> None:
    """Written whole or not at all (a reader never sees half a photo)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(content)
    os.replace(tmp, path)


def examine(content: bytes, field: str = "photos") -> tuple[Photo, Image.Image]:
    image = _open(content, field)
    assert image.format is not None
    photo = Photo(hashlib.sha256(content).hexdigest(), MIME[image.format], len(content),
                  image.width, image.height, read_evidence(image))
    return photo, image


def store(conn: psycopg.Connection, data_dir: Path | str, content: bytes, stored_by: str,
          field: str = "photos") -> Photo:
    """Keep a photo: its files once (the same photo sent again is the same file), its row once."""
    photo, image = examine(content, field)
    original = path_of(data_dir, photo.sha256)
    if not original.exists():
        _write(original, content)
    for copy, longest in (("thumbnail", THUMBNAIL_PX), ("published", PUBLISHED_PX)):
        target = path_of(data_dir, photo.sha256, copy)  # type: ignore[arg-type]
        if not target.exists():
            _write(target, _page_copy(image, longest))
    row = photo.as_row()
    conn.execute("""
        INSERT INTO media (sha256, mime, bytes, width, height, taken_at, taken_offset, position, exif,
                           stored_by)
        VALUES (%(sha256)s, %(mime)s, %(bytes)s, %(width)s, %(height)s, %(taken_at)s, %(taken_offset)s,
                CASE WHEN %(lon)s::float8 IS NOT NULL THEN ST_Point(%(lon)s, %(lat)s, 4326) END,
                %(exif)s, %(stored_by)s)
        ON CONFLICT (sha256) DO NOTHING""", {**row, "exif": Jsonb(row["exif"]), "stored_by": stored_by})
    return photo


def read(data_dir: Path | str, sha256: str, copy: Copy) -> bytes:
    """A stored copy's bytes. Callers have checked the record the photo belongs to."""
    path = path_of(data_dir, sha256, copy)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise NotFound("photo", sha256) from None
