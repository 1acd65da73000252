"""``clirlens eval`` and ``clirlens index``: XQuAD cross-lingual evaluation and cache warm-up."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from clirlens.core.cli.common import Subcommands, add_model_args, positive_int, split_langs


def add_parsers(sub: Subcommands) -> None:
    p = sub.add_parser(
        "eval",
        help="evaluate models on XQuAD directions (metrics + significance)",
        description="Run each model on every direction QUERY_LANG -> DOC_LANG of XQuAD and "
        "print nDCG@10, RR@10, R@1, R@5, R@100; with two models, paired significance of A vs "
        "B per direction (t-test and permutation test, Holm-corrected across directions).",
    )
    add_model_args(p)
    _add_data_args(p)
    p.add_argument(
        "--out",
        type=Path,
        help="write runs, per-query metrics, metrics.json, "
        "comparisons.json, manifest.json and config.toml here",
    )
    p.add_argument("--k", type=positive_int, default=100, help="depth of each run")
    p.add_argument("--measures", default="nDCG@10,RR@10,R@1,R@5,R@100")
    p.add_argument(
        "--resamples", type=positive_int, default=10_000, help="permutation-test resamples"
    )
    p.add_argument("--json", action="store_true", help="print metrics.json records to stdout")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser(
        "index",
        help="encode and cache corpora ahead of time",
        description="Encode the DOC_LANGS corpora (and QUERY_LANGS queries) of "
        "XQuAD with each model and store embeddings/indexes in the cache.",
    )
    add_model_args(p)
    _add_data_args(p, query_default="")
    p.set_defaults(func=cmd_index)


def _add_data_args(p: argparse.ArgumentParser, query_default: str = "el,hi,ro,th,tr") -> None:
    p.add_argument(
        "--xquad",
        type=Path,
        required=True,
        metavar="DIR",
        help="folder with xquad.<lang>.json files",
    )
    p.add_argument(
        "--query-langs",
        default=query_default,
        help=f"comma-separated (default: {query_default or 'none'})",
    )
    p.add_argument("--doc-langs", default="en", help="comma-separated (default: en)")


def build_retrievers(args: argparse.Namespace) -> list:
    from clirlens.core.models.spec import parse_model_arg
    from clirlens.core.retrieval.cache import Cache
    from clirlens.core.retrieval.index import IndexConfig
    from clirlens.core.retrieval.retriever import make_retriever

    specs = [parse_model_arg(m) for m in args.models]  # all parsed before any loading
    cache = Cache(args.cache_dir)
    config = IndexConfig(args.index)
    return [
        make_retriever(
            s,
            device=args.device,
            dtype=args.dtype,
            batch_size=args.batch_size,
            cache=cache,
            index_config=config,
        )
        for s in specs
    ]


def cmd_eval(args: argparse.Namespace) -> int:
    from clirlens.core.data.xquad import load_xquad
    from clirlens.core.progress import run_with_bar
    from clirlens.core.workspace import experiment

    qlangs = split_langs(args.query_langs, "--query-langs")
    dlangs = split_langs(args.doc_langs, "--doc-langs")
    measures = split_langs(args.measures, "--measures")
    retrievers = build_retrievers(args)  # checks every --model before touching data
    dataset = load_xquad(args.xquad, dict.fromkeys([*qlangs, *dlangs]))
    result = run_with_bar(
        experiment.run_experiment(
            dataset,
            retrievers,
            qlangs,
            dlangs,
            measures=measures,
            k=args.k,
            n_resamples=args.resamples,
        ),
        quiet=args.quiet,
    )
    if args.json:
        import json

        print(json.dumps(result.metric_records(), indent=1))
    else:
        print(format_table(result))
    if args.out:
        config = {
            "command": "eval",
            "models": args.models,
            "xquad": str(args.xquad),
            "query_langs": qlangs,
            "doc_langs": dlangs,
            "measures": measures,
            "k": args.k,
            "dtype": args.dtype,
            "device": args.device,
            "batch_size": args.batch_size,
            "index": args.index,
            "resamples": args.resamples,
        }
        experiment.save(result, args.out, config)
        print(f"wrote {args.out}", file=sys.stderr)
    return 0


def format_table(result) -> str:
    """Per direction, one row per model; then A vs B significance (Holm-corrected)."""
    ms = result.measures
    pair = " - ".join(result.models[:2]) if len(result.models) > 1 else ""
    width = max(16, len(pair), *(len(m) for m in result.models)) + 2
    col = 12
    lines = []
    for d in result.directions:
        lines.append(
            f"\n{d.label}  (queries {d.query_lang}, passages {d.doc_lang}, "
            f"n={len(next(iter(d.evaluations.values())).query_ids)})"
        )
        lines.append("  " + "model".ljust(width) + "".join(m.rjust(col) for m in ms))
        for model, ev in d.evaluations.items():
            lines.append(
                "  " + model.ljust(width) + "".join(f"{ev.aggregate[m]:{col}.3f}" for m in ms)
            )
        comps = [c for c in result.comparisons if c.label == d.label]
        if comps:
            lines.append(
                "  " + pair.ljust(width) + "".join(f"{c.difference:+{col}.3f}" for c in comps)
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
    return "\n".join(lines).lstrip("\n")


def _p(p: float | None) -> str:
    if p is None:
        return "-"
    stars = "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else ""
    return (f"{p:.1e}" if p < 0.001 else f"{p:.3f}") + stars


def cmd_index(args: argparse.Namespace) -> int:
    from clirlens.core.data.xquad import load_xquad
    from clirlens.core.progress import run_with_bar

    qlangs = split_langs(args.query_langs, "--query-langs") if args.query_langs else []
    dlangs = split_langs(args.doc_langs, "--doc-langs")
    dataset = load_xquad(args.xquad, dict.fromkeys([*qlangs, *dlangs]))
    for r in build_retrievers(args):
        for dlang in dlangs:
            run_with_bar(r.prepare(dataset.passages(dlang)), quiet=args.quiet)
            print(f"{r.name}: {dlang} corpus ready", file=sys.stderr)
        for qlang in qlangs:
            if hasattr(r, "embed_queries"):
                run_with_bar(r.embed_queries(dataset.queries(qlang)), quiet=args.quiet)
                print(f"{r.name}: {qlang} queries ready", file=sys.stderr)
    return 0
