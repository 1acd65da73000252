"""``clirlens`` command line: parser assembly and the error boundary.

Subcommands come from registrar functions ``add_parsers(subparsers)``: core's own
(:data:`CORE_COMMANDS`) plus any the caller passes (storage adds ``judgments`` and
``campaigns``; the GUI entry point wires both). A :class:`UserError` becomes one line on
stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from clirlens.core.cli.common import Subcommands
from clirlens.core.errors import UserError

Registrar = Callable[[Subcommands], None]

# modules under clirlens.core.cli with an add_parsers() function
CORE_COMMANDS = ("evaluate", "search", "align")


def core_registrars() -> list[Registrar]:
    return [importlib.import_module(f"clirlens.core.cli.{m}").add_parsers for m in CORE_COMMANDS]


def build_parser(
    registrars: Sequence[Registrar] = (), prog: str = "clirlens", description: str | None = None
) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description=description
        or "Cross-lingual retrieval workbench: compare dense "
        "retrievers on XQuAD and other corpora, inspect OT token alignments, judge relevance.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for register in [*core_registrars(), *registrars]:
        register(sub)
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("clirlens")
    except PackageNotFoundError:
        return "unknown"


def dispatch(args: argparse.Namespace) -> int:
    """Run a parsed command inside the error boundary."""
    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        print(f"clirlens: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("clirlens: interrupted", file=sys.stderr)
        return 130


def main(argv: Sequence[str] | None = None, registrars: Sequence[Registrar] = ()) -> int:
    parser = build_parser(registrars)
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    return dispatch(args)


if __name__ == "__main__":
    sys.exit(main())
