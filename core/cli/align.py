"""``clirlens align`` and ``clirlens align-score``: OT token alignment (docs/architecture.md §5)."""

from __future__ import annotations

import argparse
import json
import sys

from clirlens.core.cli.common import Subcommands, add_runtime_args, positive_int, split_langs
from clirlens.core.errors import UserError
from clirlens.core.ot.problem import (
    DEFAULT_MAX_ITER,
    DEFAULT_OT,
    DEFAULT_SCORING,
    LOG_DOMAIN_BELOW,
    OTParams,
)


def add_parsers(sub: Subcommands) -> None:
    p = sub.add_parser(
        "align",
        help="align the tokens of two texts by optimal transport",
        description="Encode SOURCE and TARGET (with --model, or TARGET with --model2 for the "
        "cross-model case), take one layer's token states without special tokens, and "
        "compute the transport plan for the cost 1 - cos. Prints the strongest aligned "
        "token pairs, or with --json one object with the tokens, offsets, cost matrix, "
        "plan, marginals, best partners and solver details.",
    )
    p.add_argument("source", help="source text (e.g. a low-resource-language question)")
    p.add_argument("target", help="target text (e.g. its English translation)")
    p.add_argument(
        "--model",
        "-m",
        required=True,
        metavar="M",
        help="preset, preset=DIR, model directory or hub id (encodes SOURCE, "
        "and TARGET unless --model2 is given)",
    )
    p.add_argument(
        "--model2",
        metavar="M2",
        help="encode TARGET with this model (same hidden size as --model: student vs teacher)",
    )
    add_solver_args(p)
    p.add_argument(
        "--words",
        action="store_true",
        help="align the texts' words (ICU word boundaries, the same for every model; a "
        "word's vector is the mean of its pieces') instead of sub-word tokens",
    )
    p.add_argument(
        "--source-role",
        choices=("query", "passage"),
        default="query",
        help="which model prefix SOURCE gets (default: query)",
    )
    p.add_argument(
        "--target-role",
        choices=("query", "passage"),
        default="query",
        help="which model prefix TARGET gets (default: query)",
    )
    p.add_argument(
        "--top", type=positive_int, default=15, help="how many aligned pairs to print (default 15)"
    )
    p.add_argument("--json", action="store_true", help="print the alignment as one JSON object")
    add_runtime_args(p, progress=False)
    p.set_defaults(func=cmd_align)

    p = sub.add_parser(
        "align-score",
        help="per-language OT alignment scores on XQuAD parallel questions",
        description="For each model and language X: the mean OT cost between X questions "
        "and their English translations (all parallel pairs unless --pairs), and "
        "translation retrieval by OT among N candidates: is the parallel English question "
        "the cheapest? (P@1 and MRR). Candidates are N parallel pairs spread over all "
        "articles (--pick first: the first N).",
    )
    p.add_argument(
        "--xquad", required=True, metavar="DIR", help="folder with xquad.<lang>.json files"
    )
    p.add_argument(
        "--langs", default="el,hi,ro,th,tr", help="comma-separated (default: el,hi,ro,th,tr)"
    )
    p.add_argument("--pivot", default="en", help="language of the parallel side (default en)")
    p.add_argument(
        "--model",
        "-m",
        action="append",
        dest="models",
        required=True,
        metavar="M",
        help="preset, preset=DIR, model directory or hub id; repeat for several models",
    )
    p.add_argument(
        "--n",
        type=positive_int,
        default=DEFAULT_SCORING.n,
        help=f"candidates for translation retrieval (default {DEFAULT_SCORING.n})",
    )
    p.add_argument(
        "--pairs",
        type=positive_int,
        default=DEFAULT_SCORING.cost_pairs,
        metavar="K",
        help="mean cost over the first K parallel pairs (default "
        f"{DEFAULT_SCORING.cost_pairs}, as the dashboard)",
    )
    p.add_argument(
        "--pick",
        choices=("spread", "first"),
        default="spread",
        help="which N pairs form the candidate set (default: spread)",
    )
    add_solver_args(p)
    p.add_argument(
        "--cache-dir",
        default=None,
        help="also keep token states on disk here (default: in memory only)",
    )
    p.add_argument(
        "--details", action="store_true", help="with --json: per-question costs and ranks"
    )
    p.add_argument(
        "--json", action="store_true", help="print one JSON record per (model, language)"
    )
    add_runtime_args(p)
    p.set_defaults(func=cmd_align_score)


