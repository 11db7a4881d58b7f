"""Uploads staged for the import pages (数据导入): kept on the server between the upload, the mapping
form and the import, per user, size-limited and expiring.

Each lives in ``<data_dir>/staged-imports/<user id>/<upload id>/``: the file under its cleaned name,
``meta.json`` (layer, how to read it, the mapping chosen, the outcome) and ``progress.json`` while it
is imported. An upload is found only under its owner's own folder, by an id of 128 random bits checked
against its pattern before it is joined to a path: another user's id is simply not there (404), and
nothing staged is ever served back as a file. Expired uploads are deleted whenever anyone stages one.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from fastapi import UploadFile

from api.routes.imports import save_upload, upload_name
from gis.errors import NotFound
from gis.settings import Settings

TTL_SECONDS = 2 * 3600  # an upload not imported within two hours is deleted
MAX_PER_USER = 5  # the oldest of a user's staged uploads makes way for a sixth
_ID = re.compile(r"[A-Za-z0-9_-]{22}")
META, PROGRESS = "meta.json", "progress.json"


@dataclass
class Staged:
    """One staged upload. ``columns``/``crs``: the mapping last chosen (None: not yet, the suggested
    one is shown); ``outcome``: the last import's ({"ok": true, "report": …} or {"ok": false,
    "problems": […]}); ``imported``: the rows are in, the file is gone."""

    id: str
    owner: int
    layer: str
    name: str
    created: float
    encoding: str | None = None
    sheet: str | None = None
    header_row: str | None = None
    columns: dict[str, str] | None = None
    crs: str | None = None
    outcome: dict[str, Any] | None = None
    imported: bool = False
    folder: Path = field(default=Path(), compare=False)

    @property
    def path(self) -> Path:
        # in a folder of its own: an upload called meta.json is not the metadata
        return self.folder / "file" / self.name

    def read_options(self) -> dict[str, str | None]:
        return {"encoding": self.encoding, "sheet": self.sheet, "header_row": self.header_row}

    def save(self) -> None:
        data = {k: v for k, v in asdict(self).items() if k != "folder"}
        _write_json(self.folder / META, data)


def root(settings: Settings) -> Path:
    return Path(settings.data_dir) / "staged-imports"


def _user_folder(settings: Settings, owner: int) -> Path:
    return root(settings) / str(int(owner))


def _write_json(path: Path, data: object) -> None:
    """Written whole or not at all: a reader (the progress poll) never sees half a file."""
    part = path.with_suffix(".part")
    part.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    part.replace(path)


def _load(folder: Path) -> Staged | None:
    try:
        data = json.loads((folder / META).read_text(encoding="utf-8"))
        return Staged(**data, folder=folder)
    except (OSError, ValueError, TypeError):
        return None


def purge(settings: Settings, now: float | None = None) -> None:
    """Delete every user's expired uploads (and folders left half-made)."""
    now = time.time() if now is None else now
    base = root(settings)
    if not base.is_dir():
        return
    for user in base.iterdir():
        try:
            folders = list(user.iterdir()) if user.is_dir() else []
            for folder in folders:
                staged = _load(folder)
                created = staged.created if staged else folder.stat().st_mtime
                if now - created > TTL_SECONDS:
                    shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue  # removed meanwhile by another request's purge


def mine(settings: Settings, owner: int, layer: str | None = None) -> list[Staged]:
    """The user's live staged uploads (of ``layer``), newest first."""
    folder = _user_folder(settings, owner)
    found = [s for f in (folder.iterdir() if folder.is_dir() else ()) if (s := _load(f)) is not None]
    now = time.time()
    live = [s for s in found if now - s.created <= TTL_SECONDS and (layer is None or s.layer == layer)]
    return sorted(live, key=lambda s: s.created, reverse=True)


def stage(settings: Settings, owner: int, layer: str, upload: UploadFile,
          read_options: dict[str, str | None]) -> Staged:
    """Store the upload for its owner (413 past the upload limit; nothing kept then)."""
    purge(settings)
    for old in mine(settings, owner)[MAX_PER_USER - 1:]:
        discard(old)
    user = _user_folder(settings, owner)
    user.mkdir(parents=True, exist_ok=True, mode=0o700)
    upload_id = secrets.token_urlsafe(16)
    folder = user / upload_id
    folder.mkdir(mode=0o700)
    staged = Staged(id=upload_id, owner=owner, layer=layer, name=upload_name(upload.filename),
                    created=time.time(), folder=folder, encoding=read_options.get("encoding"),
                    sheet=read_options.get("sheet"), header_row=read_options.get("header_row"))
    try:
        staged.path.parent.mkdir(mode=0o700)
        save_upload(upload, staged.path, settings.max_upload_mb)
        os.chmod(staged.path, 0o600)
        staged.save()
    except BaseException:
        discard(staged)
        raise
    return staged


def find(settings: Settings, owner: int, layer: str, upload_id: str) -> Staged:
    """The owner's staged upload of ``layer``; NotFound for anything else (another user's, expired,
    malformed or of another layer) alike."""
    if not _ID.fullmatch(upload_id):
        raise NotFound("staged upload", upload_id[:40])
    staged = _load(_user_folder(settings, owner) / upload_id)
    if staged is None or staged.owner != owner or staged.layer != layer \
            or time.time() - staged.created > TTL_SECONDS:
        raise NotFound("staged upload", upload_id)
    return staged


def discard(staged: Staged) -> None:
    shutil.rmtree(staged.folder, ignore_errors=True)


def drop_file(staged: Staged) -> None:
    """The rows are in: the file is no longer needed (the outcome stays for the result page)."""
    staged.path.unlink(missing_ok=True)


def claim(staged: Staged) -> bool:
    """Mark the upload as being imported; False if it already is (a second click, another tab)."""
    try:
        os.close(os.open(staged.folder / "importing", os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        return False
    return True


def release(staged: Staged) -> None:
    (staged.folder / "importing").unlink(missing_ok=True)


def set_progress(staged: Staged, state: str, done: int = 0, total: int = 0) -> None:
    _write_json(staged.folder / PROGRESS, {"state": state, "done": done, "total": total})


def progress(staged: Staged) -> dict[str, Any]:
    """What the progress bar shows: staged, running (rows copied of all), imported or failed."""
    try:
        data: dict[str, Any] = json.loads((staged.folder / PROGRESS).read_text(encoding="utf-8"))
        return data
    except (OSError, ValueError):
        state = "imported" if staged.imported else "failed" if staged.outcome else "staged"
        return {"state": state, "done": 0, "total": 0}
