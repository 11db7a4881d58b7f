"""The English catalogue is complete: every message the workbench marks for translation (``_()`` in
templates, ``N_()``/``_()`` in its Python) has an English text in messages.po, and no msgid is there
twice. Extraction is Babel's own, with the project's babel.cfg, so this is what ``pybabel extract``
finds, not a list kept by hand."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

import api.workbench

ROOT = Path(api.workbench.__file__).parent
PROJECT = ROOT.parent.parent
PO = ROOT / "i18n" / "en" / "LC_MESSAGES" / "messages.po"
METHODS = [("api/workbench/**.py", "python"), ("api/workbench/templates/**.html", "jinja2")]


def extracted() -> dict[str, str]:
    """msgid -> where it was first found."""
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            PROJECT, METHODS, keywords={"_": None, "N_": None, "gettext": None}):
        if filename.startswith(("api/workbench/", "api\\workbench\\")) and isinstance(message, str):
            found.setdefault(message, f"{filename}:{lineno}")
    return found


def test_every_marked_message_has_its_english():
    with PO.open("rb") as f:
        catalog = read_po(f, locale="en")
    english = {m.id: m.string for m in catalog if m.id}
    missing = {msgid: where for msgid, where in extracted().items()
               if re.search(r"[\u4e00-\u9fff]", msgid) and not english.get(msgid)}
    assert not missing, f"no English for {len(missing)} messages: {missing}"


def test_no_msgid_twice_in_the_catalogue():
    ids = re.findall(r'^msgid "(.+)"$', PO.read_text(encoding="utf-8"), flags=re.M)
    twice = sorted({i for i in ids if ids.count(i) > 1})
    assert not twice, f"msgids given twice (the later one wins silently): {twice}"
