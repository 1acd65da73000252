"""``clirlens report``: the shareable comparison page of one direction, as the window's
File → Export comparison… writes it (:mod:`clirlens.core.workspace.comparison_report`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from clirlens.core.cli.align import add_solver_args, ot_params
from clirlens.core.cli.common import (
    Subcommands,
    add_campaign_args,
    add_data_args,
    add_depth_arg,
    add_model_args,
    load_judgments,
    positive_int,
)
from clirlens.core.errors import UserError


def add_parsers(sub: Subcommands) -> None:
    p = sub.add_parser(
        "report",
        help="write a self-contained HTML page comparing two models on chosen queries",
        description="For the queries given (--queries) or the N where models A and B "
        "disagree most (--top): both ranked lists side by side with gold badges, answer "
        "spans and rank shifts, the rank agreement, a campaign's judgments (--campaign) and "
        "each model's OT plan between the query and its parallel question (or its gold "
        "passage). One HTML file that opens offline in any browser.",
    )
    add_model_args(p)
    add_data_args(p, query_default="th")
    add_depth_arg(p)
    p.add_argument("--out", type=Path, required=True, help="the page to write (e.g. report.html)")
    p.add_argument("--force", action="store_true", help="replace --out if it exists")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--queries", metavar="IDS", help="comma-separated query ids, in order")
    which.add_argument(
        "--top",
        type=positive_int,
        default=20,
        metavar="N",
        help="the N queries where A and B disagree most (default 20)",
    )
    p.add_argument(
        "--shown",
        type=positive_int,
        default=10,
        metavar="K",
        help="passages per ranked list (default 10; a gold passage below is added)",
    )
    p.add_argument("--no-alignment", action="store_true", help="leave the OT plans out")
    add_solver_args(p, unconverged=False)
    p.add_argument("--words", action="store_true", help="plans between words, not sub-words")
    add_campaign_args(p, "show this campaign's judgments on the passages")
    p.set_defaults(func=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    from clirlens.core.cli.evaluate import open_workspace
    from clirlens.core.progress import run_with_bar
    from clirlens.core.workspace.comparison_html import generated_now, render_html
    from clirlens.core.workspace.comparison_report import build_report, check_page_out, write_page

    out = check_page_out(args.out, args.force)  # before any work
    params = None if args.no_alignment else ot_params(args)
    ids = [x.strip() for x in args.queries.split(",") if x.strip()] if args.queries else None
    if args.queries is not None and not ids:
        raise UserError("--queries is empty: give query ids such as 56be4db0acb8001400a502ec")
    workspace = open_workspace(args)
    if len(workspace.specs) < 2:
        raise UserError("a comparison needs two models: give --model twice")
    direction = workspace.directions[0]
    judgments, source = None, ""
    if args.campaign:
        by_direction, source, _ = load_judgments(
            args.db, args.campaign, args.annotator, args.aggregate, 1
        )
        judgments = by_direction.get(direction)
        if judgments is None:
            raise UserError(
                f"campaign {args.campaign!r} has no judgments for {direction.label}: "
                f"it judged {', '.join(d.label for d in by_direction)}"
            )
    job = build_report(
        workspace,
        direction,
        query_ids=ids,
        top=args.top,
        shown=args.shown,
        judgments=judgments,
        judgments_source=source,
        ot=params,
    )
    report = run_with_bar(job, quiet=args.quiet)
    write_page(out, render_html(report, generated_now()))
    print(f"wrote {out} ({len(report.queries)} queries)", file=sys.stderr)
    return 0
