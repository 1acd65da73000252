"""``clirlens`` command line: parser assembly and the error boundary.

Subcommands come from registrar functions ``add_parsers(subparsers)``: core's own
(:data:`CORE_COMMANDS`) plus any the caller passes (storage adds ``judgments`` and
``campaigns``; the GUI entry point wires both). A :class:`UserError` becomes one line on
stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from clirlens.core.cli.common import Subcommands
from clirlens.core.errors import UserError
from clirlens.core.version import version

Registrar = Callable[[Subcommands], None]

# modules under clirlens.core.cli with an add_parsers() function
CORE_COMMANDS = ("evaluate", "search", "align", "report", "distill")


def core_registrars() -> list[Registrar]:
    return [importlib.import_module(f"clirlens.core.cli.{m}").add_parsers for m in CORE_COMMANDS]


class Parser(argparse.ArgumentParser):
    """argparse with clirlens' one-line errors: a usage error says what is wrong and where the
    help is, instead of a usage block and the error on a line of its own."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"clirlens: error: {message} (see `{self.prog} --help`)\n")


def build_parser(
    registrars: Sequence[Registrar] = (), prog: str = "clirlens", description: str | None = None
) -> argparse.ArgumentParser:
    parser = Parser(
        prog=prog,
        description=description
        or "Cross-lingual retrieval workbench: compare dense "
        "retrievers on XQuAD and other corpora, inspect OT token alignments, judge relevance.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for register in [*core_registrars(), *registrars]:
        register(sub)
    return parser


class _StderrHandler(logging.Handler):
    """clirlens' warnings as ``clirlens: warning: …`` lines on the stderr of the moment."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            print(f"clirlens: warning: {record.getMessage()}", file=sys.stderr)
        except Exception:  # a warning must never become the error
            self.handleError(record)


def show_warnings() -> None:
    """Route the ``clirlens`` loggers' warnings to stderr, once per process."""
    logger = logging.getLogger("clirlens")
    if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
        logger.addHandler(_StderrHandler(logging.WARNING))
        logger.setLevel(logging.WARNING)


def dispatch(args: argparse.Namespace) -> int:
    """Run a parsed command inside the error boundary."""
    show_warnings()
    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        print(f"clirlens: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("clirlens: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (``clirlens search … | head -1``): stop quietly; stdout is
        # pointed at /dev/null so the interpreter's final flush cannot fail again
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # as if killed by SIGPIPE, like other command-line tools


def main(argv: Sequence[str] | None = None, registrars: Sequence[Registrar] = ()) -> int:
    parser = build_parser(registrars)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error (one line, code 2)
        return int(exc.code or 0) if not isinstance(exc.code, str) else 2
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    return dispatch(args)


if __name__ == "__main__":
    sys.exit(main())
