"""``clirlens eval --task xquad-r``: LAReQA's XQuAD-R and each model's language preference
(:mod:`clirlens.core.evaluation.lareqa`)."""

from __future__ import annotations

import argparse
import sys

from clirlens.core.errors import UserError


def cmd_xquad_r(args: argparse.Namespace) -> int:
    from clirlens.core.cli.common import check_device, model_values, split_langs
    from clirlens.core.data.xquad import load_xquad
    from clirlens.core.evaluation.lareqa import LAREQA_LANGS, build_xquad_r, language_preference
    from clirlens.core.models.spec import parse_model_arg
    from clirlens.core.progress import run_with_bar
    from clirlens.core.retrieval.cache import Cache
    from clirlens.core.retrieval.retriever import make_retriever
    from clirlens.core.workspace.results import check_out

    if args.xquad is None:
        raise UserError("--task xquad-r is built from an XQuAD folder: give --xquad DIR")
    if args.out:
        check_out(args.out, args.force)  # before any work: a bad --out fails at once
    check_device(args.device)
    specs = [parse_model_arg(m) for m in model_values(args)]  # all checked before loading
    lazy = [s.name for s in specs if s.kind != "dense"]
    if lazy:
        raise UserError(f"{lazy[0]} is not a dense model: XQuAD-R compares embeddings")
    data = load_xquad(args.xquad)
    wanted = split_langs(args.query_langs, "--query-langs") if args.query_langs else None
    langs = wanted or [lang for lang in LAREQA_LANGS if lang in data.langs]
    task = build_xquad_r(data, langs, args.subset)
    cache = Cache(args.cache_dir) if args.cache_dir else Cache()
    results = []
    for spec in specs:
        retriever = make_retriever(spec, device=args.device, dtype=args.dtype,
                                   batch_size=args.batch_size, cache=cache)  # fmt: skip
        job = language_preference(retriever, task, k=args.top_k)
        results.append(run_with_bar(job, quiet=args.quiet))
    print(format_preference(task, results))
    if args.out:
        write_preference(args.out, task, results)
        print(f"wrote {args.out}", file=sys.stderr)
    return 0


def format_preference(task, results) -> str:
    langs = task.langs
    kept = len(task.answers)
    drops = ", ".join(f"{lang} {n}" for lang, n in task.dropped.items() if n)
    lines = [
        f"XQuAD-R: {kept} of {task.questions} questions in {len(langs)} languages "
        f"({', '.join(langs)}), {len(task.candidates)} candidate sentences ({task.splitter} "
        f"sentences); dropped, answer across a sentence boundary: {drops or 'none'}",
        "sentences per language: " + ", ".join(f"{lang} {task.sentences(lang)}" for lang in langs),
    ]
    for r in results:
        lines.append(f"\n{r.model}: mAP@20 {r.mean_map20:.3f}, same-language gap "
                     f"{r.mean_gap:+.1f} ranks")  # fmt: skip
        lines.append(f"  {'query':5}  {'mAP@20':>6} {'gap':>6}  | share of each candidate "
                     f"language in the top {r.k}")  # fmt: skip
        lines.append(f"  {'':5}  {'':6} {'':6}  | " + " ".join(f"{c:>5}" for c in langs))
        for q in langs:
            row = " ".join(f"{r.shares[q][c]:5.2f}" for c in langs)
            lines.append(f"  {q:5}  {r.map20[q]:6.3f} {r.gap[q]:+6.1f}  | {row}")
    return "\n".join(lines)


def write_preference(out, task, results) -> None:
    """``xquad_r.json`` and ``preference.csv`` into ``out`` (checked by ``check_out``)."""
    import json
    from pathlib import Path

    from clirlens.core.evaluation.lareqa import preference_csv

    out = Path(out)
    (out / "preference.csv").write_text(preference_csv(results), encoding="utf-8")
    record = {
        "task": "xquad-r",
        "langs": list(task.langs),
        "splitter": task.splitter,
        "questions": task.questions,
        "kept": len(task.answers),
        "dropped": dict(task.dropped),
        "sentences": {lang: task.sentences(lang) for lang in task.langs},
        "models": {
            r.model: {"map@20": dict(r.map20), "mean_map@20": r.mean_map20,
                      "same_language_gap": dict(r.gap), "mean_gap": r.mean_gap,
                      "recall@20": {q: dict(v) for q, v in r.recall.items()},
                      "mean_rank": {q: dict(v) for q, v in r.mean_rank.items()}}
            for r in results
        },
    }  # fmt: skip
    (out / "xquad_r.json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
