"""What every workbench form does with a post: keep the fields it shows as typed (trimmed), and key a
refusal by the form field it names, so the page shows the API's words beside that field."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError


def posted_strings(posted: Any, names: Iterable[str]) -> dict[str, str]:
    """The posted text fields among ``names``, trimmed (files and other fields left out)."""
    wanted = set(names)
    return {k: v.strip() for k, v in posted.items() if k in wanted and isinstance(v, str)}


def field_errors(exc: ValidationError, default: str = "body") -> dict[str, str]:
    """Pydantic's refusal per field (``default`` for one about the whole body)."""
    return {str(e["loc"][0]) if e["loc"] else default: e["msg"] for e in exc.errors()}
