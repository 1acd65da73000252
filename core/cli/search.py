"""``clirlens search "text"``: one free-text query against an XQuAD or BEIR corpus."""

from __future__ import annotations

import argparse
import json
import sys

from clirlens.core.cli.common import Subcommands, add_data_args, add_model_args, positive_int


def add_parsers(sub: Subcommands) -> None:
    p = sub.add_parser(
        "search",
        help="search an XQuAD or BEIR corpus with free text",
        description="Encode TEXT as a query with each model and print the best passages of "
        "the DOC_LANGS corpus (the first of them).",
    )
    p.add_argument("text", help="the query")
    add_model_args(p)
    add_data_args(p, query_default="")
    p.add_argument("--top", type=positive_int, default=10, help="passages to print (default 10)")
    p.add_argument("--json", action="store_true", help="one JSON object per model")
    p.set_defaults(func=cmd_search)


def cmd_search(args: argparse.Namespace) -> int:
    from clirlens.core.cli.evaluate import open_workspace
    from clirlens.core.data.store import passage_map
    from clirlens.core.errors import UserError
    from clirlens.core.progress import run_with_bar
    from clirlens.core.types import Query
    from clirlens.core.workspace.workspace import FREE_TEXT_ID

    if not args.text.strip():
        raise UserError("the query text is empty")
    workspace = open_workspace(args)
    doc_lang = workspace.doc_langs[0]
    query_lang = workspace.query_langs[0] if args.query_langs else "und"  # its stemmer (BM25)
    # the first dense model encodes a new corpus while it is read: its bar is shown
    corpus = run_with_bar(workspace.corpus(doc_lang), quiet=args.quiet)
    by_id = passage_map(corpus)  # a stored corpus is looked up by id, not held
    query = Query(FREE_TEXT_ID, " ".join(args.text.split()), query_lang)
    for i, spec in enumerate(workspace.specs):
        retriever = workspace.retriever(i, doc_lang)
        run_with_bar(retriever.prepare(corpus), quiet=args.quiet)
        hits = run_with_bar(retriever.search([query], args.top), quiet=True).top(query.id)
        if args.json:
            record = {
                "model": spec.name,
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
            }
            print(json.dumps(record, ensure_ascii=False))
            continue
        print(f"== {spec.name}")
        for h in hits:
            text = " ".join(by_id[h.passage_id].text.split())
            print(f"{h.rank:3d}  {h.score:8.4f}  {h.passage_id}  {text[:100]}")
    sys.stdout.flush()
    return 0