def add_solver_args(p: argparse.ArgumentParser, *, unconverged: bool = True) -> None:
    """The transport problem's flags (see :func:`ot_params`); ``unconverged``: offer
    ``--accept-unconverged`` (commands that refuse an unconverged plan)."""
    g = p.add_argument_group("transport problem")
    g.add_argument(
        "--eps",
        type=float,
        default=None,
        metavar="ε",
        help=f"entropic regularisation (default {DEFAULT_OT.eps}; log-domain Sinkhorn below "
        f"{LOG_DOMAIN_BELOW}); also the ε of --unbalanced",
    )
    exclusive = g.add_mutually_exclusive_group()
    exclusive.add_argument("--emd", action="store_true", help="exact OT (ε = 0)")
    exclusive.add_argument(
        "--unbalanced",
        type=float,
        default=None,
        metavar="TAU",
        help="unbalanced OT with KL marginal relaxation τ",
    )
    g.add_argument(
        "--weights",
        choices=("uniform", "norm"),
        default="uniform",
        help="token masses: uniform, or proportional to the vector norm",
    )
    g.add_argument(
        "--layer", type=int, default=-1, help="hidden layer (default -1: last; 0: embeddings)"
    )
    g.add_argument(
        "--max-iter",
        type=positive_int,
        default=DEFAULT_MAX_ITER,
        help=f"iterations of the entropic solvers (default {DEFAULT_MAX_ITER})",
    )
    if not unconverged:
        return
    g.add_argument(
        "--accept-unconverged",
        action="store_true",
        help="print a plan whose solver stopped before converging instead of refusing it "
        "(align-score: no warning)",
    )


def ot_params(args: argparse.Namespace) -> OTParams:
    """The transport problem the flags describe, validated (before any model loads)."""
    common = {"weights": args.weights, "layer": args.layer, "words": getattr(args, "words", False)}
    if args.emd:
        if args.eps is not None:
            raise UserError("--eps has no meaning with --emd (exact OT has ε = 0)")
        params = OTParams("emd", 0.0, None, **common)
    else:
        eps = DEFAULT_OT.eps if args.eps is None else args.eps
        solver = "unbalanced" if args.unbalanced is not None else "sinkhorn"
        params = OTParams(solver, eps, args.unbalanced, **common)
    params.method  # noqa: B018 - validates
    return params


def _encoder(spec, args):
    from clirlens.core.cli.common import check_device
    from clirlens.core.models.encoder import Encoder

    check_device(args.device)
    return Encoder(spec, device=args.device, dtype=args.dtype, batch_size=args.batch_size)


def cmd_align(args: argparse.Namespace) -> int:
    from clirlens.core.models.spec import parse_model_arg
    from clirlens.core.ot.alignment import align_texts, check_text
    from clirlens.core.progress import run

    check_text(args.source, "source")
    check_text(args.target, "target")
    params = ot_params(args)  # fails before any model loads
    spec = parse_model_arg(args.model)
    spec2 = parse_model_arg(args.model2) if args.model2 else None
    enc = _encoder(spec, args)
    enc2 = _encoder(spec2, args) if spec2 is not None else None
    # two texts encode in a moment: no progress bar, so an error stays the only stderr line
    job = align_texts(
        args.source,
        args.target,
        enc,
        enc2,
        layer=params.layer,
        words=params.words,
        source_role=args.source_role,
        target_role=args.target_role,
        weights=params.weights,
        max_iter=args.max_iter,
        **params.solve_args(),
    )
    alignment = run(job)
    if not alignment.converged and not args.accept_unconverged:
        raise UserError(
            f"the transport plan did not converge ({alignment.solver}, ε={alignment.epsilon:g}, "
            f"{alignment.iterations} iterations): use a larger --eps, more --max-iter, --emd "
            "for the exact plan, or --accept-unconverged to print it anyway"
        )
    if args.json:
        print(json.dumps(alignment.to_json(), ensure_ascii=False))
    else:
        print(format_alignment(alignment, args.top))
    return 0


