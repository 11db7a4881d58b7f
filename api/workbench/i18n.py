"""The workbench's language: Chinese (the msgids) unless the user chose English.

The choice: ``?lang=zh|en`` on any workbench page (kept in the ``gridmap_lang`` cookie), else that
cookie, else the browser's Accept-Language (English only when it is preferred to Chinese). The
English catalogue is api/workbench/i18n/en/LC_MESSAGES/messages.po, compiled in memory on first use
(no .mo file to keep in step); messages.pot beside it is extracted with
``pybabel extract -F api/workbench/babel.cfg -o api/workbench/i18n/messages.pot api/workbench``.
"""

from __future__ import annotations

import gettext
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Annotated, Literal

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from fastapi import Depends, Query, Request

CATALOGUES = Path(__file__).parent / "i18n"
LANG_COOKIE = "gridmap_lang"
Language = Literal["zh", "en"]
LANGUAGES: tuple[Language, ...] = ("zh", "en")
HTML_LANG = {"zh": "zh-CN", "en": "en"}


def N_(message: str) -> str:
    """Marks a msgid for extraction (pybabel -k N_); translated where the page is rendered."""
    return message


@cache
def translations(lang: Language) -> gettext.NullTranslations:
    """The catalogue of a language; Chinese is the source text itself."""
    if lang == "zh":
        return gettext.NullTranslations()
    with (CATALOGUES / lang / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po, locale=lang)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def from_accept_language(header: str) -> Language:
    """The language the browser prefers among ours (by quality, then order; Chinese if neither is named)."""
    best: tuple[float, int, Language] = (0.0, 0, "zh")
    for i, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and (quality, -i) > best[:2]:
            best = (quality, -i, primary)  # type: ignore[assignment]
    return best[2]


def choose_language(request: Request,
                    lang: Annotated[Language | None, Query(description="zh or en; kept in a cookie")] = None
                    ) -> Language:
    """The request's language; a ``?lang=`` choice is stored by the page (see render.page)."""
    if lang is not None:
        request.state.lang_chosen = lang
        return lang
    cookie = request.cookies.get(LANG_COOKIE)
    if cookie in LANGUAGES:
        return cookie  # type: ignore[return-value]
    return from_accept_language(request.headers.get("accept-language", ""))


Lang = Annotated[Language, Depends(choose_language)]
