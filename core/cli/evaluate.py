"""``clirlens eval`` and ``clirlens index``: evaluation of models on XQuAD or BEIR directions
through the one pipeline the dashboard runs (:mod:`clirlens.core.workspace.pipeline`), and
filling the caches ahead of time."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from clirlens.core.cli.common import (
    Subcommands,
    add_campaign_args,
    add_data_args,
    add_depth_arg,
    add_model_args,
    load_judgments,
    positive_int,
    workspace_config,
)
from clirlens.core.errors import UserError

QRELS = ("gold", "human", "both")
DEFAULT = "nDCG@10,RR@10,R@1,R@5,R@100"


def add_parsers(sub: Subcommands) -> None:
    p = sub.add_parser(
        "eval",
        help="evaluate models on XQuAD or BEIR directions (metrics + significance)",
        description="Run each model on every direction QUERY_LANG -> DOC_LANG and print "
        "nDCG@10, RR@10, R@1, R@5, R@100; with two models, A - B with its 95%% bootstrap "
        "interval and paired significance (t-test and permutation test, Holm-corrected "
        "across directions). The same pipeline as the application's dashboard.",
    )
    add_model_args(p)
    add_data_args(p)
    add_depth_arg(p)
    p.add_argument(
        "--out",
        type=Path,
        help="write metrics.json, per_query.csv, comparisons.json, table.csv, table.tex, "
        "runs/, manifest.json and config.toml here (a new or empty folder, or --force)",
    )
    p.add_argument("--force", action="store_true", help="write into a non-empty --out folder")
    p.add_argument(
        "--measures",
        default=None,
        help="comma-separated (default nDCG@10,RR@10,R@1,R@5,R@100; with --dataset of a "
        "family with published tables, theirs: RR@100,R@100 for Mr.TyDi, nDCG@10,R@100 "
        "for MIRACL)",
    )
    p.add_argument(
        "--resamples",
        type=positive_int,
        default=None,
        help="permutation and bootstrap resamples (default 10000, as the dashboard)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the resampling (default 0)")
    p.add_argument("--json", action="store_true", help="print metrics.json records to stdout")
    p.add_argument(
        "--task",
        choices=("directions", "xquad-r"),
        default="directions",
        help="directions (default): each QUERY_LANG -> DOC_LANG; xquad-r: LAReQA's pooled "
        "answer-sentence retrieval over the --query-langs (default its 11), mAP@20 and each "
        "model's language preference",
    )
    p.add_argument("--top-k", type=positive_int, default=10, help="xquad-r: shares in the top K")
    p.add_argument(
        "--alignment",
        action="store_true",
        help="also score each model's OT alignment of the query languages with English",
    )
    g = add_campaign_args(p, "evaluate against this campaign too")
    g.add_argument(
        "--min-grade",
        type=int,
        choices=(1, 2, 3),
        default=2,
        help="the grade that counts as relevant (default 2, relevant)",
    )
    g.add_argument(
        "--qrels",
        choices=QRELS,
        default=None,
        help="what to evaluate against (default: gold, or both with --campaign)",
    )
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser(
        "index",
        help="encode and cache corpora ahead of time",
        description="Encode the DOC_LANGS corpora (and QUERY_LANGS queries) with each model "
        "and store embeddings and indexes in the cache, so later runs find it warm.",
    )
    add_model_args(p)
    add_data_args(p, query_default="")
    p.add_argument(
        "--ray",
        nargs="?",
        const="",
        default=None,
        metavar="ADDRESS",
        help="encode the passages on a Ray cluster (ADDRESS such as ray://head:10001; none: "
        "start Ray on this machine), into the same cache a local run uses; needs "
        "pip install 'clirlens[ray]'",
    )
    p.add_argument(
        "--ray-actors",
        type=int,
        default=None,
        metavar="N",
        help="encoders in the Ray actor pool (default: one per GPU, else one per two CPUs)",
    )
    p.set_defaults(func=cmd_index)


def open_workspace(args: argparse.Namespace):
    """The workspace the flags describe (checked before any model loads); notes about model
    conventions that are guesses go to stderr, one line each."""
    from clirlens.core.retrieval.cache import Cache
    from clirlens.core.workspace.workspace import Workspace

    workspace = Workspace(workspace_config(args), cache=Cache(args.cache_dir), min_models=1)
    workspace.check_data(workspace.directions)  # bad data: one line, before anything else
    for note in workspace.convention_notes():
        print(f"clirlens: note: {note}", file=sys.stderr)
    return workspace


def cmd_eval(args: argparse.Namespace) -> int:
    from clirlens.core.evaluation.significance import N_RESAMPLES
    from clirlens.core.progress import run_with_bar
    from clirlens.core.workspace.pipeline import EvalPlan, evaluate_workspace
    from clirlens.core.workspace.results import check_out, save_report

    if args.task == "xquad-r":
        from clirlens.core.cli.xquad_r import cmd_xquad_r

        return cmd_xquad_r(args)
    measures = tuple(x.strip() for x in (args.measures or DEFAULT).split(",") if x.strip())
    published = ""
    if args.measures is None and getattr(args, "dataset", None):
        from clirlens.core.data.irds import published_measures

        found = published_measures(args.dataset)
        if found is not None:
            measures, published = found
    choice = args.qrels or ("both" if args.campaign else "gold")
    if args.out:
        check_out(args.out, args.force)  # before any work: a bad --out fails at once
    if choice != "gold" and not args.campaign:
        raise UserError(f"--qrels {choice} needs judgments: add --campaign NAME")
    workspace = open_workspace(args)
    if published:
        print(f"clirlens: note: measures of the published tables ({published})", file=sys.stderr)
    human, source, min_grade = None, "", args.min_grade
    if choice != "gold":
        human, source, min_grade = load_judgments(
            args.db, args.campaign, args.annotator, args.aggregate, args.min_grade
        )
    plan = EvalPlan(
        directions=workspace.directions,
        measures=measures,
        gold=choice != "human",
        human=human,
        human_source=source,
        min_grade=min_grade,
        pair=(0, 1) if len(workspace.specs) >= 2 else None,
        alignment=args.alignment,
        n_resamples=args.resamples or N_RESAMPLES,
        seed=args.seed,
    )
    report = run_with_bar(evaluate_workspace(workspace, plan), quiet=args.quiet)
    if args.json:
        from clirlens.core.workspace.results import metric_records

        print(json.dumps(metric_records(report), indent=1))
    else:
        print(format_table(report))
    if args.out:
        save_report(report, args.out, eval_config(args, workspace, plan), replace=args.force)
        print(f"wrote {args.out}", file=sys.stderr)
    return 0


def eval_config(args: argparse.Namespace, workspace, plan) -> dict:
    """What ``config.toml`` records: the command's parameters, enough to run it again."""
    cfg = workspace.config
    return {
        "command": "eval",
        "models": list(cfg.models),
        cfg.kind: cfg.dataset,
        "split": cfg.split if cfg.kind == "beir" else None,
        "query_langs": list(workspace.query_langs),
        "doc_langs": list(workspace.doc_langs),
        "subset": cfg.subset,
        "measures": list(plan.measures),
        "depth": cfg.k,
        "dtype": cfg.dtype,
        "device": cfg.device,
        "batch_size": cfg.batch_size,
        "index": cfg.index,
        "resamples": plan.n_resamples,
        "seed": plan.seed,
        "campaign": getattr(args, "campaign", None),
        "annotator": getattr(args, "annotator", None),
        "aggregate": getattr(args, "aggregate", None) if getattr(args, "campaign", None) else None,
        "db": cfg.db,
        "alignment": plan.alignment,
    }


