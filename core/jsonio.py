"""JSON read from files a user hands over: every way it can be bad is one
:class:`~clirlens.core.errors.DataError` naming the file (invalid JSON with its line and
column, nesting deep enough to exhaust Python's recursion, bytes that are not UTF-8)."""

from __future__ import annotations

import json
from typing import Any

from clirlens.core.errors import DataError


def parse_json(raw: str | bytes, where: str) -> Any:
    """``raw`` parsed; ``where`` (a path, or ``path:line``) names it in the error."""
    try:
        text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as e:
        raise DataError(f"{where}: not UTF-8 ({e.reason} at byte {e.start})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        at = f"line {e.lineno}, column {e.colno}" if "\n" in text.strip() else f"column {e.colno}"
        raise DataError(f"{where}: invalid JSON at {at}: {e.msg}") from None
    except RecursionError:
        raise DataError(f"{where}: JSON nested too deeply to read") from None
