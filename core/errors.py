"""Errors a user can act on.

:class:`UserError` carries a one-line message that names the culprit (file, value, model)
and what is wrong with it. The CLI prints it and exits with code 2; the GUI shows it in its
message area. Anything else escaping to the top is a bug and keeps its traceback.

Messages are clirlens' own: a library's error is quoted only through
:func:`library_message` (its type and first line, without the advice clirlens would never
give, such as unpickling untrusted weights or running a model's own code), and a
:class:`UserError` is always one line, whatever text was put in it.
"""

from __future__ import annotations

import re

# advice in libraries' messages that would run untrusted code or unpickle untrusted files:
# a sentence holding it is dropped
_UNSAFE = re.compile(
    r"weights_only\s*=\s*False|trust_remote_code\s*=\s*True|allow_pickle\s*=\s*True"
    r"|arbitrary code execution|trusted source",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.;!?])\s+")


def one_line(text: str) -> str:
    """``text`` on one line, without unsafe advice (see the module notes)."""
    joined = " ".join(line.strip() for line in str(text).splitlines() if line.strip())
    if not _UNSAFE.search(joined):
        return joined
    return " ".join(s for s in _SENTENCE_END.split(joined) if not _UNSAFE.search(s)).strip()


def library_message(exc: BaseException, limit: int = 240) -> str:
    """Another library's exception as a short part of a clirlens message: its type and the
    first line of its text, unsafe advice removed, at most ``limit`` characters."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    first = one_line(lines[0]) if lines else ""
    if len(first) > limit:
        first = first[: limit - 1] + "…"
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


class UserError(Exception):
    """Bad input or an unmet precondition, explained in one line."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        message = one_line(message)
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class DataError(UserError):
    """A dataset file or folder is missing, unreadable or malformed."""


class ModelError(UserError):
    """A model cannot be found, loaded or used as asked."""
