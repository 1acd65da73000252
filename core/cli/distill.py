"""``clirlens distill``: OT distillation of a low-resource query encoder from an English
teacher (:mod:`clirlens.core.distill`), with held-out figures before and after."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from clirlens.core.cli.common import Subcommands, add_runtime_args, positive_int


def add_parsers(sub: Subcommands) -> None:
    p = sub.add_parser(
        "distill",
        help="distil a low-resource query encoder from an English teacher (OPTICAL)",
        description="Train STUDENT so that its token states of each low-resource text match "
        "the frozen TEACHER's of the English translation under an optimal-transport plan "
        "(loss <P, C>, C = 1 - cos, Sinkhorn). Bitext: XQuAD's parallel questions of "
        "--train-articles (held-out R@1, RR@10 and OT cost are measured on the other "
        "articles, before and after, beside the teacher alone and a linear-map baseline), "
        "or a --bitext file. Writes a model folder that transformers and "
        "sentence-transformers load and that clirlens pairs with its teacher.",
    )
    p.add_argument("--teacher", required=True, metavar="M", help="the English retriever")
    p.add_argument("--student", required=True, metavar="M", help="multilingual initialisation")
    p.add_argument("--lang", required=True, help="the low-resource language, e.g. th")
    p.add_argument("--pivot", default="en", help="the teacher's language (default en)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument(
        "--xquad", type=Path, metavar="DIR", help="train on XQuAD's parallel questions"
    )
    src.add_argument(
        "--bitext", metavar="FILE", help="TSV source<TAB>target, JSONL, or A.th,A.en parallel files"
    )
    p.add_argument(
        "--train-articles", default="0-31", help="XQuAD articles to train on (default 0-31)"
    )
    p.add_argument("--paragraphs", action="store_true", help="XQuAD's parallel paragraphs too")
    p.add_argument(
        "--english-pairs",
        action="store_true",
        help="each English question paired with itself too (the teacher's space on English)",
    )
    p.add_argument(
        "--heldout-xquad", type=Path, metavar="DIR",
        help="with --bitext: evaluate on this XQuAD's articles outside --train-articles",
    )  # fmt: skip
    p.add_argument("--out", type=Path, required=True, help="the student's folder")
    p.add_argument("--force", action="store_true", help="replace --out if it holds a model")
    p.add_argument("--resume", action="store_true", help="continue from --out's checkpoint")
    p.add_argument("--steps", type=positive_int, help="training steps (default: --epochs)")
    p.add_argument("--epochs", type=positive_int, default=1)
    p.add_argument("--lr", type=float, default=2e-5)
    p.add_argument("--warmup", type=int, default=10, help="warm-up steps (default 10)")
    p.add_argument("--eps", type=float, default=0.05, help="Sinkhorn ε of the loss")
    p.add_argument("--layer", type=int, default=-1, help="hidden layer aligned (default last)")
    p.add_argument("--weights", choices=("uniform", "norm"), default="uniform")
    p.add_argument(
        "--sentence-weight", type=float, default=0.0,
        help="weight of the sentence-level term ||u - v||^2 of normalised embeddings",
    )  # fmt: skip
    p.add_argument(
        "--head", action="store_true",
        help="a projection head after pooling, started from the ridge map fitted on the bitext",
    )  # fmt: skip
    p.add_argument(
        "--train-embeddings", action="store_true",
        help="train the embedding matrix too (frozen by default: most of e5's parameters)",
    )  # fmt: skip
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--checkpoint-every", type=positive_int, default=50)
    p.add_argument("--eval-every", type=int, default=0, help="held-out figures every N steps")
    add_runtime_args(p)
    p.add_argument("--cache-dir", default=None, help="embedding cache (teacher passages)")
    p.set_defaults(func=cmd_distill, batch_size=16)


def cmd_distill(args: argparse.Namespace) -> int:
    from clirlens.core.data.xquad import load_xquad
    from clirlens.core.distill.bitext import parse_articles, read_bitext, xquad_bitext
    from clirlens.core.distill.heldout import xquad_heldout
    from clirlens.core.distill.run import describe, distill
    from clirlens.core.distill.train import DistillConfig
    from clirlens.core.errors import UserError
    from clirlens.core.progress import run_with_bar
    from clirlens.core.retrieval.cache import Cache

    out = args.out.expanduser()
    if out.exists() and any(out.iterdir()) and not (args.force or args.resume):
        raise UserError(
            f"--out {out} is not empty: choose a new folder, add --resume to continue its "
            "run, or --force to replace it"
        )
    config = DistillConfig(
        steps=args.steps, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
        warmup=args.warmup, eps=args.eps, layer=args.layer, weights=args.weights,
        sentence_weight=args.sentence_weight, head=args.head,
        freeze_embeddings=not args.train_embeddings,
        dtype=args.dtype, seed=args.seed, checkpoint_every=args.checkpoint_every,
        eval_every=args.eval_every,
    )  # fmt: skip
    config.check()
    articles = parse_articles(args.train_articles)
    lang, pivot = args.lang.strip().lower(), args.pivot.strip().lower()
    heldout = None
    folder = args.xquad or args.heldout_xquad
    if folder is not None:
        xq = load_xquad(folder, [lang, pivot])
        heldout = xquad_heldout(xq, lang, articles, pivot)
    if args.bitext:
        bitext = read_bitext(args.bitext)
    else:
        bitext = xquad_bitext(
            xq, lang, articles, pivot, paragraphs=args.paragraphs, english=args.english_pairs
        )
    job = distill(
        args.teacher, args.student, lang, bitext, out, config, heldout=heldout,
        pivot=pivot, resume=args.resume, cache=Cache(args.cache_dir),
    )  # fmt: skip
    result = run_with_bar(job, quiet=args.quiet)
    print(describe(result))
    sys.stdout.flush()
    return 0
