"""``clirlens search "text"``: one free-text query against an XQuAD corpus."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from clirlens.core.cli.common import Subcommands, add_model_args, positive_int


def add_parsers(sub: Subcommands) -> None:
    p = sub.add_parser(
        "search",
        help="search an XQuAD corpus with free text",
        description="Encode TEXT as a query with each model and print the top "
        "K passages of the DOC_LANG corpus.",
    )
    p.add_argument("text", help="the query")
    add_model_args(p)
    p.add_argument("--xquad", type=Path, required=True, metavar="DIR")
    p.add_argument("--doc-lang", default="en")
    p.add_argument(
        "--query-lang", default="und", help="language of TEXT (BM25 uses it to pick a stemmer)"
    )
    p.add_argument("-k", type=positive_int, default=10)
    p.add_argument("--json", action="store_true", help="one JSON object per model")
    p.set_defaults(func=cmd_search)


def cmd_search(args: argparse.Namespace) -> int:
    from clirlens.core.cli.evaluate import build_retrievers
    from clirlens.core.data.xquad import load_xquad
    from clirlens.core.errors import UserError
    from clirlens.core.progress import run_with_bar
    from clirlens.core.types import Query

    if not args.text.strip():
        raise UserError("the query text is empty")
    dataset = load_xquad(args.xquad, [args.doc_lang])
    corpus = dataset.passages(args.doc_lang)
    by_id = {p.id: p for p in corpus}
    query = Query("free-text", args.text, args.query_lang)
    for r in build_retrievers(args):
        run_with_bar(r.prepare(corpus), quiet=args.quiet)
        result = run_with_bar(r.search([query], args.k), quiet=True)
        hits = result.top(query.id)
        if args.json:
            print(
                json.dumps(
                    {
                        "model": r.name,
                        "query": args.text,
                        "hits": [
                            {
                                "rank": h.rank,
                                "score": h.score,
                                "passage_id": h.passage_id,
                                "text": by_id[h.passage_id].text,
                            }
                            for h in hits
                        ],
                    },
                    ensure_ascii=False,
                )
            )
            continue
        print(f"== {r.name}")
        for h in hits:
            text = " ".join(by_id[h.passage_id].text.split())
            print(f"{h.rank:3d}  {h.score:8.4f}  {h.passage_id}  {text[:100]}")
    return 0
