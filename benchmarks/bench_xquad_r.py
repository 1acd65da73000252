"""XQuAD-R (``clirlens eval --task xquad-r``): building it, its sentences, and two small
models scored on it cold and warm.

(a) Sentence counts per language by ICU (the chosen splitter) beside the counts LAReQA
    released for XQuAD-R (its README's table), and for Thai PyThaiNLP's ``crfcut`` when it
    is installed; the questions whose answer crosses a sentence boundary under each.
(b) Building XQuAD-R for the languages, then multilingual-e5-small and all-MiniLM-L6-v2
    scored on it twice in one process: cold (empty embedding cache) and warm; the times,
    the candidates, mAP@20 and the same-language gap.

Run: python benchmarks/bench_xquad_r.py [--langs ar,de,el,en,es,hi,ru,th,tr,vi,zh] [--subset N]
"""

from __future__ import annotations

import argparse
import tempfile
import time

from _common import test_model, xquad_dir

from clirlens.core.data.xquad import load_xquad
from clirlens.core.evaluation.lareqa import build_xquad_r, language_preference
from clirlens.core.models.spec import parse_model_arg
from clirlens.core.progress import run
from clirlens.core.retrieval.cache import Cache
from clirlens.core.retrieval.retriever import make_retriever
from clirlens.core.text.sentences import icu_sentences

LAREQA = {"ar": 1222, "de": 1276, "el": 1234, "en": 1180, "es": 1215, "hi": 1244, "ru": 1219,
          "th": 852, "tr": 1167, "vi": 1209, "zh": 1196}  # fmt: skip


def crossing(xq, lang, split) -> tuple[int, int]:
    """(sentences, answers crossing a boundary) of ``lang`` under ``split``."""
    n = bad = 0
    bounds = {}
    for p in xq.passages(lang):
        spans = split(p.text, lang)
        n += len(spans)
        bounds[p.id] = spans
    gold = xq.task(lang, lang).qrels.data
    for qid, answers in xq.answers(lang).items():
        a = answers[0]
        spans = bounds[next(iter(gold[qid]))]
        bad += not any(s <= a.start and a.end <= e for s, e in spans)
    return n, bad


def crfcut(text: str, lang: str):
    from pythainlp.tokenize import sent_tokenize

    out, pos = [], 0
    for s in sent_tokenize(text, engine="crfcut"):
        i = text.find(s, pos)
        if s.strip():
            out.append((i, i + len(s)))
        pos = i + len(s)
    return tuple(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--langs", default="ar,de,el,en,es,hi,ru,th,tr,vi,zh")
    ap.add_argument("--subset", type=int, default=None)
    args = ap.parse_args()
    langs = args.langs.split(",")
    xq = load_xquad(xquad_dir(), langs)
    print("(a) sentences per language: ICU (chosen) against LAReQA's released XQuAD-R")
    print(f"    {'lang':5}{'ICU':>7}{'LAReQA':>8}{'ratio':>7}{'answers cut':>13}")
    for lang in langs:
        n, bad = crossing(xq, lang, icu_sentences)
        print(f"    {lang:5}{n:7d}{LAREQA.get(lang, 0):8d}{n / LAREQA.get(lang, n):7.2f}{bad:13d}")
    if "th" in langs:
        try:
            n, bad = crossing(xq, "th", crfcut)
            print(f"    th with PyThaiNLP crfcut: {n} sentences, {bad} answers cut")
        except ImportError as exc:
            print(f"    th with PyThaiNLP crfcut: not measured ({exc.name} not installed)")
    t0 = time.perf_counter()
    task = build_xquad_r(xq, langs, args.subset)
    built = time.perf_counter() - t0
    print(f"(b) built in {built:.2f} s: {len(task.answers)} of {task.questions} questions, "
          f"{len(task.candidates)} candidates, dropped {dict(task.dropped)}")  # fmt: skip
    cache = Cache(tempfile.mkdtemp())
    models = [
        f"me5-small={test_model('multilingual-e5-small')}",
        str(test_model("all-MiniLM-L6-v2")),
    ]
    for arg in models:
        times = []
        for _ in ("cold", "warm"):
            retriever = make_retriever(parse_model_arg(arg), cache=cache)
            t0 = time.perf_counter()
            result = run(language_preference(retriever, task))
            times.append(time.perf_counter() - t0)
        print(f"    {result.model}: cold {times[0]:.1f} s, warm {times[1]:.2f} s "
              f"({times[0] / times[1]:.0f}x); mAP@20 {result.mean_map20:.3f}, same-language "
              f"gap {result.mean_gap:+.1f} ranks")  # fmt: skip
        print("      mAP@20 per query language: "
              + ", ".join(f"{q} {v:.3f}" for q, v in result.map20.items()))  # fmt: skip


if __name__ == "__main__":
    main()