def format_table(report) -> str:
    """Per qrels source and direction, one row per model; then A − B with its 95% bootstrap
    interval and the Holm-corrected p-values."""
    from clirlens.core.evaluation.report import SOURCES

    ms = report.measures
    pair = " - ".join(report.pair) if report.pair else ""
    width = max(16, len(pair), *(len(m) for m in report.models)) + 2
    col = 12
    lines = []
    several = len(report.sources) > 1
    for d in report.directions:
        against = f"; {SOURCES[d.source]}" if several or d.source != "gold" else ""
        lines.append(
            f"\n{d.label}  (queries {d.query_lang}, passages {d.doc_lang}, n={d.n}{against})"
        )
        lines.append(
            "  " + "model".ljust(width) + "".join(m.rjust(col) for m in ms) + "   fine-tuning saw"
        )
        for model, ev in d.evaluations.items():
            lines.append(
                "  "
                + model.ljust(width)
                + "".join(f"{ev.aggregate[m]:{col}.3f}" for m in ms)
                + f"   {report.saw(model, d.query_lang, d.doc_lang)}"
            )
        comps = [report.comparison(d.source, d.label, m) for m in ms]
        if report.pair and all(c is not None for c in comps):
            lines.append(
                "  " + pair.ljust(width) + "".join(f"{c.difference:+{col}.3f}" for c in comps)
            )
            lines.append(
                "  "
                + "95% CI".ljust(width)
                + "".join(f"{_ci(c.ci_low, c.ci_high):>{col}}" for c in comps)
            )
            lines.append(
                "  "
                + "p perm (Holm)".ljust(width)
                + "".join(f"{_p(c.p_permutation_holm):>{col}}" for c in comps)
            )
            lines.append(
                "  "
                + "p t-test (Holm)".ljust(width)
                + "".join(f"{_p(c.p_ttest_holm):>{col}}" for c in comps)
            )
    for note in report.notes:
        lines.append(f"\nnote: {note}")
    sources = [(m, r) for m, r in report.training.items() if r is not None]
    if sources:
        lines.append("\nfine-tuning languages:")
        lines += [f"  {m}: {r.source}" for m, r in sources]
    return "\n".join(lines).lstrip("\n")


