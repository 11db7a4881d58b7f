"""The submission bundle (报送材料包, the street's copy): a ZIP with manifest.json (sorted keys, the
sha256 and size of every file and the filled figures), manifest.sha256 (the manifest's own hash) and
the files under evidence/ and sheet/. Deterministic: entries in name order with a fixed timestamp and
mode, photos stored as they are (already compressed), other files deflated at a fixed level; the same
frozen state gives the same bytes. ``verify`` re-checks a bundle and names the first mismatch."""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

FORMAT = "gridmap-assessment-bundle/1"
FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest a ZIP entry can say: no clock leaks into the bytes
MANIFEST, MANIFEST_HASH = "manifest.json", "manifest.sha256"


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    """The manifest as canonical JSON: sorted keys, UTF-8, two-space indent, a final newline."""
    return (json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=2) + "\n").encode("utf-8")


def _entry(name: str, stored: bool) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
    info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    info.external_attr = 0o100644 << 16  # a regular file, rw-r--r--, whoever builds it
    info.create_system = 3  # as on Unix, wherever it is built
    return info


def write_bundle(out: IO[bytes], manifest: dict[str, Any], read: Callable[[str], bytes]) -> str:
    """Write the bundle of ``manifest`` to ``out``, each file's bytes from ``read(sha256)`` and checked
    against its hash on the way (a damaged store fails here, not at the street). The manifest's hash."""
    body = manifest_bytes(manifest)
    digest = hashlib.sha256(body).hexdigest()
    with zipfile.ZipFile(out, "w", compresslevel=6) as z:
        z.writestr(_entry(MANIFEST, False), body)
        z.writestr(_entry(MANIFEST_HASH, False), f"{digest}  {MANIFEST}\n")
        for f in sorted(manifest["files"], key=lambda f: f["path"]):
            content = read(f["sha256"])
            if hashlib.sha256(content).hexdigest() != f["sha256"] or len(content) != f["bytes"]:
                raise ValueError(f"stored file {f['sha256']} no longer matches its hash")
            z.writestr(_entry(f["path"], f["mime"].startswith("image/")), content)
    return digest


def verify(path: Path | str, expected: str | None = None) -> list[str]:
    """Every mismatch of the bundle at ``path``, first one first; [] when every hash holds. ``expected``:
    the manifest hash the service stored at the freeze (GET /assessment/freezes/{id})."""
    try:
        z = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        return [f"{path}: not a readable ZIP ({exc})"]
    with z:
        names = set(z.namelist())
        for needed in (MANIFEST, MANIFEST_HASH):
            if needed not in names:
                return [f"{needed}: missing"]
        body = z.read(MANIFEST)
        digest = hashlib.sha256(body).hexdigest()
        written = z.read(MANIFEST_HASH).decode("utf-8", "replace").split()
        problems = []
        if not written or written[0] != digest:
            problems.append(f"{MANIFEST}: sha256 {digest} differs from {MANIFEST_HASH}")
        if expected is not None and digest != expected:
            problems.append(f"{MANIFEST}: sha256 {digest} differs from the frozen {expected}")
        try:
            manifest = json.loads(body)
            listed = manifest["files"]
        except (ValueError, KeyError, TypeError):
            return [*problems, f"{MANIFEST}: not a manifest"]
        for f in listed:
            name = f.get("path")
            if name not in names:
                problems.append(f"{name}: missing")
                continue
            content = z.read(name)
            actual = hashlib.sha256(content).hexdigest()
            if actual != f.get("sha256"):
                problems.append(f"{name}: sha256 {actual} differs from the manifest's {f.get('sha256')}")
            elif len(content) != f.get("bytes"):
                problems.append(f"{name}: {len(content)} bytes, the manifest says {f.get('bytes')}")
        extra = sorted(names - {MANIFEST, MANIFEST_HASH} - {f.get("path") for f in listed})
        problems += [f"{name}: not in the manifest" for name in extra]
    return problems
