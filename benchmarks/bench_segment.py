"""Word segmenters for words-mode alignment on XQuAD's unspaced scripts.

For every Thai (and Chinese) question and paragraph of XQuAD, each segmenter's
(a) speed: time per 1,000 texts, and the ratio against ICU run in the same process;
(b) words per text;
(c) agreement with ICU: F1 of the word boundaries (cut positions) it places;
(d) fit to the model's pieces: the share of multilingual-e5-small's content pieces lying
    inside one word (a piece crossing a word boundary feeds two words' vectors).

Segmenters: ICU word boundaries (PyICU), PyThaiNLP's ``newmm`` (Thai only; skipped if not
installed: ``pip install pythainlp``), and the whitespace fallback.

Run: python benchmarks/bench_segment.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import time

from _common import test_model, xquad_dir
from transformers import AutoTokenizer

from clirlens.core.data.xquad import load_xquad
from clirlens.core.text.segment import icu_words, plain_words


def newmm_words(text: str):
    from pythainlp.tokenize import word_tokenize

    spans, at = [], 0
    for w in word_tokenize(text, engine="newmm", keep_whitespace=False):
        start = text.index(w, at)
        spans.append((start, start + len(w)))
        at = start + len(w)
    return tuple(spans)


def cuts(spans) -> set[int]:
    return {c for s in spans for c in s}


def f1(a: set[int], b: set[int]) -> float:
    hit = len(a & b)
    return 2 * hit / (len(a) + len(b)) if a or b else 1.0


def inside_share(spans, pieces) -> float:
    """Share of pieces whose characters fall inside one word."""
    inside = total = 0
    for ps, pe in pieces:
        if pe <= ps:
            continue
        total += 1
        inside += any(ws <= ps and pe <= we for ws, we in spans)
    return inside / total if total else 1.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    xq = load_xquad(xquad_dir(), ["th", "zh"])
    tok = AutoTokenizer.from_pretrained(test_model("multilingual-e5-small"))
    segmenters = {"icu": icu_words, "whitespace": plain_words}
    try:
        import pythainlp  # noqa: F401

        segmenters["pythainlp-newmm"] = newmm_words
    except ImportError:
        print("pythainlp not installed: newmm skipped")
    for lang in ("th", "zh"):
        texts = [q.text for q in xq.queries(lang)] + [p.text for p in xq.passages(lang)]
        enc = tok(texts, add_special_tokens=False, return_offsets_mapping=True)
        pieces = enc["offset_mapping"]
        ref = [icu_words(t) for t in texts]
        print(f"\n{lang}: {len(texts)} texts ({sum(map(len, texts)) / 1e3:.0f}k characters)")
        print(
            f"{'segmenter':18} {'ms/1k texts':>12} {'vs icu':>7} {'words/text':>11} "
            f"{'F1 vs icu':>10} {'pieces inside':>14}"
        )
        base = None
        for name, fn in segmenters.items():
            if name == "pythainlp-newmm" and lang != "th":
                continue
            fn(texts[0])  # load dictionaries before the clock starts
            best = float("inf")
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                out = [fn(t) for t in texts]
                best = min(best, time.perf_counter() - t0)
            base = base or best
            ms = 1e6 * best / len(texts)
            n_words = sum(map(len, out)) / len(texts)
            agree = sum(f1(cuts(a), cuts(b)) for a, b in zip(out, ref, strict=True)) / len(texts)
            fit = sum(inside_share(s, p) for s, p in zip(out, pieces, strict=True)) / len(texts)
            print(
                f"{name:18} {ms:12.1f} {best / base:6.2f}x {n_words:11.1f} "
                f"{agree:10.3f} {fit:14.3f}"
            )


if __name__ == "__main__":
    main()
