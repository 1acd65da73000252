"""Errors a user can act on.

:class:`UserError` carries a one-line message that names the culprit (file, value, model)
and what is wrong with it. The CLI prints it and exits with code 2; the GUI shows it in its
message area. Anything else escaping to the top is a bug and keeps its traceback.
"""


class UserError(Exception):
    """Bad input or an unmet precondition, explained in one line."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class DataError(UserError):
    """A dataset file or folder is missing, unreadable or malformed."""


class ModelError(UserError):
    """A model cannot be found, loaded or used as asked."""