def format_alignment(al, top: int) -> str:
    """A header and the ``top`` strongest plan entries (mass and share of the source
    token's mass)."""
    n, m = al.shape
    models = (
        al.source_model
        if al.source_model == al.target_model
        else f"{al.source_model} -> {al.target_model}"
    )
    params = "" if al.solver == "emd" else f", ε={al.epsilon:g}"
    if al.tau is not None:
        params += f", τ={al.tau:g}"
    its = "" if al.iterations is None else f", {al.iterations} iterations"
    state = "converged" if al.converged else "NOT converged"
    unit = "words" if al.words else "tokens"
    lines = [
        f"model {models}, layer {al.layer}; {n} x {m} {unit}",
        f"solver {al.solver}{params}{its}, {state}",
        f"total cost <P,C> = {al.total_cost:.4f}, transported mass {al.transported_mass:.4f}",
        "",
        f"{'mass':>7} {'share':>6} {'cost':>6}  source -> target",
    ]
    for i, j, mass in al.top_pairs(top):
        share = mass / al.source_marginal[i] if al.source_marginal[i] > 0 else 0.0
        lines.append(
            f"{mass:7.4f} {share:6.1%} {al.cost[i, j]:6.3f}  "
            f"{al.source_tokens[i]} -> {al.target_tokens[j]}"
        )
    return "\n".join(lines)


def cmd_align_score(args: argparse.Namespace) -> int:
    from clirlens.core.data.xquad import load_xquad
    from clirlens.core.models.spec import parse_model_arg
    from clirlens.core.ot.problem import ScoringOptions
    from clirlens.core.ot.scoring import TokenStateCache, score_languages
    from clirlens.core.progress import run_with_bar
    from clirlens.core.retrieval.cache import Cache

    langs = split_langs(args.langs, "--langs")
    params = ot_params(args)
    specs = [parse_model_arg(m) for m in args.models]  # all checked before any loading
    for spec in specs:
        if spec.kind != "dense":
            raise UserError(
                f"model {spec.name!r} has no token states to align (not a dense encoder)"
            )
    data = load_xquad(args.xquad, dict.fromkeys([*langs, args.pivot]))
    for lang in [*langs, args.pivot]:
        data.queries(lang)  # parse and check parallelism before any model runs
    cache = TokenStateCache(Cache(args.cache_dir) if args.cache_dir else None)
    scores = run_with_bar(
        score_languages(
            [_encoder(s, args) for s in specs],
            data,
            langs,
            cache=cache,
            params=params,
            options=ScoringOptions(args.pivot, args.n, args.pairs, args.pick),
            max_iter=args.max_iter,
        ),
        quiet=args.quiet,
    )
    failed = [s for s in scores if s.unconverged]
    if failed and not args.accept_unconverged:  # flagged in the table too
        s = failed[0]
        print(
            f"clirlens: warning: {sum(x.unconverged for x in failed)} of "
            f"{sum(x.problems for x in scores)} transport problems stopped before converging "
            f"(e.g. {s.model} {s.lang}, ε={s.epsilon:g}); their costs are approximate: a larger "
            "--eps or more --max-iter helps",
            file=sys.stderr,
        )
    if args.json:
        print(
            json.dumps(
                [s.to_json(details=args.details) for s in scores], ensure_ascii=False, indent=1
            )
        )
    else:
        print(format_scores(scores))
    return 0


def format_scores(scores) -> str:
    """One row per (language, model): pairs, mean ± sd OT cost, retrieval P@1 and MRR."""
    if not scores:
        return "no scores"
    s0 = scores[0]
    params = "" if s0.solver == "emd" else f" ε={s0.epsilon:g}"
    if s0.tau is not None:
        params += f" τ={s0.tau:g}"
    width = max(8, *(len(s.model) for s in scores)) + 2
    lines = [
        f"OT alignment with {s0.pivot} (solver {s0.solver}{params}, layer {s0.layer}); "
        f"retrieval among {s0.candidates} candidates ({s0.pick})",
        f"{'lang':<6}{'model':<{width}}{'pairs':>6}{'mean cost':>11}{'sd':>8}{'P@1':>8}{'MRR':>8}",
    ]
    for s in sorted(scores, key=lambda s: s.lang):
        flag = f"  ({s.unconverged} of {s.problems} not converged)" if s.unconverged else ""
        lines.append(
            f"{s.lang:<6}{s.model:<{width}}{s.pairs:>6}{s.mean_cost:>11.4f}"
            f"{s.std_cost:>8.4f}{s.accuracy:>8.3f}{s.mrr:>8.3f}{flag}"
        )
    return "\n".join(lines)
