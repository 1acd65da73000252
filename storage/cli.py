"""``clirlens judgments ...`` and ``clirlens campaigns ...``: the storage subcommands.

:func:`add_parsers` adds them to the top-level parser's subparsers; each leaf sets
``func(args) -> int`` (the exit code). Bad input raises :class:`UserError`, which the top-level
CLI prints as one line (exit 2). Every command takes ``--db URL`` (a SQLAlchemy URL or a SQLite
file; default ``$CLIRLENS_DB`` or ``DATA_DIR/judgments.sqlite``). SQLAlchemy is imported only
when a command runs, so ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import math
import sys

from clirlens.core.cli.common import Subcommands, provide_judgments
from clirlens.core.errors import UserError

GRADES_HELP = "grades: 0 not relevant, 1 related, 2 relevant, 3 answers the question"


def load_campaign_qrels(
    db: str | None, campaign: str, annotator: str | None, method: str, min_grade: int
) -> tuple[dict, str, int]:
    """``clirlens eval --campaign``: the campaign's judgments as qrels per direction."""
    from .judging import campaign_qrels
    from .repository import JudgmentRepository

    with JudgmentRepository.open(db, create=False) as repo:
        found = campaign_qrels(
            repo, campaign, annotator=annotator, method=method, min_grade=min_grade
        )
    return found.by_direction, found.source, found.min_grade


def add_parsers(subparsers: Subcommands) -> None:
    provide_judgments(load_campaign_qrels)
    db = argparse.ArgumentParser(add_help=False)
    db.add_argument(
        "--db",
        metavar="URL",
        help="judgments database: a SQLAlchemy URL (e.g. postgresql+psycopg://host/db) or a "
        "SQLite file (default: $CLIRLENS_DB, else judgments.sqlite in the data directory)",
    )

    judgments = subparsers.add_parser(
        "judgments",
        help="import, export and compare relevance judgments",
        description=f"Relevance judgments of judging campaigns ({GRADES_HELP}).",
    )
    jsub = judgments.add_subparsers(dest="judgments_command", metavar="COMMAND", required=True)

    p = jsub.add_parser(
        "import",
        parents=[db],
        help="import a TREC qrels file as one annotator's judgments",
        description="Import a TREC qrels file (query iteration passage grade) as ANNOTATOR's "
        "judgments in campaign NAME, created from the file's pairs when it does not exist. "
        "Every line is checked first; a file with any bad line imports nothing.",
    )
    p.add_argument("file", metavar="FILE", help="TREC qrels file")
    p.add_argument("--campaign", required=True, metavar="NAME")
    p.add_argument("--annotator", required=True, metavar="NAME")
    p.set_defaults(func=cmd_import)

    p = jsub.add_parser(
        "export",
        parents=[db],
        help="write a campaign's judgments to stdout as TREC qrels",
        description="Write the judgments of campaign NAME to stdout: one annotator's grades, "
        "or (without --annotator) all annotators' grades aggregated.",
    )
    p.add_argument("--campaign", required=True, metavar="NAME")
    p.add_argument("--annotator", metavar="NAME", help="only this annotator's grades")
    p.add_argument("--format", choices=["trec"], default="trec", help="output format")
    p.add_argument(
        "--aggregate",
        choices=["majority", "mean"],
        default="majority",
        help="without --annotator: the most frequent grade (ties: the lower one), or binary "
        "relevance from the mean grade and --threshold (default: majority)",
    )
    p.add_argument(
        "--threshold",
        type=float,
        default=2.0,
        help="with --aggregate mean: mean grade needed to count as relevant (default 2.0)",
    )
    p.set_defaults(func=cmd_export)

    p = jsub.add_parser(
        "agreement",
        parents=[db],
        help="inter-annotator agreement of a campaign",
        description="Weighted Cohen's kappa for every pair of annotators (over the items both "
        "judged) and Krippendorff's alpha (ordinal) for all of them.",
    )
    p.add_argument("--campaign", required=True, metavar="NAME")
    p.add_argument(
        "--weights",
        choices=["quadratic", "linear"],
        default="quadratic",
        help="kappa disagreement weights (default: quadratic, for ordinal grades)",
    )
    p.set_defaults(func=cmd_agreement)

    campaigns = subparsers.add_parser("campaigns", help="judging campaigns")
    csub = campaigns.add_subparsers(dest="campaigns_command", metavar="COMMAND", required=True)
    p = csub.add_parser("list", parents=[db], help="list campaigns with their size and progress")
    p.set_defaults(func=cmd_campaigns_list)


def _open(args: argparse.Namespace, *, create: bool = False):  # type: ignore[no-untyped-def]
    """The database of ``--db``; only importing may create it."""
    from .repository import JudgmentRepository

    return JudgmentRepository.open(args.db, create=create)


def cmd_import(args: argparse.Namespace) -> int:
    from .exchange import import_qrels_file

    with _open(args, create=True) as repo:
        s = import_qrels_file(repo, args.file, args.campaign, args.annotator)
    created = "; created the campaign" if s.created_campaign else ""
    print(
        f"imported {args.file} into campaign {s.campaign!r} as {s.annotator}: {s.added} new, "
        f"{s.changed} changed, {s.unchanged} unchanged{created}"
    )
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from .exchange import export_qrels

    with _open(args) as repo:
        text = export_qrels(
            repo, args.campaign, args.annotator, method=args.aggregate, threshold=args.threshold
        )
    if not text:
        print(f"campaign {args.campaign!r} has no judgments yet", file=sys.stderr)
    sys.stdout.write(text)
    return 0


def _fmt(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.3f}"


def cmd_agreement(args: argparse.Namespace) -> int:
    with _open(args) as repo:
        result = repo.agreement(args.campaign, weights=args.weights)
    if len(result.annotators) < 2:
        raise UserError(
            f"campaign {args.campaign!r} has judgments from {len(result.annotators)} "
            "annotator(s); agreement needs at least two"
        )
    names = ", ".join(result.annotators)
    print(
        f"campaign {result.campaign!r}: {len(result.annotators)} annotators ({names}), "
        f"{result.n_items} items judged by two or more"
    )
    print(f"Krippendorff's alpha (ordinal): {_fmt(result.alpha)}")
    print(f"weighted Cohen's kappa ({result.weights}):")
    width = max(len(f"{p.a} / {p.b}") for p in result.pairs)
    for p in result.pairs:
        print(f"  {f'{p.a} / {p.b}':<{width}}  {_fmt(p.kappa):>6}  ({p.n} items)")
    if any(math.isnan(p.kappa) for p in result.pairs) or math.isnan(result.alpha):
        print("n/a: undefined (no items in common, or no variation in the grades)")
    return 0


def cmd_campaigns_list(args: argparse.Namespace) -> int:
    from .db import exists

    if args.db is None and not exists(None):  # the default database, not made yet
        print("no campaigns yet", file=sys.stderr)
        return 0
    with _open(args) as repo:
        rows = [(c, repo.progress(c.name)) for c in repo.campaigns()]
    if not rows:
        print("no campaigns yet", file=sys.stderr)
        return 0
    table = [("campaign", "items", "judged", "annotators", "blind", "models", "created (UTC)")]
    for c, prog in rows:
        table.append(
            (
                c.name,
                str(c.size),
                f"{prog.judged_by_any} ({prog.fraction:.0%})",
                ", ".join(a.annotator for a in prog.annotators) or "-",
                "yes" if c.blind else "no",
                ", ".join(c.models) or "-",
                c.created_at.strftime("%Y-%m-%d %H:%M"),
            )
        )
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    for r in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())
    return 0
