"""Transactions of the judgments repository: one session per call, retried as a whole on
transient conflicts (SQLite busy, PostgreSQL serialization failure or deadlock), so callers
never see "database is locked"; a conflict that outlasts the retries becomes a
:class:`~clirlens.core.errors.UserError`."""

from __future__ import annotations

import itertools
import os
import random
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from clirlens.core.errors import UserError

from .db import READ_ONLY, close_engine, describe, is_transient, one_line, open_database

T = TypeVar("T")
R = TypeVar("R", bound="RepositoryBase")
MAX_ATTEMPTS = 12


class RepositoryBase:
    """An engine (from :func:`~clirlens.storage.db.open_database`) and the transaction runner."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # SQLite: reads start with a deferred BEGIN, writes with BEGIN IMMEDIATE (see db.py)
        self._read_engine = engine.execution_options(**{READ_ONLY: True})

    @classmethod
    def open(
        cls: type[R],
        db: str | os.PathLike[str] | None = None,
        *,
        create: bool = True,
        **options: str,
    ) -> R:
        """Open (check, back up, migrate) the database ``db``: see
        :func:`clirlens.storage.db.open_database` (``create=False`` for reading only: a
        database that does not exist is an error; ``options``: ``synchronous``)."""
        return cls(open_database(db, create=create, **options))  # type: ignore[arg-type]

    def close(self) -> None:
        """Close the database connections (and, for SQLite, checkpoint what was judged)."""
        close_engine(self.engine)

    def __enter__(self: R) -> R:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self, work: Callable[[Session], T], *, write: bool = True) -> T:
        """``work(session)`` in one transaction, committed when it returns."""
        bind = self.engine if write else self._read_engine
        delay = 0.005
        for attempt in itertools.count(1):
            try:
                with Session(bind) as s, s.begin():
                    return work(s)
            except DBAPIError as exc:
                if exc.connection_invalidated:
                    raise UserError(
                        f"lost the connection to the judgments database "
                        f"{describe(self.engine.url)}: {one_line(exc.orig)}"
                    ) from None
                if isinstance(exc, IntegrityError):
                    raise  # a race the caller resolves (a name taken meanwhile, …)
                if not is_transient(exc):
                    raise UserError(
                        f"the judgments database {describe(self.engine.url)} refused this "
                        f"change, nothing was written: {one_line(exc.orig)}"
                    ) from None
                if attempt >= MAX_ATTEMPTS:
                    raise UserError(
                        f"the judgments database {describe(self.engine.url)} stayed busy "
                        f"(another program holds it locked); try again: {one_line(exc.orig)}"
                    ) from None
            time.sleep(delay * random.uniform(0.5, 1.5))
            delay = min(delay * 2, 1.0)
        raise AssertionError("unreachable")
