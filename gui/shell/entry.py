"""The ``clirlens`` command: the headless CLI when a subcommand is given, else the window.

``clirlens COMMAND ...`` (``evaluate``, ``search``, ``align``, ``judgments``, ``campaigns``, …:
whatever :func:`clirlens.core.cli.main.build_parser` and storage's registrar provide) runs
the CLI. Without a command the application starts; its flags name a workspace and skip the
start dialog::

    clirlens --xquad DIR --model A --model B [--query-langs th --doc-langs en] [--db URL]
             [--subset N] [--dtype bf16] [--screenshot FILE [--view compare]]

Qt is imported only to start the window, so ``clirlens --help`` and the CLI stay fast (and
never import torch). Bad input exits with code 2 and one line on stderr.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from clirlens.core.cli.common import positive_int, split_langs
from clirlens.core.cli.main import Registrar, build_parser, dispatch, show_warnings
from clirlens.core.errors import UserError
from clirlens.gui.shell.registry import VIEWS


def registrars() -> list[Registrar]:
    """Subcommand registrars beyond core's: storage's ``judgments``/``campaigns``."""
    from clirlens.storage.cli import add_parsers

    return [add_parsers]


def build_app_parser() -> argparse.ArgumentParser:
    parser = build_parser(registrars())
    g = parser.add_argument_group(
        "application",
        "without COMMAND, clirlens opens its window; these flags open a "
        "workspace directly (skipping the start dialog)",
    )
    source = g.add_mutually_exclusive_group()
    source.add_argument(
        "--xquad", metavar="DIR", dest="app_xquad", help="XQuAD folder (xquad.<lang>.json files)"
    )
    source.add_argument(
        "--beir",
        metavar="DIR",
        dest="app_beir",
        help="BEIR folder (corpus.jsonl, queries.jsonl, qrels/)",
    )
    source.add_argument(
        "--dataset",
        metavar="NAME",
        dest="app_irds",
        help="an ir_datasets collection by name, e.g. mr-tydi/th/test",
    )
    g.add_argument(
        "--model",
        "-m",
        action="append",
        dest="app_models",
        metavar="M",
        help="preset (webfaq, tydi, me5-small, bm25), preset=DIR, a local model "
        "directory or a hub id; give two or more",
    )
    g.add_argument(
        "--run",
        action="append",
        dest="app_runs",
        metavar="NAME=[Q-D:]FILE",
        help="a TREC run file from another tool as one more system (th-en:FILE for one "
        "direction of XQuAD)",
    )
    g.add_argument(
        "--query-langs",
        metavar="LANGS",
        dest="app_query_langs",
        help="query languages, comma-separated; the first is shown first "
        "(default: all, low-resource first)",
    )
    g.add_argument(
        "--doc-langs",
        metavar="LANGS",
        dest="app_doc_langs",
        help="passage languages, comma-separated (default: all, English first)",
    )
    g.add_argument(
        "--subset",
        type=positive_int,
        metavar="N",
        dest="app_subset",
        help="only the first N articles (XQuAD) or passages (BEIR)",
    )
    g.add_argument(
        "--depth",
        type=positive_int,
        default=100,
        metavar="K",
        dest="app_k",
        help="retrieval depth; a gold passage below it counts as rank K+1 (default 100)",
    )
    g.add_argument(
        "--dtype",
        choices=("fp32", "bf16"),
        default="fp32",
        dest="app_dtype",
        help="encoder precision: bf16 runs matrix products in bfloat16",
    )
    g.add_argument(
        "--db",
        metavar="URL",
        dest="app_db",
        help="judgments database (SQLAlchemy URL or SQLite file; default $CLIRLENS_DB, else "
        "judgments.sqlite in the data folder); also for a workspace chosen in the start dialog",
    )
    g.add_argument(
        "--screenshot",
        metavar="FILE",
        dest="app_screenshot",
        help="open the workspace, select the first query, save the window "
        "showing --view as FILE (PNG) and exit",
    )
    g.add_argument(
        "--geometry",
        type=geometry_arg,
        default=None,
        metavar="WxH",
        dest="app_geometry",
        help="the screenshot's window size (default 1366x768)",
    )
    g.add_argument(
        "--view",
        choices=list(VIEWS),
        default="compare",
        dest="app_view",
        help="the view to show (default compare)",
    )
    return parser


def geometry_arg(value: str) -> tuple[int, int]:
    """``WxH`` (e.g. ``1366x768``) as a size."""
    w, sep, h = value.lower().partition("x")
    if not (
        sep and w.isdigit() and h.isdigit() and 320 <= int(w) <= 8192 and 240 <= int(h) <= 8192
    ):
        raise argparse.ArgumentTypeError(f"{value!r} is not a size WxH such as 1366x768")
    return int(w), int(h)


def workspace_config(args: argparse.Namespace):
    """The :class:`WorkspaceConfig` the flags describe (``None`` without a dataset),
    validated cheaply (folders, languages, model names) so bad input fails before Qt."""
    from clirlens.core.models.spec import run_values
    from clirlens.core.workspace.config import WorkspaceConfig
    from clirlens.core.workspace.workspace import Workspace

    folder = args.app_xquad or args.app_beir or args.app_irds
    if folder is None:
        if args.app_models or args.app_runs:
            raise UserError("--model needs a dataset: add --xquad DIR or --beir DIR")
        if args.app_screenshot:
            raise UserError("--screenshot needs a workspace: --xquad DIR --model A --model B")
        return None
    config = WorkspaceConfig(
        dataset=folder,
        kind="xquad" if args.app_xquad else "beir" if args.app_beir else "irds",
        models=(*(args.app_models or ()), *run_values(args.app_runs or [])),
        query_langs=tuple(split_langs(args.app_query_langs, "--query-langs"))
        if args.app_query_langs
        else (),
        doc_langs=tuple(split_langs(args.app_doc_langs, "--doc-langs"))
        if args.app_doc_langs
        else (),
        subset=args.app_subset,
        k=args.app_k,
        dtype=args.app_dtype,
        db=args.app_db,
    )
    Workspace(config)  # raises UserError with one line
    if args.app_screenshot:
        folder = Path(args.app_screenshot).expanduser().resolve().parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(
                f"--screenshot {args.app_screenshot}: cannot create the folder {folder} "
                f"({exc.strerror or exc})"
            ) from None
    return config


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_app_parser()
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exc:  # --help, --version, or a usage error (code 2)
        return int(exc.code or 0) if not isinstance(exc.code, str) else 2
    if getattr(args, "command", None):
        return dispatch(args)
    try:
        config = workspace_config(args)
    except UserError as exc:
        print(f"clirlens: error: {exc}", file=sys.stderr)
        return exc.exit_code
    from clirlens.gui.shell.app import run_app

    show_warnings()
    return run_app(
        config,
        screenshot=args.app_screenshot,
        view=args.app_view,
        db=args.app_db,
        geometry=args.app_geometry,
    )


if __name__ == "__main__":
    sys.exit(main())
