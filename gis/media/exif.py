"""What a photo's EXIF says about when and where it was taken (拍摄时间, 位置): evidence kept with it.

Read leniently: a camera that writes a malformed tag loses that tag, never the photo."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from PIL import Image

EXIF_IFD, GPS_IFD = 0x8769, 0x8825
DATETIME, MAKE, MODEL = 0x0132, 0x010F, 0x0110
DATETIME_ORIGINAL, OFFSET_TIME_ORIGINAL = 0x9003, 0x9011
GPS_LAT_REF, GPS_LAT, GPS_LON_REF, GPS_LON, GPS_ALT_REF, GPS_ALT = 1, 2, 3, 4, 5, 6


@dataclass(frozen=True)
class Evidence:
    taken_at: datetime | None = None  # the camera's clock (EXIF rarely names its time zone)
    taken_offset: str | None = None  # e.g. '+08:00', when the camera wrote it
    lon: float | None = None  # WGS 84, as cameras write GPS
    lat: float | None = None
    more: dict[str, Any] = field(default_factory=dict)  # make, model, altitude


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    text = value.replace("\x00", "").strip()  # PostgreSQL text holds no NUL
    return text[:200] or None


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return number if math.isfinite(number) else None


def _degrees(dms: Any, ref: Any, limit: float) -> float | None:
    """Degrees, minutes, seconds (rationals) and N/S or E/W as signed decimal degrees."""
    if not isinstance(dms, tuple | list) or len(dms) != 3:
        return None
    parts = [_number(v) for v in dms]
    numbers = [p for p in parts if p is not None and p >= 0]
    if len(numbers) != 3:
        return None
    value = numbers[0] + numbers[1] / 60 + numbers[2] / 3600
    sign = -1 if (_text(ref) or "").upper() in ("S", "W") else 1
    return sign * value if value <= limit else None


def _when(text: str | None) -> datetime | None:
    try:
        return datetime.strptime(text or "", "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None


def read_evidence(image: Image.Image) -> Evidence:
    try:
        exif = image.getexif()
        details, gps = exif.get_ifd(EXIF_IFD), exif.get_ifd(GPS_IFD)
    except Exception:  # noqa: BLE001 - a corrupt EXIF block: the photo stands without it
        return Evidence()
    raw_time = _text(details.get(DATETIME_ORIGINAL)) or _text(exif.get(DATETIME))
    lat = _degrees(gps.get(GPS_LAT), gps.get(GPS_LAT_REF), 90)
    lon = _degrees(gps.get(GPS_LON), gps.get(GPS_LON_REF), 180)
    if lat is None or lon is None:
        lat = lon = None
    more: dict[str, Any] = {k: v for k, v in {
        "make": _text(exif.get(MAKE)), "model": _text(exif.get(MODEL)), "datetime_original": raw_time,
    }.items() if v}
    altitude = _number(gps.get(GPS_ALT))
    if altitude is not None:
        more["altitude_m"] = -altitude if gps.get(GPS_ALT_REF) in (1, b"\x01") else altitude
    offset = _text(details.get(OFFSET_TIME_ORIGINAL))
    return Evidence(_when(raw_time), offset[:6] if offset else None, lon, lat, more)
