"""How an import's own values appear in its error messages: quoted and short.

A validation problem names the row, the field and the value that is wrong. A value is the file's
content, so echoing it whole would hand back whatever the file made the reader produce (a 10 kB
cell, or a server file's lines had a reader been tricked into reading one). Every value an import
problem quotes goes through ``shown``: its repr, cut to a few dozen characters.
"""

from __future__ import annotations

SHOWN_CHARS = 40  # enough to recognise a value in the file, too little to carry a file back
MAX_REASON_CHARS = 300  # a whole reason, values and all (e.g. a vocabulary listed in full)


def shown(value: object, limit: int = SHOWN_CHARS) -> str:
    """``repr(value)`` of at most about ``limit`` characters (the start of the value, then …)."""
    text = value if isinstance(value, str) else str(value)
    return repr(text[:limit]) + ("…" if len(text) > limit else "")


def capped(reason: str, limit: int = MAX_REASON_CHARS) -> str:
    """A reason cut to ``limit`` characters: the last guard for reasons built elsewhere (SQL checks)."""
    return reason if len(reason) <= limit else reason[:limit] + "…"