def _ci(low: float, high: float) -> str:
    if math.isnan(low) or math.isnan(high):
        return "-"
    return f"[{low:+.2f},{high:+.2f}]"


def _p(p: float | None) -> str:
    if p is None:
        return "-"
    stars = "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else ""
    return (f"{p:.1e}" if p < 0.001 else f"{p:.3f}") + stars


def cmd_index(args: argparse.Namespace) -> int:
    from clirlens.core.progress import run_with_bar

    ray = None
    if args.ray is not None:
        from clirlens.core.retrieval.ray_encode import RayOptions, ray_module

        if args.ray_actors is not None and args.ray_actors < 1:
            raise UserError(f"--ray-actors must be at least 1, got {args.ray_actors}")
        ray_module()  # not installed: one line saying how, before anything is read
        ray = RayOptions(args.ray or None, args.ray_actors)
    workspace = open_workspace(args)
    qlangs = list(workspace.query_langs) if args.query_langs else []
    for i in range(len(workspace.specs) if ray is not None else 0):
        for dlang in workspace.doc_langs:  # before any reading: Ray encodes, not the reader
            retriever = workspace.retriever(i, dlang)
            if hasattr(retriever, "ray"):
                retriever.ray = ray
    for i, spec in enumerate(workspace.specs):
        for dlang in workspace.doc_langs:
            # the first dense model encodes while a new corpus is read: its bar is shown
            corpus = run_with_bar(workspace.corpus(dlang), quiet=args.quiet)
            retriever = workspace.retriever(i, dlang)
            run_with_bar(retriever.prepare(corpus), quiet=args.quiet)
            print(f"{spec.name}: {dlang} corpus ready ({_index_line(retriever)})", file=sys.stderr)
            if _approximate(retriever):
                task = run_with_bar(workspace.task(workspace.query_langs[0], dlang), quiet=True)
                run_with_bar(retriever.search(task.queries, workspace.config.k), quiet=True)
                print(f"{spec.name}: {dlang} {_index_line(retriever)}", file=sys.stderr)
        retriever = workspace.retriever(i, workspace.doc_langs[0])
        for qlang in qlangs:
            if hasattr(retriever, "embed_queries"):
                task = run_with_bar(workspace.task(qlang, workspace.doc_langs[0]), quiet=True)
                run_with_bar(retriever.embed_queries(task.queries), quiet=args.quiet)
                print(f"{spec.name}: {qlang} queries ready", file=sys.stderr)
    return 0


def _approximate(retriever) -> bool:
    return getattr(retriever, "describe", dict)().get("index") in ("hnsw", "ivfpq")


def _index_line(retriever) -> str:
    """What index a retriever built and, once searched, what its approximation costs."""
    info = retriever.describe()
    line = f"{info.get('passages', 0):,} passages, {info.get('index', retriever.kind)} index"
    recall = info.get("index_recall")
    if recall:
        line = (
            f"{info['index']} index: recall@{recall['k']} {recall['recall']:.3f} against "
            f"exact search on {recall['queries']} queries"
        )
    return line
